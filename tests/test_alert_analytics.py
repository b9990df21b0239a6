"""Alert analytics (fireline.metrics.alerts) and alert files (fireline.sources.alert_files).

The alert histories are built here, so every figure is known by construction; each test
runs on DuckDB and on PostgreSQL through the `store` fixture.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline.errors import UserError
from fireline.metrics import alerts
from fireline.metrics.scope import Scope
from fireline.normalise import _write_alerts
from fireline.sources.alert_files import read_alert_events

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "alertmanager"
RUNBOOK = {"runbook_url": "https://example.invalid/runbook", "summary": "s"}
# Monday 2 March 2026 to Monday 9 March 2026 (UTC): fourteen 12-hour shifts.
SINCE, UNTIL = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def insert_episodes(store, episodes: list[tuple], source: str = "alertmanager") -> None:
    """(fingerprint, name, service, start, end or None, annotations): a firing event, and a resolved
    one when the episode ended, as Alertmanager delivers them."""
    cols: dict[str, list] = {k: [] for k in ("source", "delivery_id", "fingerprint", "name", "status",
                                             "starts_at", "ends_at", "service", "severity", "labels",
                                             "annotations")}

    def add(fp, name, service, start, end, notes, status):
        row = {"source": source, "delivery_id": f"{fp}:{start.isoformat()}:{status}", "fingerprint": fp,
               "name": name, "status": status, "starts_at": start, "ends_at": end, "service": service,
               "severity": "page", "labels": json.dumps({"alertname": name, "service": service}, sort_keys=True),
               "annotations": json.dumps(notes, sort_keys=True)}
        for k, v in row.items():
            cols[k].append(v)

    for fp, name, service, start, end, notes in episodes:
        add(fp, name, service, start, None, notes, "firing")
        if end is not None:
            add(fp, name, service, start, end, notes, "resolved")
    with store.transaction() as tx:
        tx.insert("alert_events", cols)


def insert_incidents(store, rows: list[tuple]) -> None:
    """(id, service, started, detected, detected_by)."""
    cols: dict[str, list] = {"id": [], "service": [], "started": [], "detected": [], "detected_by": []}
    for row in rows:
        for k, v in zip(cols, row, strict=True):
            cols[k].append(v)
    with store.transaction() as tx:
        tx.insert("incidents", cols)


WEEK = [
    # Flappy (api, no runbook): re-fires 10 min after resolving twice; the last episode lasts 2 min.
    ("f1", "Flappy", "api", t(2, 10, 0), t(2, 10, 10), {}),
    ("f1", "Flappy", "api", t(2, 10, 20), t(2, 10, 27), {}),  # flap (gap 10 min)
    ("f1", "Flappy", "api", t(2, 11, 30), t(2, 11, 40), {}),  # gap 63 min: not a flap
    ("f1", "Flappy", "api", t(2, 11, 50), t(2, 11, 52), {}),  # flap and transient
    # Disk (db): Tuesday 23:30 (sleep hours) and Saturday 14:00 (weekend daytime), still open.
    ("d1", "Disk", "db", t(3, 23, 30), t(4, 0, 30), RUNBOOK),
    ("d1", "Disk", "db", t(7, 14, 0), None, RUNBOOK),
    # Quick (api): Wednesday 13:00, three minutes: transient, business hours.
    ("q1", "Quick", "api", t(4, 13, 0), t(4, 13, 3), RUNBOOK),
]
INCIDENTS = [
    ("i-db", "db", t(3, 23, 45), t(3, 23, 50), "alert"),  # links Disk on Tuesday
    ("i-api", "api", t(2, 12, 15), t(2, 13, 15), "customer"),  # links Flappy at 11:50 (25 min before)
]


def week_report(store, **params) -> dict:
    scope = Scope(SINCE, UNTIL)
    return alerts.report(store.tables(), scope, team_of={"api": "UI", "db": "SRE"}, tz="UTC",
                         params=alerts.AlertParams(**params))


def test_figures_known_by_construction(store):
    insert_episodes(store, WEEK)
    insert_episodes(store, WEEK[:1], source="alert-file")  # the same alert from a second source: one episode
    insert_incidents(store, INCIDENTS)
    r = week_report(store)
    assert r["episodes"] == {"value": 7, "open": 1, "pages": 7, "unknown": None}

    shifts = r["pages_per_shift"]
    assert (shifts["pages"], shifts["shifts"], shifts["value"]) == (7, 14, 0.5)
    assert (shifts["over_budget_shifts"], shifts["over_budget_share"], shifts["max"]) == (1, 1 / 14, 4)
    assert shifts["worst_shifts"] == [{"start": "2026-03-02T00:00:00+00:00", "pages": 4}]
    by_team = {g["team"]: g for g in shifts["by_team"]}
    assert (by_team["UI"]["pages"], by_team["UI"]["over_budget_shifts"]) == (5, 1)
    assert (by_team["SRE"]["pages"], by_team["SRE"]["over_budget_shifts"]) == (2, 0)

    times = r["interruptions"]
    assert times["value"] == 7
    assert times["business_hours"]["value"] == 5
    assert times["off_hours"]["value"] == 2
    assert times["sleep_hours"]["value"] == 1

    assert r["flapping"]["value"] == 2
    assert r["flapping"]["by_rule"] == [{"name": "Flappy", "flaps": 2, "episodes": 4}]
    assert (r["transient"]["value"], r["transient"]["resolved_episodes"]) == (2, 6)
    assert {x["name"]: x["transient"] for x in r["transient"]["by_rule"]} == {"Flappy": 1, "Quick": 1}
    assert (r["no_runbook"]["value"], r["no_runbook"]["rules"], r["no_runbook"]["names"]) == (1, 3, ["Flappy"])
    assert (r["no_incident"]["value"], r["no_incident"]["episodes"]) == (5, 7)

    noisy = r["noisy_rules"]
    assert [x["name"] for x in noisy] == ["Flappy", "Disk", "Quick"]
    advice = " | ".join(noisy[0]["recommendations"])
    assert "flapping" in advice and "transient" in advice and "no runbook" in advice
    assert noisy[2]["recommendations"] == ["transient: raise `for` so it fires only when the problem persists",
                                           "never linked to an incident: is it actionable? "
                                           "consider a dashboard instead"]
    json.dumps(r)  # JSON-able as it stands


def test_parameters_change_the_figures(store):
    insert_episodes(store, WEEK)
    r = week_report(store, flap_minutes=5, transient_minutes=8, page_budget=4,
                    shift_hours=24, now=datetime(2026, 3, 5, 12, tzinfo=UTC))
    assert r["flapping"]["value"] == 0
    assert r["transient"]["value"] == 3  # 7, 2 and 3 minutes (not 10)
    assert (r["pages_per_shift"]["shifts"], r["pages_per_shift"]["over_budget_shifts"]) == (4, 0)
    # Shifts starting at 08:00 and 20:00 UTC put Monday's four pages in one shift, Tuesday 23:30 in another.
    r = week_report(store, shift_offset_hours=8)
    assert r["pages_per_shift"]["shifts"] == 15  # the window's edges cut two shifts
    assert r["pages_per_shift"]["worst_shifts"][0]["start"] == "2026-03-02T08:00:00+00:00"
    assert r["no_incident"] == {"value": None, "unknown": "no incidents ingested", "episodes": 7,
                                "link_minutes": 30}


def test_local_time_follows_dst_in_europe_london(store):
    london = "Europe/London"
    insert_episodes(store, [
        # Friday 27 March, before the change: 08:30 UTC is 08:30 GMT, off hours.
        ("a", "A", "api", t(27, 8, 30), t(27, 8, 50), RUNBOOK),
        # Sunday 29 March, the change at 01:00 UTC: 06:30 UTC is 07:30 BST, no longer sleep hours.
        ("b", "B", "api", t(29, 6, 30), t(29, 6, 50), RUNBOOK),
        # Monday 30 March: 08:30 UTC is 09:30 BST, business hours.
        ("c", "C", "api", t(30, 8, 30), t(30, 8, 50), RUNBOOK),
        # Sunday 25 October, clocks go back: 00:30 and 01:30 UTC are both 01:30 local.
        ("d", "D", "api", t(25, 0, 30, month=10), t(25, 0, 40, month=10), RUNBOOK),
        ("e", "E", "api", t(25, 1, 30, month=10), t(25, 1, 40, month=10), RUNBOOK),
    ])
    scope = Scope(t(20, 0), t(1, 0, month=11))
    offsets = alerts.utc_offsets(london, scope.since, scope.until).to_pyarrow().to_pylist()
    changes = [datetime.fromtimestamp(o["from_epoch"], UTC) for o in offsets[1:]]
    assert changes == [t(29, 1), t(25, 1, month=10)]
    assert [o["offset"] for o in offsets] == [0, 3600, 0]

    rows = alerts.episode_rows(store.table("alert_events"), store.table("incidents"), scope, alerts.AlertParams())
    local = alerts.local_rows(rows, london, scope, alerts.AlertParams()).to_pyarrow().to_pylist()
    by_name = {r["name"]: r for r in local}
    assert by_name["D"]["second_of_day"] == by_name["E"]["second_of_day"] == 5400  # 01:30 twice
    assert [by_name[n]["weekday"] for n in "ABCDE"] == [4, 6, 0, 6, 6]
    assert [by_name[n]["business"] for n in "ABCDE"] == [False, False, True, False, False]
    assert [by_name[n]["sleep"] for n in "ABCDE"] == [False, False, False, True, True]

    r = alerts.report(store.tables(), scope, tz=london)
    times = r["interruptions"]
    assert (times["value"], times["business_hours"]["value"], times["sleep_hours"]["value"]) == (5, 1, 2)
    # The same instants read as UTC would put B in sleep hours and C outside business hours.
    utc = alerts.report(store.tables(), scope, tz="UTC")["interruptions"]
    assert (utc["business_hours"]["value"], utc["sleep_hours"]["value"]) == (0, 3)


def test_real_alertmanager_payloads_read_and_counted(store):
    events = read_alert_events(DATA / "firing.json") + read_alert_events(DATA / "resolved.json")
    assert [d for d, _ in events] == ["5f3c1a9e0b7d2c44:2026-11-20T02:14:05.123Z:firing",
                                      "5f3c1a9e0b7d2c44:2026-11-20T02:14:05.123Z:resolved"]
    with store.transaction() as tx:
        _write_alerts(tx, [e for _, e in events], [(e.source, d) for d, e in events])
    scope = Scope(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    r = alerts.report(store.tables(), scope, tz="UTC")
    assert r["episodes"] == {"value": 1, "open": 0, "pages": 1, "unknown": None}
    assert r["transient"]["value"] == 0  # 48 minutes
    assert r["no_runbook"]["value"] == 0  # it carries a runbook_url
    assert r["interruptions"]["sleep_hours"]["value"] == 1  # 02:14 UTC
    assert r["no_incident"]["unknown"] == "no incidents ingested"
    assert r["noisy_rules"] == [{"name": "HostDiskUsageHigh", "episodes": 1, "flaps": 0, "transient": 0,
                                 "no_runbook": 0, "linked": None, "recommendations": []}]


def test_ndjson_alert_objects_and_flat_records(tmp_path):
    firing = json.loads((DATA / "firing.json").read_text())["alerts"][0]
    flat = {"name": "QueueBacklog", "status": "resolved", "starts_at": "2026-03-02T10:00:00",
            "ends_at": "2026-03-02T10:04:00", "service": "export", "severity": "warning",
            "annotations": {"summary": "backlog"}, "acknowledged_at": "2026-03-02T10:01:00"}
    path = tmp_path / "alerts.ndjson"
    path.write_text(json.dumps(firing) + "\n\n" + json.dumps(flat) + "\n")
    [(first_id, first), (flat_id, event)] = read_alert_events(path, tz="Europe/Paris")
    assert first_id == "5f3c1a9e0b7d2c44:2026-11-20T02:14:05.123Z:firing" and first.service == "purger"
    assert event.starts_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # read in the given zone
    assert (event.service, event.severity, event.labels["alertname"]) == ("export", "warning", "QueueBacklog")
    assert flat_id == f"{event.fingerprint}:2026-03-02T10:00:00:resolved" and len(event.fingerprint) == 16
    # An array works too, and gives the same events.
    array = tmp_path / "alerts.json"
    array.write_text(json.dumps([firing, flat]))
    assert read_alert_events(array, tz="Europe/Paris") == [(first_id, first), (flat_id, event)]


@pytest.mark.parametrize(("line", "message"), [
    ({"name": "X", "status": "pending", "starts_at": "2026-03-02T10:00:00Z"}, "alerts.ndjson:2: field 'status'"),
    ({"name": "X", "status": "resolved", "starts_at": "2026-03-02T10:00:00Z"}, "alerts.ndjson:2: field 'ends_at'"),
    ({"name": "X", "status": "firing", "starts_at": "yesterday"}, "alerts.ndjson:2: field 'starts_at'"),
    ({"status": "firing", "labels": {"severity": "page"}, "startsAt": "2026-03-02T10:00:00Z"},
     "alerts.ndjson:2: alert.labels.alertname: missing"),
    ({"name": "X", "status": "firing", "starts_at": "2026-03-02T10:00:00Z", "labels": {"n": 1}},
     "alerts.ndjson:2: field labels.n"),
])
def test_bad_lines_are_named(tmp_path, line, message):
    path = tmp_path / "alerts.ndjson"
    good = {"name": "X", "status": "firing", "starts_at": "2026-03-02T10:00:00Z"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n")
    with pytest.raises(UserError) as err:
        read_alert_events(path)
    assert message in str(err.value)


def test_detection_gap_says_plainly_when_customers_noticed_first(store):
    insert_incidents(store, INCIDENTS)
    gap = week_report(store)["detection_gap"]
    assert gap["customer_share"]["value"] == 0.5
    assert (gap["customer_share"]["customer"], gap["customer_share"]["incidents"]) == (1, 2)
    assert gap["verdict"] == alerts.VERDICT
    teams = {g["team"]: g for g in gap["by_team"]}
    assert teams["UI"]["verdict"] == alerts.VERDICT and teams["SRE"]["verdict"] is None
    assert [s["service"] for s in gap["by_service"]] == ["api", "db"]
    # MTTD: 5 and 60 minutes -> median 32.5 minutes.
    assert gap["mttd"]["value"] == pytest.approx(32.5 / 60)
    assert gap["mttd"]["by_month"] == [{"month": "2026-03", "value": pytest.approx(32.5 / 60), "count": 2}]


def test_no_verdict_when_monitoring_noticed_first(store):
    insert_incidents(store, [(i, s, st, d, "alert") for i, s, st, d, _ in INCIDENTS])
    gap = week_report(store)["detection_gap"]
    assert gap["customer_share"]["value"] == 0.0
    assert gap["verdict"] is None
    assert all(g["verdict"] is None for g in gap["by_team"] + gap["by_service"])


def test_unknown_without_alert_events(store):
    r = week_report(store)
    for key in ("episodes", "pages_per_shift", "interruptions", "flapping", "transient", "no_runbook",
                "no_incident"):
        assert r[key] == {"value": None, "unknown": "no alert events ingested"}, key
    assert r["noisy_rules"] == []
    assert r["detection_gap"]["customer_share"] == {"value": None, "unknown": "no incidents ingested"}
    assert r["detection_gap"]["verdict"] is None


def test_window_without_alerts_is_measured_not_unknown(store):
    insert_episodes(store, WEEK)
    scope = Scope(SINCE + timedelta(days=30), UNTIL + timedelta(days=30))
    r = alerts.report(store.tables(), scope)
    assert r["episodes"]["value"] == 0
    assert (r["pages_per_shift"]["value"], r["pages_per_shift"]["shifts"]) == (0.0, 14)
    assert r["flapping"]["share"] is None and r["flapping"]["value"] == 0
