"""Group commit: raw events that arrive while a commit is running share the next one.

A commit (a WAL flush) costs milliseconds; one per request caps an intake at a few
hundred events a second. Every request still gets its answer only after the commit
that holds its event, so an acknowledged event is durable.

A request whose rows the store refuses fails alone: when a batch fails, it is split in halves
and each half is committed on its own, down to the single request at fault, so one bad event
costs the others a few more commits, never their answer. A refusal that is the input's fault
(the store's data, integrity or size limits) becomes `RowRefused`, which the intake answers
with a 422; anything else (the database is gone) stays an error of the server.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..store import Store

_STOP = object()
# Refusals of a row by the store, by class name along the exception's MRO: psycopg's data, integrity
# and size errors (SQLSTATE classes 22, 23, 54), DuckDB's conversions, and the driver's encoding
# errors (a lone surrogate cannot be UTF-8).
_ROW_ERRORS = {"DataError", "IntegrityError", "ProgramLimitExceeded", "InvalidInputException",
               "ConversionException", "OutOfRangeException", "ValueError"}


class RowRefused(Exception):
    """The store refused this request's rows: the input's fault, not the server's."""

    def __init__(self, cause: BaseException) -> None:
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        super().__init__(f"the store refused this event: {first[:200]}")


def is_row_error(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None) or ""
    if state[:2] in ("22", "23", "54"):
        return True
    return any(cls.__name__ in _ROW_ERRORS for cls in type(exc).__mro__)


class GroupCommitter:
    def __init__(self, store: Callable[[], Store], lock: threading.Lock, max_batch: int = 500) -> None:
        self._store = store
        self._lock = lock
        self._max = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fireline-group-commit", daemon=True)
        self._resume = threading.Event()
        self._resume.set()
        self._held = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._resume.set()
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    @property
    def waiting(self) -> int:
        """Requests submitted and not yet taken into a batch."""
        return self._queue.qsize() + self._held

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Requests queue up while paused and are committed together after (tests use it to build a batch)."""
        self._resume.clear()
        try:
            yield
        finally:
            self._resume.set()

    async def submit(self, rows: list[tuple]) -> int:
        """Store raw-event rows; returns how many were new. Returns after the commit.

        Raises RowRefused when the store refuses these rows (the input's fault)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._queue.put((rows, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            self._held = 1
            self._resume.wait()
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
            self._held = 0
            outcomes = self.commit_batch([rows for rows, _f, _l in batch])
            for (_rows, future, loop), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    loop.call_soon_threadsafe(_fail, future, outcome)
                else:
                    loop.call_soon_threadsafe(_settle, future, outcome)

    def commit_batch(self, requests: list[list[tuple]]) -> list[int | BaseException]:
        """Commit the requests' rows in one transaction; per request, how many rows were new or why it failed.

        A failed batch is split in halves, each committed on its own, so only the requests at fault fail."""
        try:
            new = self._insert([row for rows in requests for row in rows])
        except Exception as exc:
            if len(requests) > 1:
                half = len(requests) // 2
                return self.commit_batch(requests[:half]) + self.commit_batch(requests[half:])
            return [RowRefused(exc) if is_row_error(exc) else exc]
        # A key counts as stored for the first request that carried it; a second request with the
        # same delivery id in the same batch is a re-delivery.
        counts: list[int | BaseException] = []
        for rows in requests:
            count = 0
            for row in rows:
                key = (row[0], row[1])  # raw_events' key: source, delivery id
                if key in new:
                    new.discard(key)
                    count += 1
            counts.append(count)
        return counts

    def _insert(self, rows: list[tuple]) -> set[tuple]:
        for attempt in range(5):
            try:
                with self._lock:
                    store = self._store()
                    with store.transaction() as tx:
                        return tx.insert_values("raw_events", rows)
            except Exception as exc:  # a write conflict with the normaliser: try again
                if attempt < 4 and "conflict" in str(exc).lower():
                    time.sleep(0.01 * (attempt + 1))
                    continue
                raise
        raise AssertionError("unreachable")


def _settle(future: asyncio.Future, count: int) -> None:
    if not future.done():
        future.set_result(count)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
