"""`fireline serve` SIGKILLed mid-load loses nothing and duplicates nothing.

The bench (bench/intake_load.py) at a CI-sized scale: 400 signed GitHub webhooks,
10 concurrent senders that retry until a 2xx as GitHub does, one SIGKILL of the real
server process halfway and an immediate restart on the same port and store. Afterwards
the store must hold each delivery exactly once and every deployment normalised. No
timing is asserted: CI machines vary; the figures belong to the bench.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bench.intake_check import check_store
from bench.intake_events import make_events
from bench.intake_send import send_all
from bench.intake_server import Server, fireline_argv, free_port, server_env, wait_drained

SECRET = "test-github-secret"
EVENTS = 400
CONCURRENCY = 10


def crash_run(db: str, workdir: Path) -> None:
    events = make_events(EVENTS, SECRET, seed=11)
    port = free_port()
    log = workdir / "server.log"
    with Server(fireline_argv(port, db), port, log, env=server_env(SECRET), cwd=workdir) as server:
        server.start()
        report = asyncio.run(send_all(f"{server.url}/webhooks/github", events, CONCURRENCY, kills=1,
                                      restart=server.restart, give_up=60))
        wait_drained(server.url, timeout=120)
        # Graceful stop: uvicorn re-raises SIGTERM after its shutdown, so -15 is a clean exit too.
        assert server.stop() in (0, -signal.SIGTERM), log.read_text()[-2000:]
    # The kill really happened mid-run, and the senders had to retry through it.
    assert server.starts == 2
    assert report.kill_at and 0 < report.kill_at[0] < EVENTS
    assert report.retries > 0, report.summary()
    assert report.acked == EVENTS
    verdict = check_store(db, (e.delivery_id for e in events), (e.deployment_id for e in events))
    assert verdict.lost == 0, verdict
    assert verdict.duplicated == 0, verdict
    assert verdict.raw_rows == EVENTS, verdict
    assert verdict.not_normalised == 0 and verdict.normalise_errors == 0, verdict
    assert verdict.deployments == EVENTS and verdict.missing_deployments == 0, verdict
    assert verdict.ok


def test_sigkill_mid_load_loses_and_duplicates_nothing_on_duckdb(tmp_path: Path) -> None:
    crash_run(str(tmp_path / "fireline.duckdb"), tmp_path)


@pytest.mark.postgres
def test_sigkill_mid_load_loses_and_duplicates_nothing_on_postgres(tmp_path: Path, pg_url: str) -> None:
    crash_run(pg_url, tmp_path)
