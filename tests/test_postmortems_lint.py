"""`fireline postmortem lint` and `postmortem new`: real files in temporary folders, every finding with file:line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.config import Config, PersonConfig, TeamConfig
from fireline.postmortems import lint
from fireline.sources.postmortems import DORA_METRICS, parse_postmortem
from fireline.views.findings import render_sarif

FIRELINE = [sys.executable, "-m", "fireline.cli"]
CFG = Config(teams={"SRE": TeamConfig(services=["api"]), "Data": TeamConfig(services=["purger"])},
             people={"Ada Lovelace": PersonConfig(team="SRE")})

GOOD = """\
---
id: PM-7
title: Disk full on the export host
date: 2026-05-19
severity: SEV1
services: [purger]
incidents: [INC-0042]
detected_by: customer
impact_start: 2026-05-16T01:40:00+01:00
impact_end: 2026-05-17 15:30
status: published
authors: [Ada Lovelace]
tags: [disk-full]
action_items:
  - owner: Ada Lovelace
    what: Alert at 85% disk usage
    due: 2026-05-22
    status: done
    done_on: 2026-05-20
    ticket: https://tracker.example.com/SRE-1
  - owner: Data
    what: Fewer failed changes
    due: 2026-06-30
    term: long
    dora_metric: change-failure-rate
---

