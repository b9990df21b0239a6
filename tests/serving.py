"""Start a real `fireline serve` on loopback for a test, and wait for the address it leaves beside its store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The CLI's and the server's output must not depend on the terminal the tests run in.
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}, "COLUMNS": "120",
       "NO_COLOR": "1", "TZ": "UTC"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fireline(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fireline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout, check=False)


class Server:
    def __init__(self, db: Path, cwd: Path, *args: str, env: dict | None = None) -> None:
        self.db, self.port = db, free_port()
        self.address = db.parent / "serve.json"
        self.log = cwd / f"serve-{self.port}.log"
        self._log = self.log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "fireline.cli", "serve", "--port", str(self.port),
                                      "--db", str(db), *args], cwd=cwd, env={**ENV, **(env or {})},
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while not self.address.exists():
            assert self.proc.poll() is None, f"fireline serve ended: {self.log.read_text()}"
            assert time.monotonic() < deadline, f"fireline serve left no address: {self.log.read_text()}"
            time.sleep(0.05)

    def health(self) -> dict:
        return httpx.get(f"{self.url}/healthz", timeout=30).json()

    def forwarded(self) -> int:
        """How many commands the server ran for a CLI."""
        return self.log.read_text().count('"POST /cli HTTP/1.1" 200')

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self._log.close()
        return code

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def address(path: Path) -> dict:
    return json.loads(path.read_text())
