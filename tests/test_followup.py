"""`fireline followup`: the verdict on data whose effect is known by construction, on DuckDB and PostgreSQL.

Each store holds one team, one service and one done long-term action item (from a real postmortem
file, ingested), plus deployments, changes or incidents placed before and after its done_on so
that the true change is known: a real improvement, no change, a worsening, or too little data.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.config import Config, TeamConfig
from fireline.metrics.followup import MIN_SAMPLES, FollowupParams, followup
from fireline.postmortems.ingest import ingest_postmortems

DONE = date(2026, 3, 2)
START = datetime(2026, 3, 2, tzinfo=UTC)
WEEK = timedelta(weeks=1)
LATER = DONE + timedelta(weeks=12)  # "today": the after-window is complete
CFG = Config(teams={"Payments": TeamConfig(services=["billing"])})
SERVICES = {"Payments": ["billing"]}


def _postmortem(tmp_path: Path, metric: str, owner: str = "Payments") -> Path:
    folder = tmp_path / "postmortems"
    folder.mkdir(exist_ok=True)
    path = folder / "pm.md"
    path.write_text(f"""---
id: PM-1
title: Billing outage
date: 2026-02-20
services: [billing]
action_items:
  - owner: {owner}
    what: The long-term fix
    due: 2026-03-06
    term: long
    dora_metric: {metric}
    status: done
    done_on: {DONE.isoformat()}
