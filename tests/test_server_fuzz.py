"""Fuzz the intake API from its own OpenAPI spec with schemathesis: never a 5xx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_server(tmp_path):
    port = _port()
    env = {**os.environ, "FIRELINE_GITHUB_SECRET": "s", "FIRELINE_GITLAB_TOKEN": "t",
           "FIRELINE_PAGERDUTY_SECRET": "p", "FIRELINE_INGEST_TOKEN": "i"}
    proc = subprocess.Popen([sys.executable, "-m", "fireline.cli", "serve", "--port", str(port),
                             "--db", str(tmp_path / "fuzz.duckdb")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"server did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.1)
    yield base
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    # A crash inside a handler is logged by uvicorn even when the client got an answer.
    assert "Traceback" not in out, out


@pytest.mark.parametrize("auth", ["none", "bearer"])
def test_no_server_errors(running_server, tmp_path, auth):
    headers = ["-H", "Authorization: Bearer i"] if auth == "bearer" else []
    run = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{running_server}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "40", *headers],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
