"""Fuzz the intake API from its own OpenAPI spec with schemathesis: never a 5xx, and with every check
(`--checks all`): a request the published schema calls valid is accepted, one it calls invalid is refused."""

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


ALL_SECRETS = {"FIRELINE_GITHUB_SECRET": "s", "FIRELINE_GITLAB_TOKEN": "t", "FIRELINE_PAGERDUTY_SECRET": "p",
               "FIRELINE_INGEST_TOKEN": "i"}
# Schemathesis cannot sign bodies: GitHub and PagerDuty go unsigned (accepted on loopback without a secret),
# GitLab and the bearer routes get their tokens as headers, so every operation is exercised past its auth.
TOKENS_ONLY = {"FIRELINE_GITLAB_TOKEN": "t", "FIRELINE_INGEST_TOKEN": "i"}


@pytest.fixture
def running_server(tmp_path, request):
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env.update(getattr(request, "param", ALL_SECRETS))
    # A file, not a pipe: nobody reads a pipe during the run, and a full one blocks the server's log writes.
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fireline.cli", "serve", "--port", str(port),
                                 "--db", str(tmp_path / "fuzz.duckdb")], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=30)
    out = log.read_text()
    # A crash inside a handler is logged by uvicorn even when the client got an answer.
    assert "Traceback" not in out, out[-4000:]


def _schemathesis(base: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json", "--max-examples", "40",
         "--seed", "1", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"})


def test_no_server_errors_without_credentials(running_server, tmp_path):
    run = _schemathesis(running_server, tmp_path, "--checks", "not_a_server_error")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.parametrize("running_server", [TOKENS_ONLY], indirect=True)
def test_every_check_passes_with_no_warnings(running_server, tmp_path):
    tokens = ["-H", "Authorization: Bearer i", "-H", "X-Gitlab-Token: t"]
    runs = [_schemathesis(running_server, tmp_path, "--checks", "all", "--exclude-path", "/events", *tokens),
            # /events' model also compares fields (an incident's `started` is not after its `time`), which a
            # JSON Schema cannot say: schema-valid events may be refused there, every other check holds.
            _schemathesis(running_server, tmp_path, "--checks", "all", "--exclude-checks",
                          "positive_data_acceptance", "--include-path", "/events", *tokens)]
    for run in runs:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert "Warnings:" not in run.stdout and "WARNINGS" not in run.stdout, run.stdout[-4000:]
