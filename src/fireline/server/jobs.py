"""Periodic jobs inside `fireline serve`: each runs every `interval` seconds, or at once when asked.

One thread per job, so a job never overlaps itself (one sync at a time per repository) and a slow
job never delays another. A job that raises is logged, its error kept for /healthz, and retried
with back-off (doubling from min(interval, 30 s), at most max(interval, 1 hour)); the server goes on.
`run_now` during a run is remembered: the job runs once more right after, so no push is missed.
Repository sync (sync.py) registers here; digests and metric refreshes can too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("fireline.server")
FIRST_RETRY = 30.0  # seconds, at most
MAX_BACKOFF = 3600.0


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


@dataclass
class Job:
    name: str
    interval: float
    work: Callable[[], Any]
    kind: str = "job"  # what /healthz groups it under ("repository": its key is the repository's name)
    key: str = ""
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    runs: int = 0
    running: bool = False
    next_attempt: datetime | None = None
    wake: threading.Event = field(default_factory=threading.Event)

    def delay(self) -> float:
        """Seconds to the next run: the interval, or the back-off after `failures` failures in a row."""
        if not self.failures:
            return self.interval
        first = min(self.interval, FIRST_RETRY)
        return min(first * 2 ** (self.failures - 1), max(self.interval, MAX_BACKOFF))

    def status(self) -> dict[str, Any]:
        return {"last_success": _iso(self.last_success), "last_error": self.last_error,
                "last_error_at": _iso(self.last_error_at), "failures": self.failures, "runs": self.runs,
                "running": self.running, "next_attempt": _iso(self.next_attempt)}


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def add(self, name: str, interval: float, work: Callable[[], Any], *, kind: str = "job", key: str = "",
            first: float = 0.0) -> Job:
        """Register a job; it first runs `first` seconds after start."""
        job = Job(name=name, interval=interval, work=work, kind=kind, key=key or name)
        job.next_attempt = datetime.now(UTC) + timedelta(seconds=first)
        with self._lock:
            if name in self._jobs:
                raise ValueError(f"a job named {name!r} is already registered")
            self._jobs[name] = job
            if self._threads:  # added after start: its thread starts now
                self._start(job)
        return job

    def run_now(self, name: str) -> bool:
        job = self._jobs.get(name)
        if job is None:
            return False
        job.wake.set()
        return True

    def start(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                self._start(job)

    def _start(self, job: Job) -> None:
        thread = threading.Thread(target=self._loop, args=(job,), name=f"fireline-job-{job.name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask every job to stop and wait for the runs under way to finish (a sync commits or rolls back)."""
        self._stop.set()
        for job in self._jobs.values():
            job.wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def status(self, kind: str | None = None) -> dict[str, dict[str, Any]]:
        return {job.key if kind else job.name: job.status() for job in self._jobs.values()
                if kind is None or job.kind == kind}

    def _loop(self, job: Job) -> None:
        while not self._stop.is_set():
            wait = (job.next_attempt - datetime.now(UTC)).total_seconds() if job.next_attempt else 0.0
            if wait > 0:
                job.wake.wait(wait)
            if self._stop.is_set():
                return
            job.wake.clear()
            job.running = True
            try:
                job.work()
            except Exception as exc:  # never let a job end the server: log, show, retry later
                job.failures += 1
                job.last_error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
                job.last_error_at = datetime.now(UTC)
                log.warning("job %s failed (attempt %d): %s", job.name, job.failures, job.last_error)
            else:
                job.failures = 0
                job.last_success = datetime.now(UTC)
            finally:
                job.running = False
                job.runs += 1
            job.next_attempt = datetime.now(UTC) + timedelta(seconds=job.delay())
