"""`fireline oncall` at the edges a user reaches by mistake: dates far out of range, odd config values,
calendars with zones nobody knows. Each must be a clear error (exit 2, naming what to fix), never a
traceback and never a schedule silently read another way."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.errors import UserError

CONFIG = """timezone = "{zone}"
[people]
"Tom" = {{ email = "tom@example.com", timezone = "Europe/London" }}
"Ann" = {{ email = "ann@example.com", timezone = "America/New_York" }}
[oncall]
{oncall}
[[rotations.A.layers]]
name = "base"
members = ["Tom", "Ann"]
length = "{length}"
start = {start}
{layer}
"""


def _config(tmp_path: Path, *, zone: str = "Europe/London", oncall: str = "", length: str = "1w",
            start: str = "2026-03-02", layer: str = "") -> Path:
    path = tmp_path / "fireline.toml"
    path.write_text(CONFIG.format(zone=zone, oncall=oncall, length=length, start=start, layer=layer))
    return path


def _run(path: Path, *args: str):
    return CliRunner().invoke(app, ["oncall", *args, "--config", str(path)])


def _user_error(res, *words: str) -> str:
    assert isinstance(res.exception, UserError), res.output + repr(res.exception)
    text = str(res.exception)
    for word in words:
        assert word in text, text
    return text


@pytest.mark.parametrize("args", [
    ("now", "--at", "9999-12-31"),
    ("now", "--at", "0001-01-01"),
    ("next", "--at", "9999-12-01"),
    ("schedule", "--from", "9999-12-30", "--to", "9999-12-31"),
    ("gaps", "--from", "0001-01-01", "--to", "0001-02-01"),
])
def test_an_instant_out_of_range_is_a_user_error(tmp_path, args):
    _user_error(_run(_config(tmp_path), *args), "out of range")


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"zone": "Asia/Tokyo", "start": "0001-01-01", "length": "1h"}, "rotations.A.layers.0.start"),
    ({"zone": "America/New_York", "start": "9999-12-31"}, "rotations.A.layers.0.start"),
    ({"length": "999999999w"}, "rotations.A.layers.0.length"),
    ({"layer": "end = 9999-12-31"}, "rotations.A.layers.0.end"),
])
def test_config_dates_and_lengths_out_of_range_name_the_key(tmp_path, kwargs, key):
    _user_error(_run(_config(tmp_path, **kwargs), "now", "--at", "2026-03-10"), key)


def test_a_handoff_at_24_00_is_refused_not_moved_a_day_early(tmp_path):
    # 24:00 on the start date would be the next midnight; reading it as 00:00 starts a day early.
    _user_error(_run(_config(tmp_path, layer='handoff = "24:00"'), "now", "--at", "2026-03-10"),
                "rotations.A.layers.0.handoff", "00:00")


def test_a_restriction_with_no_days_is_refused(tmp_path):
    # An empty day list never opens: the layer would silently have nobody on call.
    layer = 'restrictions = [{ start = "09:00", end = "17:00", days = [] }]'
    _user_error(_run(_config(tmp_path, layer=layer), "now", "--at", "2026-03-10"),
                "rotations.A.layers.0.restrictions.0.days")


def test_an_unknown_holiday_subdivision_is_a_config_error(tmp_path):
    path = _config(tmp_path, oncall='holidays = ["US-XX"]')
    _user_error(_run(path, "gaps", "--from", "2026-03-02", "--to", "2026-03-20"), "oncall.holidays.0", "US-XX")


def test_an_unknown_holiday_country_is_a_config_error_of_the_on_call_commands(tmp_path):
    path = _config(tmp_path, oncall='holidays = ["XX"]')
    _user_error(_run(path, "gaps", "--from", "2026-03-02", "--to", "2026-03-20"), "oncall.holidays.0", "XX")


def test_a_holiday_code_that_is_no_country_code_is_refused_by_every_command(tmp_path):
    path = _config(tmp_path, oncall='holidays = ["1"]')
    for args in (["dora", "--db", str(tmp_path / "none.duckdb")], ["oncall", "now", "--at", "2026-03-03"]):
        _user_error(CliRunner().invoke(app, [*args, "--config", str(path)]), "oncall.holidays.0", "'1'")


def test_a_pto_event_in_an_unknown_time_zone_is_refused(tmp_path):
    # Read in Tom's zone instead, the PTO would silently sit at other hours than the calendar says.
    (tmp_path / "pto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Mars/Olympus:20260303T090000\r\n"
        "DTEND;TZID=Mars/Olympus:20260303T170000\r\nSUMMARY:Tom PTO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    path = _config(tmp_path, oncall='pto_calendars = ["pto.ics"]')
    _user_error(_run(path, "now", "--at", "2026-03-03"), "pto.ics", "event 1", "Mars/Olympus")


def test_a_pto_event_in_a_vtimezone_of_the_file_still_works(tmp_path):
    # The counterpart of the refusal above: a TZID defined by the file's own VTIMEZONE is known.
    (tmp_path / "pto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Office\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0200\r\nTZNAME:OFF\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:1@t\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Office:20260303T090000\r\nDTEND;TZID=Office:20260303T170000\r\n"
        "SUMMARY:Tom PTO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    path = _config(tmp_path, oncall='pto_calendars = ["pto.ics"]')
    res = _run(path, "now", "--at", "2026-03-03T08:00Z", "--json")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert '"person": null' in res.output  # 09:00 +02:00 = 07:00 UTC: Tom is away, nobody covers


def test_override_and_pto_dates_out_of_range_are_refused(tmp_path):
    tail = '[[rotations.A.overrides]]\nperson = "Tom"\nstart = 0001-01-01\nend = 0001-01-02\n'
    path = _config(tmp_path, zone="Asia/Tokyo")
    path.write_text(path.read_text() + tail)
    _user_error(_run(path, "now", "--at", "2026-03-10"), "rotations.A.overrides.0.start", "out of range")
    (tmp_path / "pto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:00010101\r\nSUMMARY:Tom PTO\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n")
    path = _config(tmp_path, zone="Asia/Tokyo", oncall='pto_calendars = ["pto.ics"]')
    _user_error(_run(path, "now", "--at", "2026-03-10"), "pto.ics", "event 1", "out of range")


def test_now_and_next_see_a_long_rotation_whole(tmp_path):
    # A quarterly rotation: the shift began two months before --at and the next one ends in October.
    # Looking only a few weeks around --at reported the edge of the look as `since` and `end`.
    import json

    path = _config(tmp_path, length="13w", start="2026-01-05")
    res = _run(path, "now", "--at", "2026-03-10", "--json")
    (team,) = json.loads(res.output)["teams"]
    assert (team["person"], team["since"], team["until"]) == ("Tom", "2026-01-05T09:00:00+00:00",
                                                              "2026-04-06T08:00:00+00:00")
    res = _run(path, "next", "--at", "2026-03-10", "--count", "2", "--json")
    handoffs = json.loads(res.output)["teams"][0]["handoffs"]
    assert [(h["person"], h["start"], h["end"]) for h in handoffs] == [
        ("Ann", "2026-04-06T08:00:00+00:00", "2026-07-06T08:00:00+00:00"),
        ("Tom", "2026-07-06T08:00:00+00:00", "2026-10-05T08:00:00+00:00")]


def test_a_pto_rule_with_too_many_occurrences_is_refused_not_expanded(tmp_path):
    # Every other second for two years is 31 million away periods: the command hung expanding them.
    (tmp_path / "pto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART:20260303T090000Z\r\nDTEND:20260303T090001Z\r\n"
        "RRULE:FREQ=SECONDLY;INTERVAL=2\r\nSUMMARY:Tom PTO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    path = _config(tmp_path, oncall='pto_calendars = ["pto.ics"]')
    _user_error(_run(path, "now", "--at", "2026-03-03"), "pto.ics", "event 1", "occurrences")


def test_a_weekly_pto_rule_with_an_exdate_gives_each_friday_but_the_excluded_one(tmp_path):
    import tomllib
    from datetime import UTC, datetime

    from fireline.config import parse_config
    from fireline.oncall.settings import load

    (tmp_path / "pto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260320\r\nDTEND;VALUE=DATE:20260321\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\nEXDATE;VALUE=DATE:20260327\r\nSUMMARY:Tom PTO\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n")
    path = _config(tmp_path, oncall='pto_calendars = ["pto.ics"]')
    cfg = parse_config(tomllib.loads(path.read_text()), source=str(path), base_dir=tmp_path)
    starts = [o.start for o in load(cfg).overrides["A"]]
    # Whole days on Tom's London calendar: GMT on 20 March, BST (UTC+1) from 29 March.
    assert starts == [datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 2, 23, tzinfo=UTC)]


@pytest.mark.parametrize("to", ["2026-04-01", "20260401", " 20260401 "])
def test_to_a_date_in_either_iso_form_includes_the_whole_day(tmp_path, to):
    # Regression: `--to 20260401` ended at the start of April 1 while `--to 2026-04-01` included it.
    import json

    res = _run(_config(tmp_path), "schedule", "--from", "2026-03-30", "--to", to, "--json")
    assert res.exit_code == 0, res.output + repr(res.exception)
    data = json.loads(res.output)
    assert data["to"] == "2026-04-01T23:00:00+00:00"  # the midnight after April 1, BST
    assert data["shifts"][-1]["end"] == data["to"]
