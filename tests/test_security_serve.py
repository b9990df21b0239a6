"""`fireline serve` as a process: which addresses count as loopback, what the start says, what
the access log keeps, how long a silent connection may stay open."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.intake_server import Server, free_port
from fireline.server.auth import bound_addresses, is_loopback

NO_SECRETS = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}


def _serve(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fireline.cli", "serve", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**NO_SECRETS, **(env or {})}, check=False)


@pytest.mark.parametrize("host", ["", " ", "0.0.0.0", "::", "[::]"])
def test_every_interface_is_not_loopback(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_addresses_and_names(host):
    assert is_loopback(host)


def test_a_name_is_resolved_the_way_it_will_be_bound():
    assert bound_addresses("") == ["0.0.0.0", "::"]
    assert set(bound_addresses("localhost")) <= {"127.0.0.1", "::1"}
    assert bound_addresses("no-such-host.invalid") == [] and not is_loopback("no-such-host.invalid")


@pytest.mark.parametrize("host", ["", "::"])
def test_refuses_every_interface_without_secrets(tmp_path, host):
    # `--host ""` used to pass as loopback: it bound every interface and took unsigned events.
    run = _serve(tmp_path, "--host", host, "--port", str(free_port()), "--db", str(tmp_path / "s.duckdb"))
    assert run.returncode == 2, run.stderr
    assert "--host" in run.stderr and "refusing to listen" in run.stderr and "Traceback" not in run.stderr


def _started(tmp_path: Path, env: dict[str, str], *extra: str) -> tuple[Server, Path]:
    port = free_port()
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "fireline.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--db", str(tmp_path / "s.duckdb"), *extra]
    server = Server(argv, port, log, env=env, cwd=tmp_path)
    server.start()
    return server, log


def test_loopback_without_secrets_warns_that_unsigned_deliveries_are_accepted(tmp_path):
    server, log = _started(tmp_path, NO_SECRETS)
    try:
        text = log.read_text()
        assert "unsigned deliveries are accepted" in text, text
        assert "/events" in text and "/webhooks/github" in text
    finally:
        server.stop()


def test_no_warning_when_every_sender_has_a_secret(tmp_path):
    env = {**NO_SECRETS, "FIRELINE_GITHUB_SECRET": "g", "FIRELINE_GITLAB_TOKEN": "t",
           "FIRELINE_PAGERDUTY_SECRET": "p", "FIRELINE_INGEST_TOKEN": "i"}
    server, log = _started(tmp_path, env)
    try:
        assert "unsigned deliveries" not in log.read_text()
    finally:
        server.stop()


def test_the_read_token_never_reaches_the_access_log(tmp_path):
    # On loopback the dashboard is open, so ?token= is not needed; it is still a secret in a URL.
    env = {**NO_SECRETS, "FIRELINE_READ_TOKEN": "s3cret-read-token", "FIRELINE_INGEST_TOKEN": "i"}
    server, log = _started(tmp_path, env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.get("/healthz", params={"token": "s3cret-read-token", "team": "a"})
            client.get("/healthz", params={"team": "b", "token": "s3cret-read-token"})
            client.get("/healthz?token=s3cret-read-token&token=s3cret-read-token")
    finally:
        server.stop()
    text = log.read_text()
    assert "GET /healthz?token=[redacted]&team=a" in text, text
    assert "GET /healthz?team=b&token=[redacted]" in text
    assert "s3cret-read-token" not in text


def _read_response(conn: socket.socket) -> bytes:
    """One whole answer (headers and a Content-Length body), however the segments arrive."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)
    return data


def test_a_connection_that_never_finishes_its_headers_is_closed(tmp_path):
    # 300 half-open connections used to stay open for good (uvicorn has no header timeout).
    (tmp_path / "fireline.toml").write_text("[server]\nheader_timeout_seconds = 1\n")
    env = {**NO_SECRETS, "FIRELINE_INGEST_TOKEN": "i"}
    server, _log = _started(tmp_path, env)
    try:
        silent = socket.create_connection(("127.0.0.1", server.port))
        partial = socket.create_connection(("127.0.0.1", server.port))
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        with httpx.Client(base_url=server.url) as client:  # a keep-alive client that goes quiet after one answer
            assert client.get("/healthz").status_code == 200
        idle = socket.create_connection(("127.0.0.1", server.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        idle.settimeout(60)
        assert _read_response(idle).startswith(b"HTTP/1.1 200")
        idle.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request starts and stalls
        for conn in (silent, partial, idle):
            conn.settimeout(60)  # a bound for a broken build, not a timing assertion
            assert conn.recv(65536) == b""  # closed by the server
            conn.close()
    finally:
        server.stop()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent (init now) has not reaped it yet


@pytest.mark.postgres
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_supervisor_and_the_port_is_free_again(tmp_path, pg_url):
    # A SIGKILL to the supervisor of `--workers 2` left the workers serving; a restart then failed
    # with "Address already in use".
    port = free_port()
    argv = [sys.executable, "-m", "fireline.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2", "--db", pg_url]
    env = {**NO_SECRETS, "FIRELINE_INGEST_TOKEN": "tok"}
    first = Server(argv, port, tmp_path / "first.log", env=env, cwd=tmp_path)
    first.start()
    assert first.proc is not None
    workers = _children(first.proc.pid)
    assert len(workers) >= 2, workers
    try:
        first.proc.kill()
        first.proc.wait(timeout=30)
        deadline = time.monotonic() + 60  # a bound for a broken build, not a timing assertion
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], (tmp_path / "first.log").read_text()[-2000:]
        second = Server(argv, port, tmp_path / "second.log", env=env, cwd=tmp_path)
        second.start()
        try:
            event = {"id": "after-restart", "type": "deployment", "time": "2026-03-02T10:00:00Z",
                     "service": "shop", "sha": "abcdef1"}
            answer = httpx.post(f"{second.url}/events", json=event, headers={"authorization": "Bearer tok"})
            assert answer.status_code == 202
        finally:
            second.stop()
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
