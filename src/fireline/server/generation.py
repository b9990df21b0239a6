"""What the dashboard's pages of one store generation share: marker scans and the repositories' histories,
computed once whichever page (or the worker's prefetch thread, precompute.py) asks first."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..debt.markers import ScanResult
from ..debt.report import ScanCache
from ..store import Store
from ..store.state import CacheWrites


class GenerationScans(ScanCache):
    """The marker scans of one store generation: the first page that needs a repository's markers reads
    git (in the worker) through the server's long-lived cache, which starts from the scan kept in the
    store; every later page of the generation reads none, not even `git rev-parse HEAD`. The same goes
    for what else the generation's pages share (`get`: the repositories' histories, app/report/context).

    Thread-safe: the round's scans and histories start in a thread of their own (`Precompute`'s
    prefetch) while the worker computes the overview's figures, and a page that needs one still under
    way waits for it instead of computing it again."""

    def __init__(self, cache: ScanCache) -> None:
        super().__init__()
        self._cache = cache
        self._memo: dict[tuple, Future[Any]] = {}

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._memo.get(key)
            mine = future is None
            if future is None:
                future = self._memo[key] = Future()
        if not mine:
            try:
                return future.result()
            except Exception:  # the other thread's attempt failed: this one tries again, and says why if it fails too
                with self._lock:
                    if self._memo.get(key) is future:
                        del self._memo[key]
                return self.get(key, compute)
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._memo[key]
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value

    def scan(self, path: Path, *, repo: str, words: list[str], max_bytes: int,
             generated: list[str] | None = None, store: Store | None = None) -> ScanResult:
        # The scan kept in the store is read (a restart does not blame every marked file again) and
        # written through CacheWrites: a kept scan is not new data, so it starts no new generation.
        def scan() -> ScanResult:
            return self._cache.scan(path, repo=repo, words=words, max_bytes=max_bytes, generated=generated,
                                    store=CacheWrites(store) if store is not None else None)

        result: ScanResult = self.get(("scan", repo, str(path), tuple(words), max_bytes, tuple(generated or ())),
                                      scan)
        self.scans = self._cache.scans
        return result
