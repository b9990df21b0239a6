"""Real receivers on loopback for the notify tests: an HTTP server for webhooks, an SMTP server with STARTTLS."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (then 200) and keeps what it got."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[tuple[int, str]] = field(default_factory=list)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.received]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(Received(self.path, dict(self.headers), json.loads(raw)))
            status, text = receiver.statuses.pop(0) if receiver.statuses else (200, "ok")
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    return receiver, server


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([shutil.which("openssl") or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notify_world(demo_dir: Path, target: Path, notify_toml: str) -> tuple[str, str]:
    """A copy of the demo's store and config (without its repositories) with `notify_toml` appended;
    (db, config path)."""
    world = demo_dir / "world"
    shutil.copytree(world, target / "world", ignore=shutil.ignore_patterns("repos"))
    config = target / "world" / "fireline.toml"
    config.write_text(config.read_text() + "\n" + notify_toml)
    db = target / "fireline.duckdb"
    shutil.copy(demo_dir / "fireline.duckdb", db)
    return str(db), str(config)