---
""")
    return path


def _spread(n: int, start: datetime, span: timedelta) -> list[datetime]:
    """n instants evenly inside [start, start + span), none on the boundaries."""
    return [start + span * (i + 0.5) / n for i in range(n)]


def _deployments(tx, times: list[datetime], prefix: str) -> list[str]:
    ids = [f"{prefix}-{i:03d}" for i in range(len(times))]
    tx.insert("deployments", {"id": ids, "service": ["billing"] * len(ids), "environment": ["production"] * len(ids),
                              "sha": [f"sha-{i}" for i in ids], "time": times, "status": ["success"] * len(ids)})
    return ids


def _build(store, tmp_path: Path, metric: str, before: list[float], after: list[float]) -> None:
    """Values per side: weekly deployment counts, lead hours per deployment, failed 0/1 per deployment, or
    restore hours per incident, placed in the 8 weeks before and after done_on."""
    with store.transaction() as tx:
        for side, values, start in (("b", before, START - 8 * WEEK), ("a", after, START)):
            if metric == "deployment_frequency":
                times = [t for w, count in enumerate(values) for t in _spread(int(count), start + w * WEEK, WEEK)]
                _deployments(tx, times, side)
                continue
            times = _spread(len(values), start, 8 * WEEK)
            if metric == "time_to_restore":
                ids = [f"INC-{side}{i}" for i in range(len(values))]
                resolved = [t + timedelta(hours=h) for t, h in zip(times, values, strict=True)]
                tx.insert("incidents", {"id": ids, "service": ["billing"] * len(ids), "started": times,
                                        "resolved": resolved})
                continue
            deps = _deployments(tx, times, side)
            if metric == "change_failure_rate":
                failed = [d for d, v in zip(deps, values, strict=True) if v]
                tx.insert("incidents", {"id": [f"INC-{d}" for d in failed], "service": ["billing"] * len(failed),
                                        "started": [START] * len(failed)})
                tx.insert("incident_deployments", {"incident_id": [f"INC-{d}" for d in failed],
                                                   "deployment_id": failed, "via": ["cause"] * len(failed)})
            else:  # lead_time: each deployment ships three changes committed `hours` before it
                shas, ctimes, links = [], [], []
                for d, t, hours in zip(deps, times, values, strict=True):
                    for k in range(3):
                        shas.append(f"{d}-c{k}")
                        ctimes.append(t - timedelta(hours=hours + k))
                        links.append(d)
                n = len(shas)
                tx.insert("changes", {"repo": ["r"] * n, "sha": shas, "committer_time": ctimes,
                                      "author_time": ctimes, "subject": ["change"] * n, "author_name": ["Ada"] * n})
                tx.insert("deployment_changes", {"deployment_id": links, "service": ["billing"] * n, "repo": ["r"] * n,
                                                 "sha": shas, "baseline": [False] * n, "via": ["ancestry"] * n})
        if metric != "time_to_restore" and not store.count("incidents"):
            tx.insert("incidents", {"id": ["INC-elsewhere"], "service": ["other"], "started": [START]})
        if metric == "time_to_restore" and not store.count("deployments"):
            _deployments(tx, [START - 20 * WEEK], "old")
    ingest_postmortems(store, CFG, [_postmortem(tmp_path, metric)])


def _verdict(store, today: date = LATER, weeks: int = 8) -> dict:
    [result] = followup(store.tables(), today=today, services_of=SERVICES, params=FollowupParams(weeks=weeks))
    return result


WAVY = [3, 5, 4, 4, 5, 3, 4, 4]  # the same weekly rhythm on both sides: no change


@pytest.mark.parametrize(("before", "after", "verdict"), [
    ([2, 3, 2, 2, 3, 2, 2, 3], [6, 5, 6, 7, 6, 5, 6, 6], "improved"),
    (WAVY, WAVY[::-1], "no clear change"),
    ([6, 5, 6, 7, 6, 5, 6, 6], [2, 3, 2, 2, 3, 2, 2, 3], "worse"),
])
def test_deployment_frequency_verdicts(store, tmp_path, before, after, verdict):
    _build(store, tmp_path, "deployment_frequency", before, after)
    r = _verdict(store)
    assert r["verdict"] == verdict, r
    assert r["before"]["n"] == 8 and r["after"]["n"] == 8  # weeks, shown
    assert r["before"]["deployments"] == sum(before)
    assert r["before"]["value"] == pytest.approx(sum(before) / 56)  # deployments per day
    assert r["ci"][0] <= r["change"] <= r["ci"][1]


def test_lead_time_improvement_is_seen_and_its_interval_is_in_hours(store, tmp_path):
    _build(store, tmp_path, "lead_time", [48, 50, 47, 52, 49, 51, 50, 48], [4, 5, 6, 4, 5, 3, 5, 4])
    r = _verdict(store)
    assert r["verdict"] == "improved"
    assert r["before"]["changes"] == 24 and r["before"]["n"] == 8  # 8 deployments of 3 changes
    assert r["before"]["value"] == pytest.approx(50.0)  # the median change: 50 h (49 + 1, 50 + 0, ...)
    assert r["ci"][1] < 0 and r["better"] == "lower"


def test_change_failure_rate_worsening(store, tmp_path):
    _build(store, tmp_path, "change_failure_rate", [0] * 18 + [1] * 2, [1, 0] * 10)
    r = _verdict(store)
    assert (r["before"]["value"], r["after"]["value"]) == (pytest.approx(0.1), pytest.approx(0.5))
    assert r["verdict"] == "worse"
    assert r["before"]["n"] == 20 and r["before"]["sample_unit"] == "deployments"


def test_time_to_restore_no_clear_change_and_too_little_data(store, tmp_path):
    _build(store, tmp_path, "time_to_restore", [1, 3, 2, 5, 1.5, 4], [2, 1, 4, 3, 5, 1.5])
    r = _verdict(store)
    assert r["verdict"] == "no clear change"
    assert r["ci"][0] < 0 < r["ci"][1]


def test_too_little_data_names_the_side_and_the_minimum(store, tmp_path):
    _build(store, tmp_path, "time_to_restore", [1, 2, 1.5, 2, 1], [9, 10])
    r = _verdict(store)
    assert r["verdict"] == "too little data"
    assert r["ci"] is None
    assert f"2 incidents after done_on; the verdict needs at least {MIN_SAMPLES['time_to_restore']}" in r["reason"]
    assert r["after"]["value"] == pytest.approx(9.5)  # the figures are still shown


def test_the_after_window_stops_at_today(store, tmp_path):
    _build(store, tmp_path, "deployment_frequency", [2] * 8, [6] * 8)
    r = _verdict(store, today=DONE + timedelta(days=17))  # two full weeks (plus 3 days left out)
    assert r["after"]["n"] == 2 and r["after"]["deployments"] == 12
    assert r["verdict"] == "too little data"


def test_the_same_data_gives_the_same_interval(store, tmp_path):
    _build(store, tmp_path, "deployment_frequency", WAVY, [5, 4, 6, 5, 4, 5, 6, 5])
    assert _verdict(store)["ci"] == _verdict(store)["ci"]


def test_unknown_when_the_owner_has_no_team(duck, tmp_path):
    _build(duck, tmp_path, "deployment_frequency", [2] * 8, [6] * 8)
    ingest_postmortems(duck, CFG.model_copy(update={"teams": {}}), [_postmortem(tmp_path, "lead_time",
                                                                                "Somebody")])
    [r] = followup(duck.tables(), today=LATER, services_of=SERVICES)
    assert r["verdict"] == "unknown" and "'Somebody' has no team" in r["reason"]


def test_followup_command_json(duck, tmp_path):
    from fireline.cli import app

    _build(duck, tmp_path, "deployment_frequency", [2, 3, 2, 2, 3, 2, 2, 3], [6, 5, 6, 7, 6, 5, 6, 6])
    config = tmp_path / "fireline.toml"
    config.write_text('[teams.Payments]\nservices = ["billing"]\n[postmortems]\nfollowup_weeks = 8\n')
    db = duck.url
    duck.close()
    result = CliRunner().invoke(app, ["followup", "--db", db, "--config", str(config), "--today", "2026-06-01",
                                      "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["weeks"] == 8 and data["resamples"] == 2000 and data["confidence"] == 0.95
    [item] = data["items"]
    assert item["verdict"] == "improved" and item["postmortem_id"] == "PM-1" and item["team"] == "Payments"
    text = CliRunner().invoke(app, ["followup", "--db", db, "--config", str(config), "--today", "2026-06-01"],
                              env={"COLUMNS": "200"})
    assert "improved" in text.output and "2.4/wk (8 wk)" in text.output
