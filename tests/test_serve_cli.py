"""`fireline serve`: unsafe or impossible starts are refused; workers share a PostgreSQL store;
`fireline rebuild` re-derives exactly what the intake derived."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from fireline import normalise
from fireline.config import Config
from fireline.ingest import rebuild
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.store import Store

DATA = Path(__file__).resolve().parent / "data" / "webhooks"
NO_SECRETS = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}


def _serve(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fireline.cli", "serve", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**NO_SECRETS, **(env or {})}, check=False)


def test_refuses_a_public_address_without_secrets(tmp_path):
    run = _serve(tmp_path, "--host", "0.0.0.0", "--db", str(tmp_path / "s.duckdb"))
    assert run.returncode == 2 and "refusing to listen on 0.0.0.0" in run.stderr
    assert "FIRELINE_GITHUB_SECRET" in run.stderr and "Traceback" not in run.stderr


def test_refuses_several_workers_on_an_embedded_store(tmp_path):
    run = _serve(tmp_path, "--workers", "2", "--db", str(tmp_path / "s.duckdb"))
    assert run.returncode == 2 and "PostgreSQL" in run.stderr


def test_refuses_an_unreachable_database(tmp_path):
    run = _serve(tmp_path, "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert run.returncode == 2 and "cannot connect to PostgreSQL" in run.stderr


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.postgres
def test_two_workers_share_a_postgresql_store(tmp_path, pg_url):
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "fireline.cli", "serve", "--port", str(port), "--workers", "2",
                             "--db", pg_url], cwd=tmp_path, env={**NO_SECRETS, "FIRELINE_INGEST_TOKEN": "tok"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=base, headers={"authorization": "Bearer tok"}) as client:
            for n in range(40):
                event = {"id": f"e{n}", "type": "deployment", "time": f"2026-03-02T10:{n:02d}:00Z",
                         "service": "shop", "sha": f"{n:040x}"}
                assert client.post("/events", json=event).status_code == 202
                assert client.post("/events", json=event).status_code == 200  # the re-delivery
            deadline = time.monotonic() + 30
            while client.get("/healthz").json()["pending"]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    store = Store.open(pg_url)
    assert store.count("raw_events") == 40 and store.count("deployments") == 40
    store.close()


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(b"gh", body, hashlib.sha256).hexdigest()


def test_rebuild_gives_the_same_records_as_the_intake(store):
    secrets = Secrets({"github": "gh", "gitlab": None, "pagerduty": None, "ingest": "in"})
    app = create_app(lambda: store, Config(), secrets=secrets, normaliser=False)
    tables = ("deployments", "incidents", "alert_events", "changes", "deployment_changes", "incident_deployments")

    def snapshot() -> dict[str, list]:
        return {t: sorted(map(repr, store.query(f"SELECT * FROM {t}"))) for t in tables}

    with TestClient(app) as client:
        for path in sorted((DATA / "github").glob("*/*.json")):
            payload = json.loads(path.read_text())
            if path.parent.name == "issues":
                payload["issue"]["labels"] = [{"name": "incident"}]
            body = json.dumps(payload).encode()
            client.post("/webhooks/github", content=body, headers={
                "content-type": "application/json", "x-github-event": path.parent.name,
                "x-github-delivery": f"{path.parent.name}/{path.name}", "x-hub-signature-256": _sign(body)})
        for path in sorted((DATA / "alertmanager").glob("*.json")):
            client.post("/webhooks/alertmanager", content=path.read_bytes(),
                        headers={"content-type": "application/json", "authorization": "Bearer in"})
        normalise.normalise_pending(store, Config())
        before = snapshot()
        assert before["deployments"] and before["incidents"] and before["alert_events"] and before["changes"]
        rebuild(store, Config())
        assert snapshot() == before
