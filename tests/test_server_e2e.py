"""End to end over real HTTP: a repository's pushes and deployments sent as webhooks to a
running `fireline serve` give the same DORA figures as scanning the repository itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .gitrepo import GitRepo

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECRET = "e2e-secret"
WINDOW = ["--since", "2026-03-01", "--until", "2026-03-31"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fireline(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fireline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, check=False)


def _send(client: httpx.Client, event: str, delivery: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post("/webhooks/github", content=body, headers={
        "content-type": "application/json", "x-github-event": event, "x-github-delivery": delivery,
        "x-hub-signature-256": signature})
    assert response.status_code == 202, response.text


def _history(repo: GitRepo) -> list[tuple[list[str], str, datetime]]:
    """Twelve commits in four pushes, each push deployed some hours later."""
    pushes = []
    before = None
    hour = 0.0
    for push in range(4):
        shas = []
        for n in range(3):
            hour += 1.5
            shas.append(repo.commit(f"change {push}.{n}", T0 + timedelta(hours=hour)))
        pushes.append((shas, before or "0" * 40, T0 + timedelta(hours=hour + 2 + push)))
        before = shas[-1]
    return pushes


def test_webhooks_and_git_scan_agree(tmp_path):
    repo = GitRepo.create(tmp_path / "shop")
    pushes = _history(repo)
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fireline.cli", "serve", "--port", str(port), "--db", str(tmp_path / "hooks.duckdb")],
        cwd=tmp_path, env={**os.environ, "FIRELINE_GITHUB_SECRET": SECRET}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            for n, (shas, before, deployed) in enumerate(pushes):
                log = {c: json.loads(repo.git("log", "-1", "--format={\"t\": \"%cI\", \"m\": \"%s\"}", c))
                       for c in shas}
                _send(client, "push", f"push-{n}", {
                    "ref": "refs/heads/main", "before": before, "after": shas[-1], "deleted": False,
                    "forced": False, "repository": {"name": "shop", "full_name": "acme/shop"},
                    "commits": [{"id": c, "message": log[c]["m"], "timestamp": log[c]["t"],
                                 "author": {"name": "Ada Lovelace", "email": "ada@example.com"},
                                 "added": [], "modified": ["x.txt"], "removed": []} for c in shas]})
                _send(client, "deployment_status", f"status-{n}", {
                    "deployment_status": {"id": 100 + n, "state": "success", "created_at": deployed.isoformat()},
                    "deployment": {"id": 500 + n, "sha": shas[-1], "ref": "main", "environment": "production",
                                   "task": "deploy", "created_at": deployed.isoformat(), "payload": {}},
                    "repository": {"name": "shop", "full_name": "acme/shop"}})
            deadline = time.monotonic() + 30
            while client.get("/healthz").json()["pending"]:
                assert time.monotonic() < deadline, "normaliser did not catch up"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)

    deployments = tmp_path / "deployments.csv"
    deployments.write_text("id,time,service,environment,sha,status\n" + "".join(
        f"github-{500 + n},{deployed.isoformat()},shop,production,{shas[-1]},success\n"
        for n, (shas, _before, deployed) in enumerate(pushes)))
    scan = str(tmp_path / "scan.duckdb")
    assert _fireline("ingest", "git", str(repo.path), "--service", "shop", "--db", scan, cwd=tmp_path).returncode == 0
    assert _fireline("ingest", "deployments", str(deployments), "--db", scan, cwd=tmp_path).returncode == 0

    def figures(db: str) -> dict:
        run = _fireline("dora", "--json", "--db", db, *WINDOW, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        overall = json.loads(run.stdout)["overall"]
        return {k: (v["value"], v["count"]) for k, v in overall.items()}

    from_hooks, from_scan = figures(str(tmp_path / "hooks.duckdb")), figures(scan)
    assert from_hooks == from_scan
    assert from_hooks["deployment_frequency"][1] == 4
    assert from_hooks["lead_time"][1] == 9  # the first push is the baseline