# Disk full
"""


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("FIRELINE_DB", None)
    env.pop("FIRELINE_CONFIG", None)
    return subprocess.run([*FIRELINE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def _found(folder: Path, cfg: Config = CFG, **kw) -> list[tuple[str, int, str, str]]:
    result = lint.lint_paths([folder], cfg, root=folder, **kw)
    return [(f.file, f.line, f.check_id, f.message) for f in result.findings]


def test_a_good_postmortem_is_read_with_every_field_and_line(tmp_path):
    doc = parse_postmortem(GOOD, tmp_path / "pm.md", tz="Europe/London")
    assert doc.problems == []
    assert (doc.id, doc.date, doc.services, doc.incidents, doc.tags) == (
        "PM-7", date(2026, 5, 19), ["purger"], ["INC-0042"], ["disk-full"])
    assert doc.impact_start.isoformat() == "2026-05-16T00:40:00+00:00"
    assert doc.impact_end.isoformat() == "2026-05-17T14:30:00+00:00"  # a wall-clock time in the config's zone
    first, second = doc.action_items
    assert (first.line, first.line_of("due"), second.line) == (15, 17, 21)
    assert (first.status, first.done_on, first.term) == ("done", date(2026, 5, 20), "short")
    assert (second.term, second.dora_metric, second.status) == ("long", "change_failure_rate", "open")
    assert _found(_write(tmp_path / "pm", "a.md", GOOD)) == []


def test_each_bad_input_gets_a_message_with_file_and_line_and_lint_goes_on(tmp_path):
    folder = tmp_path / "postmortems"
    _write(folder, "a-bad.md", GOOD.replace("date: 2026-05-19", "date: 19/05/2026")
           .replace("services:", "servces:").replace("due: 2026-06-30", "due: 2026-02-30")
           .replace("dora_metric: change-failure-rate", "dora_metric: mttr")
           .replace("    done_on: 2026-05-20\n", "").replace("owner: Data", "owner: Dta"))
    _write(folder, "b-yaml.md", "---\nid: PM-8\ntitle: [unclosed\ndate: 2026-01-01\n---\n")
    _write(folder, "c-none.md", "# Just notes, no front matter\n")
    _write(folder, "d-dup.md", GOOD)
    _write(folder, "e-incomplete.md", GOOD.replace("id: PM-7", "id: PM-9").replace(
        "    what: Fewer failed changes\n", "").replace("    due: 2026-06-30\n", ""))
    _write(folder, "README.md", "This folder holds postmortems.\n")  # not a postmortem: skipped
    found = _found(folder)
    assert ("a-bad.md", 4, "pm-bad-date",
            "date: '19/05/2026' is not a date in the YYYY-MM-DD format (e.g. 2026-05-16)") in found
    assert ("a-bad.md", 6, "pm-unknown-key",
            "front matter: unknown key 'servces' (did you mean 'services'?); it is ignored") in found
    assert ("a-bad.md", 18, "pm-done-without-date", "action item 1 is done but has no done_on date") in found
    assert ("a-bad.md", 20, "pm-unknown-owner", "action item 2: owner 'Dta' is neither a team nor a person in the "
            "config (did you mean 'Data'?)") in found
    assert any(f[:3] == ("a-bad.md", 22, "pm-bad-date") and "not a real date" in f[3] for f in found)
    assert any(f[:3] == ("a-bad.md", 24, "pm-invalid-metric") and "'mttr'" in f[3] for f in found)
    assert any(f[:3] == ("b-yaml.md", 4, "pm-yaml-invalid") and "started on line 3" in f[3] for f in found)
    assert next(f[:3] for f in found if f[0] == "c-none.md") == ("c-none.md", 1, "pm-front-matter-missing")
    assert ("d-dup.md", 2, "pm-duplicate-id", "id 'PM-7' is also used by a-bad.md:2") in found
    assert ("e-incomplete.md", 21, "pm-action-incomplete", "action item 2 has no WHAT (what), no WHEN (due): "
            "every action item says who does what by when") in found
    assert not any(f[0] == "README.md" for f in found)


def test_owners_are_free_text_without_teams_or_people_in_the_config(tmp_path):
    folder = _write(tmp_path / "pm", "a.md", GOOD.replace("owner: Data", "owner: Whoever")).parent
    assert _found(folder, Config()) == []
    assert [f[2] for f in _found(folder)] == ["pm-unknown-owner"]


def test_incidents_are_checked_against_the_store_when_it_has_some(tmp_path):
    folder = _write(tmp_path / "pm", "a.md", GOOD).parent
    assert _found(folder, known_incidents=None) == []
    assert _found(folder, known_incidents={"INC-0042"}) == []
    [(_, line, check, message)] = _found(folder, known_incidents={"INC-0041", "INC-0043"})
    assert (line, check) == (7, "pm-unknown-incident") and "'INC-0042' is not in the store" in message


def test_warnings_for_long_term_items_without_a_metric_and_for_no_items(tmp_path):
    folder = tmp_path / "pm"
    _write(folder, "a.md", GOOD.replace("    dora_metric: change-failure-rate\n", ""))
    _write(folder, "b.md", "---\nid: PM-2\ntitle: t\ndate: 2026-01-01\naction_items: []\n---\n")
    found = _found(folder)
    assert [(f[0], f[2]) for f in found] == [("a.md", "pm-long-term-no-metric"), ("b.md", "pm-no-action-items")]
    assert all(f.severity == "warning" for f in lint.lint_paths([folder], CFG).findings)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["SRE", "Data", "Ada Lovelace"]),
                          st.text(alphabet="abcdefgh xyz", min_size=1, max_size=30).filter(str.strip),
                          st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
                          st.sampled_from([*DORA_METRICS, "none"])), min_size=1, max_size=6))
def test_any_complete_action_item_lints_clean_and_points_at_its_line(items):
    lines = ["---", "id: PM-1", "title: t", "date: 2026-01-01", "action_items:"]
    starts = []
    for owner, what, due, metric in items:
        starts.append(len(lines) + 1)
        lines += [f"  - owner: {owner}", f"    what: '{what}'", f"    due: {due.isoformat()}",
                  f"    term: {'short' if metric == 'none' else 'long'}", f"    dora_metric: {metric}"]
    doc = parse_postmortem("\n".join([*lines, "---", ""]), Path("pm.md"))
    assert lint.lint_docs([doc], CFG) == []
    assert [i.line for i in doc.action_items] == starts
    assert [i.due for i in doc.action_items] == [due for _, _, due, _ in items]


def test_sarif_names_each_file_and_line(tmp_path):
    folder = _write(tmp_path / "pm", "a.md", GOOD.replace("date: 2026-05-19", "date: soon")).parent
    result = lint.lint_paths([folder], CFG, root=tmp_path)
    log = json.loads(render_sarif(result.findings, lint.CHECKS.values()))
    [res] = log["runs"][0]["results"]
    assert res["ruleId"] == "pm-bad-date" and res["level"] == "error"
    assert res["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "pm/a.md"},
                                                       "region": {"startLine": 4}}
    assert "pm-unknown-owner" in {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}


def test_lint_command_exit_codes_and_formats(tmp_path):
    folder = tmp_path / "postmortems"
    _write(folder, "good.md", GOOD)
    (tmp_path / "fireline.toml").write_text('[teams.SRE]\nservices = ["api"]\n[teams.Data]\nservices = ["purger"]\n'
                                            '[people]\n"Ada Lovelace" = { team = "SRE" }\n')
    clean = _cli(["postmortem", "lint"], tmp_path)  # default folder: postmortems/ next to the config
    assert clean.returncode == 0, clean.stderr
    assert "no findings in 1 postmortem files" in clean.stdout
    _write(folder, "bad.md", GOOD.replace("id: PM-7", "id: PM-8").replace("due: 2026-05-22", "due: tomorrow"))
    bad = _cli(["postmortem", "lint", "--format", "json"], tmp_path)
    assert bad.returncode == 1
    [finding] = json.loads(bad.stdout)["findings"]
    assert (finding["file"], finding["line"], finding["group"], finding["rule"]) == (
        "postmortems/bad.md", 17, "PM-8", "action 1")
    sarif = _cli(["postmortem", "lint", "--format", "sarif", "postmortems/bad.md"], tmp_path)
    assert sarif.returncode == 1 and json.loads(sarif.stdout)["version"] == "2.1.0"
    missing = _cli(["postmortem", "lint", "nowhere"], tmp_path)
    assert missing.returncode == 2 and "nowhere: no such file or folder" in missing.stderr
    warn_only = _write(tmp_path / "w", "w.md", "---\nid: PM-3\ntitle: t\ndate: 2026-01-01\n---\n")
    assert _cli(["postmortem", "lint", str(warn_only)], tmp_path).returncode == 0
    assert _cli(["postmortem", "lint", "--fail-on", "warning", str(warn_only)], tmp_path).returncode == 1


def test_new_writes_a_prefilled_file_that_lints_clean_but_for_its_action_items(tmp_path):
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("id,service,title,started,detected,resolved,severity,detected_by\n"
                         "INC-0042,purger,Disk full,2026-05-16T00:40:00Z,2026-05-16T08:15:00Z,"
                         "2026-05-17T14:30:00Z,SEV1,customer\n")
    (tmp_path / "fireline.toml").write_text('timezone = "Europe/London"\n[teams.Data]\nservices = ["purger"]\n')
    db = str(tmp_path / "f.duckdb")
    assert _cli(["ingest", "incidents", str(incidents), "--db", db], tmp_path).returncode == 0
    made = _cli(["postmortem", "new", "--incident", "INC-0042", "--db", db], tmp_path)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "postmortems" / "2026-05-16-inc-0042.md"
    assert made.stdout.strip() == str(path)
    text = path.read_text()
    for expected in ('id: "PM-INC-0042"', "severity: \"SEV1\"", 'services: ["purger"]', 'detected_by: "customer"',
                     "impact_start: 2026-05-16T01:40+01:00", "impact_end: 2026-05-17T15:30+01:00",
                     "## Summary", "## Impact", "## Root causes", "## Trigger", "## Resolution", "## Detection",
                     "### What went well", "### What went wrong", "### Where we got lucky", "## Timeline",
                     "- 2026-05-16 09:15: Detected (customer)", "7 h 35 min after impact started"):
        assert expected in text, expected
    linted = _cli(["postmortem", "lint", "--db", db, "--format", "json"], tmp_path)
    assert linted.returncode == 0
    assert [f["check_id"] for f in json.loads(linted.stdout)["findings"]] == ["pm-no-action-items"]
    again = _cli(["postmortem", "new", "--incident", "INC-0042", "--db", db], tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert _cli(["postmortem", "new", "--incident", "INC-0042", "--db", db, "--force"], tmp_path).returncode == 0
    unknown = _cli(["postmortem", "new", "--incident", "INC-0024", "--db", db], tmp_path)
    assert unknown.returncode == 2 and "did you mean 'INC-0042'" in unknown.stderr
