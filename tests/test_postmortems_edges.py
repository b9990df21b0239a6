"""Postmortem edge cases found by trying the commands as a user would: narrow terminals, DST, odd paths."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import Config
from fireline.errors import UserError
from fireline.metrics.repeats import repeat_incidents
from fireline.postmortems import template
from fireline.postmortems.ingest import ingest_postmortems
from fireline.sources.postmortems import parse_postmortem
from fireline.store import Store
from fireline.views import postmortems as render

PM = """\
---
id: {pid}
title: Postmortem {pid}
date: 2026-02-01
incidents: [{incident}]
tags: [disk-full]
action_items:
  - owner: Data
    what: {what}
    due: 2026-03-13
    status: {status}
{extra}---
"""


def _write(folder: Path, name: str, pid: str, incident: str, what: str = "Alert when the purger has not succeeded "
           "for 26 hours", status: str = "open", extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(PM.format(pid=pid, incident=incident, what=what, status=status, extra=extra))


def _width80(render_fn, *args) -> str:
    out = Console(width=80, record=True, highlight=False, soft_wrap=True)
    render_fn(*args, out)
    return out.export_text()


def test_actions_table_stays_readable_in_an_80_column_terminal():
    item = {"due": date(2026, 3, 13), "days_late": 114, "days_left": 0, "overdue": True, "team": "Data",
            "owner": "Tom Fletcher", "what": "Alert when the purger has not succeeded for 26 hours",
            "dora_metric": None, "postmortem_id": "PM-INC-0033", "file": "postmortems/2026-02-24-inc-0033.md",
            "line": 20}
    text = _width80(render.actions, {"today": "2026-07-05", "items": [item], "open": 1, "overdue": 1,
                                     "by_team": [{"team": "Data", "open": 1, "overdue": 1}]})
    # Words stay whole (the What column was squeezed to two characters a line).
    assert "Tom" in text and "Fletcher" in text and "Alert when" in text and "PM-INC-0033" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_followup_table_shows_whole_dates_and_verdicts_in_80_columns():
    side = {"value": 0.3, "n": 8, "sample_unit": "weeks"}
    row = {"postmortem_id": "PM-INC-0034", "position": 2, "team": "UI", "dora_metric": "deployment_frequency",
           "done_on": date(2026, 4, 6), "before": side, "after": {**side, "value": 0.5}, "change": 0.2,
           "ci": [0.1, 0.3], "verdict": "no clear change", "reason": "r", "what": "w", "weeks": 8}
    text = _width80(render.followup, [row])
    table = text.split("8 weeks before")[0]  # the caption and the reasons are soft-wrapped by the terminal
    assert "2026-04-06" in table and "UI" in table and "deploy" in table and "+1.4/wk" in table
    assert "no clear" in table.replace("\n", " ") and "change" in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_actions_ics_into_a_folder_is_a_user_error_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "postmortems", "a.md", "PM-1", "INC-1")
    (tmp_path / "fireline.toml").write_text("")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "postmortems", "--db", "f.duckdb"]).exit_code == 0
    (tmp_path / "cal").mkdir()
    result = runner.invoke(app, ["actions", "--db", "f.duckdb", "--today", "2026-07-05", "--ics", "cal"])
    # `fireline` (cli.main) turns a UserError into one line on stderr and exit 2; an OSError was a traceback.
    assert isinstance(result.exception, UserError), result.exception
    assert str(result.exception).startswith("--ics: cannot write the calendar to cal")


def test_a_list_where_a_time_belongs_names_the_mistake_not_none(tmp_path):
    doc = parse_postmortem("---\nid: PM-1\ntitle: t\ndate: 2026-01-01\nimpact_start: [1]\n---\n", tmp_path / "a.md")
    [problem] = [p for p in doc.problems if p.check_id == "pm-bad-date"]
    assert "None" not in problem.message and "impact_start" in problem.message and problem.line == 5


def test_new_postmortem_timeline_is_unambiguous_on_a_fall_back_night():
    # 01:30 EDT, detected 01:45 EDT, restored 01:40 EST: without offsets the timeline reads out of order.
    incident = {"id": "INC-NY1", "service": "svc", "title": "t", "started": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                "detected": datetime(2026, 11, 1, 5, 45, tzinfo=UTC),
                "resolved": datetime(2026, 11, 1, 6, 40, tzinfo=UTC)}
    text = template.render(incident, "America/New_York")
    timeline = text.split("## Timeline", 1)[1]
    assert "01:30 -04:00: Impact starts" in timeline and "01:40 -05:00: Service restored" in timeline
    # On an ordinary day the timeline stays plain.
    plain = template.render({**incident, "started": datetime(2026, 6, 1, 5, 30, tzinfo=UTC), "detected": None,
                             "resolved": datetime(2026, 6, 1, 6, 40, tzinfo=UTC)}, "America/New_York")
    assert "- 2026-06-01 01:30: Impact starts" in plain


def test_new_postmortem_file_name_stays_in_the_folder_whatever_the_incident_id():
    incident = {"id": "ops/INC:42", "service": "svc", "started": datetime(2026, 6, 1, 5, 30, tzinfo=UTC)}
    name = template.file_name(incident, "UTC")
    assert "/" not in name and "\\" not in name and ":" not in name and name.startswith("2026-06-01-")


def test_repeat_done_before_is_judged_on_the_local_day_of_the_repeat(duck, tmp_path):
    # The repeat starts 00:30 BST on 16 May (23:30 UTC on the 15th); the item was done on the 16th.
    with duck.transaction() as tx:
        tx.insert("incidents", {"id": ["INC-1", "INC-2"], "service": ["purger", "purger"],
                                "started": [datetime(2026, 4, 1, 10, tzinfo=UTC),
                                            datetime(2026, 5, 15, 23, 30, tzinfo=UTC)]})
    folder = tmp_path / "postmortems"
    _write(folder, "a.md", "PM-1", "INC-1", status="done", extra="    done_on: 2026-05-16\n")
    _write(folder, "b.md", "PM-2", "INC-2")
    ingest_postmortems(duck, Config(), [folder], root=tmp_path)
    [london] = repeat_incidents(duck.tables(), window_days=90, tz="Europe/London")
    assert london["earlier_actions_done_before"] == 1
    [utc] = repeat_incidents(duck.tables(), window_days=90)
    assert utc["earlier_actions_done_before"] == 0


def test_ingest_stores_paths_relative_to_the_config_folder_wherever_it_runs(tmp_path, monkeypatch):
    _write(tmp_path / "postmortems", "a.md", "PM-1", "INC-1")
    (tmp_path / "fireline.toml").write_text("")
    monkeypatch.chdir(tmp_path / "postmortems")
    runner = CliRunner()
    db = str(tmp_path / "f.duckdb")
    result = runner.invoke(app, ["ingest", "postmortems", "--db", db, "--config", str(tmp_path / "fireline.toml")])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["actions", "--db", db, "--config", str(tmp_path / "fireline.toml"), "--today",
                                "2026-07-05", "--json"])
    assert [i["file"] for i in json.loads(shown.output)["items"]] == ["postmortems/a.md"]


def test_a_key_that_is_a_list_is_reported_in_words_not_as_a_parser_object(tmp_path):
    doc = parse_postmortem("---\nid: PM-1\ntitle: t\ndate: 2026-01-01\n? [a, b]\n: x\n---\n", tmp_path / "a.md")
    [problem] = [p for p in doc.problems if p.check_id == "pm-unknown-key"]
    assert "Node" not in problem.message and "[a, b]" in problem.message and problem.line == 5


def test_huge_weeks_and_window_are_refused_like_the_config_refuses_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fireline.toml").write_text("")
    Store.open(str(tmp_path / "f.duckdb")).close()
    runner = CliRunner()
    for args in (["followup", "--weeks", "10000000"], ["postmortem", "repeats", "--window-days", "10000000000"]):
        result = runner.invoke(app, [*args, "--db", "f.duckdb"])
        assert result.exit_code == 2 and "OverflowError" not in repr(result.exception), (args, result.output)
        assert "--weeks" in result.output or "--window-days" in result.output


def test_a_wall_time_that_a_clock_change_skips_or_repeats_is_flagged(tmp_path):
    def warnings(start: str, tz: str) -> list[str]:
        doc = parse_postmortem(f"---\nid: PM-1\ntitle: t\ndate: 2026-01-01\nimpact_start: {start}\n---\n",
                               tmp_path / "a.md", tz)
        return [p.message for p in doc.problems if p.check_id == "pm-invalid-value"]

    [skipped] = warnings("2026-03-29T01:30", "Europe/London")  # clocks go forward 01:00 -> 02:00
    assert "does not exist in Europe/London" in skipped and "offset" in skipped
    [twice] = warnings("2026-11-01T01:30", "America/New_York")  # clocks go back 02:00 -> 01:00
    assert "happened twice in America/New_York" in twice
    [half_hour] = warnings("2026-04-05T01:45", "Australia/Lord_Howe")  # back by 30 min: 01:30-02:00 twice
    assert "happened twice" in half_hour
    assert warnings("2026-11-01T01:30-05:00", "America/New_York") == []  # an offset settles it
    assert warnings("2026-06-01T01:30", "Europe/London") == []


def test_a_file_named_twice_on_the_command_line_is_read_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "postmortems", "a.md", "PM-1", "INC-1")
    (tmp_path / "fireline.toml").write_text("")
    result = CliRunner().invoke(app, ["postmortem", "lint", "postmortems", "postmortems/a.md", "./postmortems/a.md"])
    assert result.exit_code == 0, result.output
    assert "pm-duplicate-id" not in result.output and "in 1 postmortem files" in result.output
