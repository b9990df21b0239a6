"""Processes for the intake bench: `fireline serve`, the bare baseline, and a throwaway PostgreSQL.

The servers run as real subprocesses so that SIGKILL means what it means in production:
no `finally`, no lifespan shutdown, no flush; whatever the store committed is all there is.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fireline_argv(port: int, db: str) -> list[str]:
    return [sys.executable, "-m", "fireline.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]


def bare_argv(port: int) -> list[str]:
    return [sys.executable, str(HERE / "intake_bare.py"), "--host", "127.0.0.1", "--port", str(port)]


def server_env(secret: str) -> dict[str, str]:
    # Drop the caller's FIRELINE_* settings (a DB URL, a config file) so only the flags count.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["FIRELINE_GITHUB_SECRET"] = secret
    return env


class Server:
    """One server on a fixed port that can be SIGKILLed and restarted on the same port and store."""

    def __init__(self, argv: list[str], port: int, log: Path, *, env: dict[str, str], cwd: Path) -> None:
        self.argv, self.port, self.log, self.env, self.cwd = argv, port, log, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until /healthz answers 200; returns the seconds that took."""
        began = time.perf_counter()
        # A file, not a pipe: nobody reads a pipe while the bench runs, and a full pipe blocks the server.
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                         cwd=self.cwd)
        self.starts += 1
        self.wait_ready(timeout)
        return time.perf_counter() - began

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL, the crash a graceful shutdown never rehearses, and reap the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self) -> float:
        """Kill, then start again on the same port and store; returns seconds from kill to ready."""
        began = time.perf_counter()
        self.kill()
        self.start()
        return time.perf_counter() - began

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM: uvicorn's graceful shutdown (the normaliser stops, the store is closed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()  # only this server's own process; a no-op after stop()


def wait_drained(url: str, timeout: float = 900.0) -> float:
    """Poll /healthz until the normaliser has no pending raw event; returns the seconds waited."""
    began = time.perf_counter()
    with httpx.Client(timeout=30.0) as client:
        while time.perf_counter() - began < timeout:
            try:
                body = client.get(f"{url}/healthz").json()
                if body.get("status") == "ok" and body.get("pending") == 0:
                    return time.perf_counter() - began
            except (httpx.TransportError, ValueError):
                pass  # a slow answer while the normaliser holds the store is not a failure
            time.sleep(0.1)
    raise RuntimeError(f"normaliser still has pending events after {timeout} s")


def _pg_bin() -> Path:
    def version(path: str) -> list[int]:
        return [int(x) for x in Path(path).parent.name.split(".") if x.isdigit()]

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if not initdb:
        raise RuntimeError("no PostgreSQL binaries: apt-get install -y postgresql")
    return Path(initdb).parent


@contextmanager
def postgres_cluster(*, durable: bool = True) -> Iterator[str]:
    """A throwaway PostgreSQL server; yields the URL of its `postgres` database.

    `durable` keeps PostgreSQL's defaults (fsync, synchronous commit), so an acknowledged
    event is on disk as it is with DuckDB; the test fixture turns them off for speed.
    """
    pgbin = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="fireline-intake-pg-"))
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:  # initdb refuses to run as root; data, log and socket must belong to postgres
        subprocess.run(["chown", "postgres:postgres", str(base)], check=True)
    data, port = base / "data", free_port()
    fast = "" if durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        subprocess.run([*prefix, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                       check=True, capture_output=True)
        subprocess.run([*prefix, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log"), "-w", "-o",
                        f"-c listen_addresses=127.0.0.1 -p {port} -k {base}{fast}", "start"],
                       check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str) -> str:
    """A fresh, empty database on that server, so every run starts from nothing."""
    import psycopg

    name = f"intake_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
