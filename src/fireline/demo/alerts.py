"""The demo's alert history: noise where the talk found it, silence where it hurt.

- web-ui pages on a flapping error-rate alert, often at night, with no runbook;
- platform-infra has a CPU alert that clears within minutes (transient);
- pricing-engine's latency alert has a runbook and a `for`, and fires rarely;
- export-pipeline warns about lag now and then;
- the purger has no alert at all: the disk filled up and a customer noticed first.
Seeded, so the file is the same on every build.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from .dates import WINDOW_END, WINDOW_START

RUNBOOK = "https://runbooks.example.com/pricing-engine/latency"


def _episode(rng: random.Random, out: list[dict], name: str, service: str, severity: str, start: datetime,
             minutes: float, annotations: dict[str, str]) -> None:
    fingerprint = f"{service}-{name}".lower()
    base = {"fingerprint": fingerprint, "name": name, "service": service, "severity": severity,
            "labels": {"team_service": service}, "annotations": annotations}
    stamp = start.isoformat().replace("+00:00", "Z")
    end = (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    out.append({**base, "status": "firing", "starts_at": stamp})
    out.append({**base, "status": "resolved", "starts_at": stamp, "ends_at": end})


def _night_or_day(rng: random.Random, day: datetime, night_share: float) -> datetime:
    hour = rng.choice([1, 2, 3, 4, 23]) if rng.random() < night_share else rng.randint(9, 17)
    return day.replace(hour=hour, minute=rng.randint(0, 59))


def write_alert_history(root: Path, seed: int) -> Path:
    rng = random.Random(seed)
    events: list[dict] = []
    days = (WINDOW_END - WINDOW_START).days
    for offset in range(days):
        day = WINDOW_START + timedelta(days=offset)
        if rng.random() < 0.35:  # web-ui: bursts of flapping, half of them at night
            start = _night_or_day(rng, day, 0.5)
            for _ in range(rng.randint(2, 4)):
                minutes = rng.uniform(2, 12)
                _episode(rng, events, "WebUiHighErrorRate", "web-ui", "critical", start, minutes,
                         {"summary": "web-ui 5xx rate above 2%"})
                start += timedelta(minutes=minutes + rng.uniform(5, 20))
        if rng.random() < 0.25:  # platform-infra: transient CPU spikes
            _episode(rng, events, "NodeCPUHigh", "platform-infra", "warning", _night_or_day(rng, day, 0.3),
                     rng.uniform(1, 4), {"summary": "CPU above 90%", "description": "Check the top processes."})
        if rng.random() < 0.04:  # pricing-engine: rare, actionable
            _episode(rng, events, "PricingLatencyHigh", "pricing-engine", "critical", _night_or_day(rng, day, 0.2),
                     rng.uniform(30, 180), {"summary": "p99 pricing latency above 2s", "runbook_url": RUNBOOK})
        if rng.random() < 0.08:  # export-pipeline: lag warnings
            _episode(rng, events, "ExportLagHigh", "export-pipeline", "warning", _night_or_day(rng, day, 0.1),
                     rng.uniform(20, 90), {"summary": "export lag above 1h"})
    path = root / "alerts.ndjson"
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events))
    return path
