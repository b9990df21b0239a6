"""Postmortems in the store (DuckDB and PostgreSQL): ingest, open action items, the calendar, repeat incidents."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from fireline.config import Config, PersonConfig, TeamConfig
from fireline.errors import UserError
from fireline.metrics.actions import open_actions
from fireline.metrics.repeats import repeat_incidents
from fireline.postmortems import ics
from fireline.postmortems.ingest import ingest_postmortems

CFG = Config(teams={"SRE": TeamConfig(services=["api"]), "Data": TeamConfig(services=["purger"])},
             people={"Ada Lovelace": PersonConfig(team="SRE"), "Tom Fletcher": PersonConfig(team="Data")})
TODAY = date(2026, 7, 5)


def _pm(pid: str, incidents: list[str], tags: list[str], items: list[str]) -> str:
    return (f"---\nid: {pid}\ntitle: Postmortem {pid}\ndate: 2026-02-01\nincidents: {json.dumps(incidents)}\n"
            f"tags: {json.dumps(tags)}\naction_items:\n" + "".join(items) + "---\n\nBody.\n")


def _item(owner: str, what: str, due: str, status: str = "open", done_on: str | None = None) -> str:
    return (f"  - owner: {owner}\n    what: {what}\n    due: {due}\n    status: {status}\n"
            + (f"    done_on: {done_on}\n" if done_on else ""))


def _incidents(store, rows: list[tuple[str, str, str]]) -> None:
    with store.transaction() as tx:
        tx.insert("incidents", {"id": [r[0] for r in rows], "service": [r[1] for r in rows],
                                "started": [datetime.fromisoformat(r[2]).replace(tzinfo=UTC) for r in rows]})


@pytest.fixture
def folder(tmp_path) -> Path:
    f = tmp_path / "postmortems"
    f.mkdir()
    (f / "a.md").write_text(_pm("PM-1", ["INC-1"], ["disk-full", "Batch-Job"], [
        _item("Tom Fletcher", "Alert when the purger has not run", "2026-03-13"),
        _item("Ada Lovelace", "Runbook for the export host", "2026-03-01", "done", "2026-02-20"),
        _item("SRE", "Alert at 85% disk", "2026-07-01"),
    ]))
    (f / "b.md").write_text(_pm("PM-2", ["INC-2"], ["batch-job"], [
        _item("Data", "Move the purger to Airflow", "2026-07-20"),
        _item("Data", "Something we decided against", "2026-05-01", "dropped"),
    ]))
    return f


def test_ingest_stores_postmortems_and_items_and_replaces_them_on_reingest(store, folder, tmp_path):
    _incidents(store, [("INC-1", "purger", "2026-01-20T10:00"), ("INC-2", "purger", "2026-03-30T10:00")])
    result = ingest_postmortems(store, CFG, [folder], root=tmp_path)
    assert (result.files, result.postmortems, result.action_items, result.replaced) == (2, 2, 5, 0)
    rows = store.query("SELECT postmortem_id, position, owner, team, due, status, done_on, file, line "
                       "FROM action_items ORDER BY postmortem_id, position")
    assert rows[0] == ("PM-1", 1, "Tom Fletcher", "Data", date(2026, 3, 13), "open", None, "postmortems/a.md", 8)
    assert rows[1][3] == "SRE" and rows[1][6] == date(2026, 2, 20)  # a person's team comes from config
    assert rows[2][3] == "SRE"  # a team owns its own items
    [(tags, incidents)] = store.query("SELECT tags, incidents FROM postmortems WHERE id = 'PM-1'")
    assert json.loads(tags) == ["disk-full", "Batch-Job"] and json.loads(incidents) == ["INC-1"]
    # An item removed from a file disappears from the store on the next ingest of that file.
    (folder / "b.md").write_text(_pm("PM-2", ["INC-2"], ["batch-job"],
                                     [_item("Data", "Move to Airflow", "2026-07-20")]))
    again = ingest_postmortems(store, CFG, [folder / "b.md"], root=tmp_path)
    assert (again.postmortems, again.action_items, again.replaced) == (1, 1, 1)
    assert store.count("action_items") == 4 and store.count("postmortems") == 2


def test_ingest_refuses_files_with_lint_errors_and_writes_nothing(store, folder, tmp_path):
    ingest_postmortems(store, CFG, [folder], root=tmp_path)
    (folder / "a.md").write_text(_pm("PM-1", [], [], [_item("Tom Fletcher", "x", "2026-13-01")]))
    (folder / "c.md").write_text("no front matter\n")
    with pytest.raises(UserError) as err:
        ingest_postmortems(store, CFG, [folder], root=tmp_path)
    message = str(err.value)
    assert "nothing was written" in message
    assert "postmortems/a.md:10: error pm-bad-date" in message and "postmortems/c.md:1: error" in message
    assert store.count("action_items") == 5  # the earlier ingest stands untouched


def test_ingest_checks_referenced_incidents_when_the_store_has_some(store, folder, tmp_path):
    _incidents(store, [("INC-1", "purger", "2026-01-20T10:00")])
    with pytest.raises(UserError, match="incident 'INC-2' is not in the store"):
        ingest_postmortems(store, CFG, [folder], root=tmp_path)
    assert store.count("postmortems") == 0


def test_open_actions_overdue_first_with_days_late_and_filters(store, folder, tmp_path):
    ingest_postmortems(store, CFG, [folder], root=tmp_path)
    report = open_actions(store.tables(), today=TODAY)
    assert [(i["what"], i["days_late"], i["overdue"]) for i in report.items] == [
        ("Alert when the purger has not run", 114, True),
        ("Alert at 85% disk", 4, True),
        ("Move the purger to Airflow", 0, False),
    ]
    assert report.items[2]["days_left"] == 15
    assert report.by_team[0] == {"team": "Data", "open": 2, "overdue": 1, "owners": {
        "Tom Fletcher": {"open": 1, "overdue": 1}, "Data": {"open": 1, "overdue": 0}}}
    assert [i["what"] for i in open_actions(store.tables(), today=TODAY, team="SRE").items] == ["Alert at 85% disk"]
    assert len(open_actions(store.tables(), today=TODAY, owner="tom fletcher").items) == 1
    assert len(open_actions(store.tables(), today=TODAY, overdue_only=True).items) == 2
    # "today" is a parameter: earlier, nothing was late yet.
    assert not any(i["overdue"] for i in open_actions(store.tables(), today=date(2026, 3, 1)).items)


def test_ics_has_one_all_day_event_per_due_date_and_is_reproducible(duck, folder, tmp_path):
    ingest_postmortems(duck, CFG, [folder], root=tmp_path)
    items = open_actions(duck.tables(), today=TODAY).as_dict()["items"]
    path = tmp_path / "actions.ics"
    assert ics.write(path, items, TODAY) == 3
    first = path.read_bytes()
    events = Calendar.from_ical(first).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [date(2026, 3, 13), date(2026, 7, 1), date(2026, 7, 20)]
    assert str(events[0]["summary"]) == "[Data] Alert when the purger has not run (114 days late)"
    assert str(events[0]["uid"]) == "PM-1-1@fireline"
    assert "postmortems/a.md:8" in str(events[0]["description"])
    ics.write(path, items, TODAY)
    assert path.read_bytes() == first


def test_repeat_incidents_same_service_same_tag_within_the_window(store, folder, tmp_path):
    _incidents(store, [("INC-1", "purger", "2026-01-20T10:00"), ("INC-2", "purger", "2026-03-30T10:00")])
    ingest_postmortems(store, CFG, [folder], root=tmp_path)
    [row] = repeat_incidents(store.tables(), window_days=90)
    assert {k: row[k] for k in ("incident_id", "service", "tag", "earlier_incident_id", "earlier_postmortem_id",
                                "earlier_actions_total", "earlier_actions_done", "earlier_actions_open")} == {
        "incident_id": "INC-2", "service": "purger", "tag": "batch-job", "earlier_incident_id": "INC-1",
        "earlier_postmortem_id": "PM-1", "earlier_actions_total": 3, "earlier_actions_done": 1,
        "earlier_actions_open": 2}
    assert row["days_apart"] == 69.0 and row["earlier_actions_done_before"] == 1
    assert repeat_incidents(store.tables(), window_days=60) == []  # 69 days apart: outside a 60-day window


def test_the_debt_ledger_uses_the_configured_repeat_window(duck, folder, tmp_path):
    # Regression: the ledger always used 90 days, so it disagreed with `postmortem repeats` under
    # `[postmortems] repeat_window_days`.
    from datetime import UTC, datetime

    from fireline.debt.ledger import build_ledger

    _incidents(duck, [("INC-1", "purger", "2026-01-20T10:00"), ("INC-2", "purger", "2026-03-30T10:00")])
    ingest_postmortems(duck, CFG, [folder], root=tmp_path)

    def repeats(days: int) -> list[str]:
        ledger = build_ledger(duck.tables(), [], now=datetime(2026, 4, 1, tzinfo=UTC),
                              since=datetime(2026, 1, 1, tzinfo=UTC), team_of={"purger": "Data"},
                              repeat_window_days=days)
        return [i["title"] for i in ledger["items"] if i["category"] == "repeat incident"]

    assert len(repeats(90)) == 1 and repeats(60) == []  # 69 days apart


def test_no_repeat_across_services(duck, folder, tmp_path):
    _incidents(duck, [("INC-1", "purger", "2026-01-20T10:00"), ("INC-2", "api", "2026-01-30T10:00")])
    ingest_postmortems(duck, CFG, [folder], root=tmp_path)
    assert repeat_incidents(duck.tables()) == []


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fireline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def test_the_commands_end_to_end(tmp_path, folder):
    (tmp_path / "fireline.toml").write_text('[teams.SRE]\nservices = ["api"]\n[teams.Data]\nservices = ["purger"]\n'
                                            '[people]\n"Tom Fletcher" = { team = "Data" }\n"Ada Lovelace" = '
                                            '{ team = "SRE" }\n[postmortems]\nrepeat_window_days = 90\n')
    db = ["--db", str(tmp_path / "f.duckdb")]
    ingested = _cli(["ingest", "postmortems", *db, "--json"], tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["action_items"] == 5
    shown = _cli(["actions", *db, "--today", "2026-07-05", "--ics", "due.ics"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "114 d" in shown.stdout and "3 open, 2 overdue" in shown.stdout and (tmp_path / "due.ics").exists()
    late = json.loads(_cli(["actions", *db, "--today", "2026-07-05", "--overdue", "--team", "Data", "--json"],
                           tmp_path).stdout)
    assert [i["days_late"] for i in late["items"]] == [114]
    bad_day = _cli(["actions", *db, "--today", "5 July"], tmp_path)
    assert bad_day.returncode == 2 and "--today" in bad_day.stderr
    repeats = json.loads(_cli(["postmortem", "repeats", *db, "--json"], tmp_path).stdout)
    assert repeats == {"window_days": 90, "repeats": []}  # no incidents in this store: nothing to date them by
    (tmp_path / "fireline.toml").write_text("[postmortems]\nfolder_name = 'x'\n")
    for command in (["actions"], ["followup"], ["postmortem", "lint"]):
        refused = _cli([*command, *db], tmp_path)
        assert refused.returncode == 2 and "postmortems.folder_name: unknown key" in refused.stderr, command
