"""Group commit: raw events that arrive while a commit is running share the next one.

A commit (a WAL flush) costs milliseconds; one per request caps an intake at a few
hundred events a second. Every request still gets its answer only after the commit
that holds its event, so an acknowledged event is durable.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..store import Store

_STOP = object()


class GroupCommitter:
    def __init__(self, store: Callable[[], Store], lock: threading.Lock, max_batch: int = 500) -> None:
        self._store = store
        self._lock = lock
        self._max = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fireline-group-commit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    async def submit(self, rows: list[tuple]) -> int:
        """Store raw-event rows; returns how many were new. Returns after the commit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._queue.put((rows, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self._max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[list[tuple], asyncio.Future, Any]]) -> None:
        for attempt in range(5):
            try:
                with self._lock:
                    store = self._store()
                    with store.transaction() as tx:
                        new = tx.insert_values("raw_events", [row for rows, _f, _l in batch for row in rows])
                break
            except Exception as exc:  # a write conflict with the normaliser: try the batch again
                if attempt < 4 and "conflict" in str(exc).lower():
                    time.sleep(0.01 * (attempt + 1))
                    continue
                for _rows, future, loop in batch:
                    loop.call_soon_threadsafe(_fail, future, exc)
                return
        # A key counts as stored for the first request that carried it; a second request with the
        # same delivery id in the same batch is a re-delivery.
        for rows, future, loop in batch:
            count = 0
            for row in rows:
                key = (row[0], row[1])  # raw_events' key: source, delivery id
                if key in new:
                    new.discard(key)
                    count += 1
            loop.call_soon_threadsafe(_settle, future, count)


def _settle(future: asyncio.Future, count: int) -> None:
    if not future.done():
        future.set_result(count)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
