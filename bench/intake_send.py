"""Send webhooks the way GitHub does: concurrently, retrying until a 2xx, through server crashes.

`send_all` keeps `concurrency` requests in flight. A connection error, a timeout or a 5xx
is retried with a short, jittered backoff (GitHub redelivers an event that did not get a
2xx; the delivery id stays the same, so the server must treat the copy as a duplicate).
A 4xx is a bug in the bench or the server and stops the run: retrying it would hide it.
While sending, `restart` can be called at evenly spaced points to SIGKILL the server and
start it again.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


class Request(Protocol):
    delivery_id: str
    body: bytes
    headers: dict[str, str]


@dataclass
class SendReport:
    events: int
    concurrency: int
    wall_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # the sender shares the machine with the server: say how much it took
    acked: int = 0
    retries: int = 0
    duplicates_answered: int = 0  # "duplicate": stored, but the answer died with the server; re-sent
    latencies: list[float] = field(default_factory=list)  # seconds, successful attempts only
    acked_at: list[float] = field(default_factory=list)  # seconds since the start, per 2xx, in order
    failures: Counter[str] = field(default_factory=Counter)  # why attempts were retried
    kill_at: list[int] = field(default_factory=list)  # acknowledged events when each kill happened
    restart_seconds: list[float] = field(default_factory=list)  # SIGKILL until /healthz answers again
    gap_seconds: list[float] = field(default_factory=list)  # SIGKILL until the next acknowledged event

    def summary(self) -> dict[str, Any]:
        net = self.wall_seconds - sum(self.gap_seconds)
        return {
            "events": self.events, "concurrency": self.concurrency, "acked": self.acked,
            "wall_seconds": round(self.wall_seconds, 3), "client_cpu_seconds": round(self.client_cpu_seconds, 2),
            "gap_seconds": [round(g, 3) for g in self.gap_seconds],
            "restart_seconds": [round(r, 3) for r in self.restart_seconds], "kill_at_acked": self.kill_at,
            "throughput": round(self.acked / self.wall_seconds, 1) if self.wall_seconds else None,
            "throughput_net_of_gaps": round(self.acked / net, 1) if net > 0 else None,
            "p50_ms": _ms(percentile(self.latencies, 50)), "p99_ms": _ms(percentile(self.latencies, 99)),
            "max_ms": _ms(max(self.latencies, default=None)),
            # A rate that falls from the first to the last fifth means a cost that grows with the store.
            "throughput_first_fifth": _rate(self.acked_at, 0), "throughput_last_fifth": _rate(self.acked_at, 4),
            "retries": self.retries, "duplicates_answered": self.duplicates_answered,
            "retry_reasons": dict(self.failures.most_common()),
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Interpolated, like percentile_cont; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if q < 100 else max(values)


def _rate(times: list[float], fifth: int) -> float | None:
    """Acknowledgements per second within one fifth of them (0 = the first fifth)."""
    size = len(times) // 5
    if size < 2:
        return None
    chunk = times[fifth * size:(fifth + 1) * size]
    return round((len(chunk) - 1) / (chunk[-1] - chunk[0]), 1) if chunk[-1] > chunk[0] else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def kill_points(events: int, kills: int) -> list[int]:
    """Acknowledged-event counts at which to kill: evenly spaced, e.g. 1/3 and 2/3 for two kills."""
    return [events * k // (kills + 1) for k in range(1, kills + 1)]


async def send_all(url: str, events: Sequence[Request], concurrency: int, *, kills: int = 0,
                   restart: Callable[[], float] | None = None, timeout: float = 10.0,
                   give_up: float = 300.0, seed: int = 7) -> SendReport:
    """POST every event to `url` until each gets a 2xx; SIGKILL/restart `kills` times via `restart`."""
    if kills and restart is None:
        raise ValueError("kills need a restart callable")
    report = SendReport(len(events), concurrency)
    rng = random.Random(seed)
    queue = iter(events)  # shared by the workers; asyncio runs one at a time, so next() is safe
    points = kill_points(len(events), kills)
    killing: asyncio.Task[None] | None = None
    gap_since: float | None = None  # set at a kill, cleared by the first 2xx after the restart
    back_up = True

    async def kill_and_restart() -> None:
        nonlocal gap_since, back_up
        assert restart is not None
        back_up = False
        gap_since = time.perf_counter()
        report.kill_at.append(report.acked)
        # The restart blocks (Popen, then polling /healthz); a thread keeps the senders retrying meanwhile.
        report.restart_seconds.append(await asyncio.to_thread(restart))
        back_up = True

    async def one(client: httpx.AsyncClient, event: Request) -> None:
        nonlocal killing, gap_since
        attempt, first = 0, time.perf_counter()
        while True:
            began = time.perf_counter()
            try:
                response = await client.post(url, content=event.body, headers=event.headers)
            except httpx.TransportError as exc:  # refused, reset, timed out: the server may be down
                reason = type(exc).__name__
            else:
                if 200 <= response.status_code < 300:
                    break
                if response.status_code < 500:
                    raise RuntimeError(f"{event.delivery_id}: HTTP {response.status_code}: {response.text[:300]}")
                reason = f"HTTP {response.status_code}"
            report.failures[reason] += 1
            report.retries += 1
            attempt += 1
            # Never retry forever: a restart that failed, or a server that stays down, ends the run.
            if killing is not None and killing.done() and killing.exception():
                raise RuntimeError("the server restart failed") from killing.exception()
            if time.perf_counter() - first > give_up:
                raise RuntimeError(f"{event.delivery_id}: no 2xx after {give_up:.0f} s ({reason})")
            await asyncio.sleep(min(1.0, 0.02 * 2 ** min(attempt, 6)) * rng.uniform(0.5, 1.0))
        done = time.perf_counter()
        report.latencies.append(done - began)
        report.acked_at.append(done - started)
        report.acked += 1
        if response.json().get("status") == "duplicate":
            report.duplicates_answered += 1
        if gap_since is not None and back_up:
            report.gap_seconds.append(done - gap_since)
            gap_since = None
        if points and report.acked >= points[0] and (killing is None or killing.done()):
            points.pop(0)
            killing = asyncio.create_task(kill_and_restart())

    async def worker() -> None:
        # One client with one keep-alive connection per worker: one shared pool of `concurrency`
        # connections costs httpx more CPU than the bare server spends (bare endpoint, concurrency 50,
        # this machine: 312 req/s shared against 809 req/s per worker), so the baseline would measure
        # the client.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            for event in queue:
                await one(client, event)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    report.wall_seconds = time.perf_counter() - started
    report.client_cpu_seconds = time.process_time() - cpu  # includes restart threads: negligible
    if killing is not None:
        await killing  # surfaces a failed restart
    return report
