"""`fireline ingest alerts` and `fireline alerts report` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "alertmanager"


def fireline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["FIRELINE_DB"] = str(tmp_path / "store.duckdb")
    env["COLUMNS"] = "160"
    return subprocess.run([sys.executable, "-m", "fireline.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_alert_history_from_a_file_feeds_the_report(tmp_path):
    history = tmp_path / "alerts.ndjson"
    rows = [
        # DiskFull flaps: resolved, then firing again 10 minutes later.
        {"fingerprint": "f1", "name": "DiskFull", "status": "firing", "starts_at": "2026-03-02T02:00:00Z",
         "service": "purger", "severity": "critical"},
        {"fingerprint": "f1", "name": "DiskFull", "status": "resolved", "starts_at": "2026-03-02T02:00:00Z",
         "ends_at": "2026-03-02T02:20:00Z", "service": "purger", "severity": "critical"},
        {"fingerprint": "f1", "name": "DiskFull", "status": "firing", "starts_at": "2026-03-02T02:30:00Z",
         "service": "purger", "severity": "critical"},
    ]
    history.write_text("".join(json.dumps(r) + "\n" for r in rows))
    first = fireline(tmp_path, "ingest", "alerts", str(history))
    assert first.returncode == 0 and "3 new alert events" in first.stdout, first.stderr
    assert "0 new alert events" in fireline(tmp_path, "ingest", "alerts", str(history)).stdout
    real = fireline(tmp_path, "ingest", "alerts", str(DATA / "firing.json"))
    assert real.returncode == 0, real.stderr
    report = fireline(tmp_path, "alerts", "report", "--since", "2020-01-01", "--json")
    data = json.loads(report.stdout)
    assert data["flapping"]["value"] == 1
    assert data["no_incident"]["unknown"] == "no incidents ingested"
    text = fireline(tmp_path, "alerts", "report", "--since", "2020-01-01")
    assert text.returncode == 0 and "Flapping" in text.stdout and "Traceback" not in text.stderr


def test_a_bad_alert_line_is_named(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"fingerprint": "x", "name": "A", "status": "sideways", "starts_at": "2026-03-02T02:00:00Z"}\n')
    run = fireline(tmp_path, "ingest", "alerts", str(bad))
    assert run.returncode == 2 and "bad.ndjson:1" in run.stderr
