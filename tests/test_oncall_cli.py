"""`fireline oncall`: config errors a user can fix, PTO calendars, and the commands on a real store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import parse_config
from fireline.errors import UserError
from fireline.metrics import oncall as m
from fireline.oncall.settings import load

PEOPLE = """
[teams.Data]
services = ["purger"]
[people]
"Tom Fletcher" = { email = "tom@example.com", team = "Data", timezone = "Europe/London" }
"Sofia Alvarez" = { email = "sofia@example.com", team = "Data", timezone = "America/New_York" }
"""
ROTATION = """
[oncall]
holidays = ["GB", "US"]
weekend_max_hours = 48
{extra}
[rotations.Data]
timezone = "Europe/London"
[[rotations.Data.layers]]
name = "base"
members = ["Tom Fletcher", "Sofia Alvarez"]
length = "{length}"
start = 2026-03-30
"""
PTO = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:1@test\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20260403\r
DTEND;VALUE=DATE:20260406\r
SUMMARY:Easter off\r
ATTENDEE;CN=Tom:mailto:tom@example.com\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _config(tmp_path: Path, extra: str = "", length: str = "1w", tail: str = "") -> Path:
    path = tmp_path / "fireline.toml"
    path.write_text(PEOPLE + ROTATION.format(extra=extra, length=length) + tail)
    return path


def _setup(path: Path):
    import tomllib

    cfg = parse_config(tomllib.loads(path.read_text()), source=str(path), base_dir=path.parent)
    return cfg, load(cfg)


@pytest.mark.parametrize(("tail", "length", "message"), [
    ('[[rotations.Data.overrides]]\nperson = "Nobody Known"\nstart = 2026-04-01\nend = 2026-04-02\n', "1w",
     "rotations.Data.overrides.0.person: unknown person 'Nobody Known'"),
    ("", "0d", "rotations.Data.layers.0.length: a rotation length must be more than zero"),
    ("", "fortnight", "rotations.Data.layers.0.length: not a rotation length"),
])
def test_bad_rotation_config_names_the_key(tmp_path, tail, length, message):
    with pytest.raises(UserError) as err:
        _setup(_config(tmp_path, length=length, tail=tail))
    assert message in str(err.value)
    assert "fireline.toml" in str(err.value)


def test_unknown_zone_member_and_key_are_refused(tmp_path):
    path = _config(tmp_path)
    path.write_text(path.read_text().replace('timezone = "Europe/London"\n[[', 'timezone = "Mars/Olympus"\n[['))
    with pytest.raises(UserError, match=r"rotations\.Data\.timezone: unknown time zone 'Mars/Olympus'"):
        _setup(path)
    path = _config(tmp_path)
    path.write_text(path.read_text().replace('"Sofia Alvarez"]', '"Sofia Alvarez", "Zed"]'))
    with pytest.raises(UserError, match=r"rotations\.Data\.layers\.0\.members\.2: unknown person 'Zed'"):
        _setup(path)
    path = _config(tmp_path, extra="weekend_max = 3")
    with pytest.raises(UserError, match=r"oncall\.weekend_max: unknown key"):
        _setup(path)


def test_overlapping_overrides_for_one_person_are_refused(tmp_path):
    tail = "".join(f'[[rotations.Data.overrides]]\nperson = "Tom Fletcher"\nstart = {s}\nend = {e}\n'
                   for s, e in (("2026-04-01", "2026-04-03"), ("2026-04-03", "2026-04-05")))
    with pytest.raises(UserError, match=r"rotations\.Data\.overrides\.1: overlapping overrides for Tom Fletcher"):
        _setup(_config(tmp_path, tail=tail))


def test_pto_calendar_events_become_overrides_and_leave_a_gap(tmp_path):
    (tmp_path / "pto.ics").write_text(PTO)
    _cfg, setup = _setup(_config(tmp_path, extra='pto_calendars = ["pto.ics"]'))
    (tom,) = setup.overrides["Data"]
    assert (tom.person, tom.kind, tom.replacement) == ("Tom Fletcher", "pto", None)
    # All-day events are whole days on Tom's own (London, BST) calendar.
    assert tom.start == datetime(2026, 4, 2, 23, tzinfo=UTC) and tom.end == datetime(2026, 4, 5, 23, tzinfo=UTC)
    scheds = m.schedules(setup, datetime(2026, 3, 30, 8, tzinfo=UTC), datetime(2026, 4, 13, 8, tzinfo=UTC))
    (gap,) = m.coverage_gaps(scheds, setup, datetime(2026, 3, 30, 8, tzinfo=UTC), datetime(2026, 4, 13, 8, tzinfo=UTC))
    assert gap["why"] == ["Tom Fletcher: pto (Easter off)"] and gap["hours"] == 72


@pytest.mark.parametrize(("body", "message"), [
    ("not a calendar", "not an iCalendar file"),
    (PTO.replace("ATTENDEE;CN=Tom:mailto:tom@example.com\r\n", "").replace("Easter off", "Off"),
     "event 1 ('Off'): names no configured person"),
    (PTO.replace("DTSTART;VALUE=DATE:20260403", "DTSTART:2026xx"), "event 1 ('Easter off'): no valid DTSTART"),
    (PTO.replace("DTEND;VALUE=DATE:20260406", "DTEND;VALUE=DATE:20260401"), "ends before it starts"),
])
def test_a_malformed_pto_calendar_names_the_file_and_event(tmp_path, body, message):
    (tmp_path / "pto.ics").write_text(body)
    with pytest.raises(UserError) as err:
        _setup(_config(tmp_path, extra='pto_calendars = ["pto.ics"]'))
    assert message in str(err.value) and "pto.ics" in str(err.value)


def _fill(store, config_path: Path) -> None:
    t = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    with store.transaction() as tx:
        tx.insert("deployments", {"id": ["d-sat", "d-wed"], "service": ["purger"] * 2,
                                  "environment": ["production"] * 2, "sha": ["a" * 40, "b" * 40],
                                  "time": [t(2026, 4, 4, 12), t(2026, 4, 8, 12)], "status": ["success"] * 2,
                                  "type": ["hotfix", None], "source": ["file"] * 2})
        tx.insert("incidents", {"id": ["INC-1"], "service": ["purger"], "title": ["Disk full"],
                                "started": [t(2026, 4, 4, 1)], "resolved": [None], "source": ["file"]})
        tx.insert("alert_events", {"source": ["am"], "delivery_id": ["1"], "fingerprint": ["f"],
                                   "name": ["PurgerFailed"], "status": ["firing"], "starts_at": [t(2026, 4, 8, 2)],
                                   "service": ["purger"], "severity": ["critical"]})
        tx.insert("action_items", {"postmortem_id": ["PM-1"], "position": [1], "owner": ["Tom Fletcher"],
                                   "team": ["Data"], "what": ["Alert on purger success"], "due": [date(2026, 4, 15)],
                                   "status": ["open"]})


def test_commands_on_a_real_store(store, tmp_path):
    (tmp_path / "pto.ics").write_text(PTO)
    config = _config(tmp_path, extra='pto_calendars = ["pto.ics"]')
    _fill(store, config)
    url = store.url
    if store.kind == "duckdb":
        store.close()  # one writer at a time: the commands open the file themselves
    runner = CliRunner()
    base = ["--config", str(config), "--json"]
    res = runner.invoke(app, ["oncall", "gaps", "--db", url, "--from", "2026-03-30T09:00+01:00", "--to",
                              "2026-04-12", *base, "--fail-on-gaps"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert [u["id"] for u in data["unverified_deployments"]["unverified"]] == ["d-sat"]
    assert data["unverified_deployments"]["checked"] == 2
    assert data["gaps"][0]["team"] == "Data"

    res = runner.invoke(app, ["oncall", "now", "--at", "2026-04-08T12:00Z", *base])
    assert json.loads(res.output)["teams"][0]["person"] == "Sofia Alvarez"

    res = runner.invoke(app, ["oncall", "load", "--db", url, "--from", "2026-03-30", "--to", "2026-04-12", *base])
    people = {p["person"]: p for p in json.loads(res.output)["people"]}
    # The alert fired at 02:00 UTC, 22:00 in New York: a page, but before Sofia's sleep hours.
    assert people["Sofia Alvarez"]["pages"] == 1 and people["Sofia Alvarez"]["pages_sleep"] == 0
    assert people["Tom Fletcher"]["hours"] == 7 * 24 - 72  # his week minus the PTO nobody covered
    sofia = people["Sofia Alvarez"]
    assert round(sofia["business"] + sofia["off"] + sofia["sleep"], 2) == sofia["hours"]

    res = runner.invoke(app, ["oncall", "handoff", "--team", "Data", "--db", url, "--at", "2026-04-13T09:00+01:00",
                              "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "Incoming**: Tom Fletcher" in res.output and "INC-1" in res.output and "PurgerFailed" in res.output
    assert "Alert on purger success" in res.output and "d-wed" in res.output

    ics = tmp_path / "tom.ics"
    res = runner.invoke(app, ["oncall", "schedule", "--person", "Tom Fletcher", "--from", "2026-03-30", "--to",
                              "2026-04-26", "--ics", str(ics), *base])
    from fireline.oncall.ical import shifts_from_ics

    shifts = json.loads(res.output)["shifts"]
    assert len(shifts_from_ics(ics.read_bytes())) == len(shifts) == 3  # two weeks, the first cut by PTO


def test_errors_exit_2_with_the_key(tmp_path):
    res = CliRunner().invoke(app, ["oncall", "now", "--config", str(_config(tmp_path, length="0w"))])
    assert res.exit_code != 0
    assert isinstance(res.exception, UserError) and "rotations.Data.layers.0.length" in str(res.exception)


def test_handoff_action_items_are_the_open_ones_by_the_local_day(store, tmp_path):
    # Regression: the handoff counted items with no status as open (`fireline actions` does not) and
    # judged "overdue" and "due within handoff_due_days" on the UTC date: at 20:00 in Los Angeles an
    # item due that day was already overdue, and one due 15 local days ahead was listed.
    config = tmp_path / "fireline.toml"
    config.write_text('timezone = "America/Los_Angeles"\n' + PEOPLE + ROTATION.format(extra="", length="1w"))
    items = [("due today", date(2026, 4, 15), "open"), ("late", date(2026, 4, 14), "open"),
             ("no status", date(2026, 4, 10), None), ("too far", date(2026, 4, 30), "open"),
             ("finished", date(2026, 4, 12), "done")]
    with store.transaction() as tx:
        tx.insert("action_items", {"postmortem_id": ["PM-1"] * len(items), "position": list(range(1, len(items) + 1)),
                                   "owner": ["Tom Fletcher"] * len(items), "team": ["Data"] * len(items),
                                   "what": [i[0] for i in items], "due": [i[1] for i in items],
                                   "status": [i[2] for i in items]})
    url = store.url
    if store.kind == "duckdb":
        store.close()
    # 03:00 UTC on April 16 is 20:00 on April 15 in Los Angeles.
    res = CliRunner().invoke(app, ["oncall", "handoff", "--team", "Data", "--db", url, "--at", "2026-04-16T03:00Z",
                                   "--config", str(config), "--json"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    got = {i["what"]: i["overdue"] for i in json.loads(res.output)["action_items"]}
    assert got == {"late": True, "due today": False}


def test_a_rotation_that_starts_inside_the_window_is_not_a_gap_before_it(tmp_path):
    """Regression: a rotation starting 2026-03-30 asked about from 2026-01-01 reported a 2,100-hour gap whose
    cell listed every weekend and holiday before it; now the time before its first shift is "no rotation yet"
    in one line, and a layer that ends is "rotation ended" after it."""
    config = _config(tmp_path, tail='end = 2026-04-27\n')
    runner = CliRunner()
    res = runner.invoke(app, ["oncall", "gaps", "--config", str(config), "--since", "2026-01-01", "--until",
                              "2026-05-31", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["gaps"] == []
    assert [(r["team"], r["why"], r["start"][:10], r["end"][:10]) for r in data["no_rotation"]] == [
        ("Data", "no rotation yet", "2026-01-01", "2026-03-30"), ("Data", "rotation ended", "2026-04-27", "2026-06-01")]
    # before a rotation exists nobody is expected on call: not a finding (Easter on one person is)
    assert data["found"] == len(data["weekend_stretches"]) == 1
    text = runner.invoke(app, ["oncall", "gaps", "--config", str(config), "--since", "2026-01-01", "--until",
                               "2026-05-31"], env={"COLUMNS": "100"}).output
    assert "Data: no rotation yet (it starts Mon 2026-03-30 08:00 UTC)" in text
    assert "Data: rotation ended Mon 2026-04-27 08:00 UTC" in text
    assert "Nobody on call" not in text
    # No table without rows: nothing found reads as one line, not four empty frames.
    text = runner.invoke(app, ["oncall", "gaps", "--config", str(config), "--since", "2026-01-01", "--until",
                               "2026-03-01"], env={"COLUMNS": "100"}).output
    assert "Nobody on call" not in text and "Days off on one person" not in text
    assert "Data: no rotation yet (it starts Mon 2026-03-30 08:00 UTC)" in text and "No coverage gaps found" in text


def test_gaps_prints_only_the_tables_with_rows(tmp_path):
    config = _config(tmp_path)
    text = CliRunner().invoke(app, ["oncall", "gaps", "--config", str(config), "--since", "2026-03-30T09:00+01:00",
                                    "--until", "2026-04-13T09:00+01:00"], env={"COLUMNS": "120"}).output
    assert "Days off on one person for more than 48 h (1)" in text  # Easter (Good Friday to Easter Monday)
    assert "Nobody on call" not in text
