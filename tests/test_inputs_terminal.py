"""Names from files, webhooks and config never act on the terminal: an escape sequence in a service
name is shown as `\\x1b`, never sent (it would retitle the window and clear the screen), and Rich markup
in it shows as written (`[bold red]` stays text; a stray `[/]` cannot crash the table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fireline.views import terminal

from .test_cli import WINDOW, Run, fireline

OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
EVIL = f"evil{OSC_TITLE}{CLEAR}[bold red]loud[/]"
STRAY = "stray[/]close"
RAW = ("\x1b", "\x07", "\x9b")


def inert(run: Run, *literals: str) -> None:
    """Exit 0, no raw control character on either stream, markup shown as written."""
    assert run.code == 0, (run.code, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    for stream in (run.stdout, run.stderr):
        for ch in RAW:
            assert ch not in stream, (ch, stream)
    for literal in literals:
        assert literal in run.stdout.replace("\n", ""), (literal, run.stdout)


def _deployments(tmp_path: Path) -> Path:
    path = tmp_path / "deployments.ndjson"
    rows = [{"time": "2026-03-02T10:00:00Z", "service": EVIL, "sha": "abcdef1", "id": "d1"},
            {"time": "2026-03-03T10:00:00Z", "service": EVIL, "sha": "abcdef2", "id": "d2"},
            {"time": "2026-03-03T11:00:00Z", "service": STRAY, "sha": "abcdef3", "id": "d3"},
            {"time": "2026-03-03T12:00:00Z", "service": "hot:fire:", "sha": "abcdef4", "id": "d4"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory) -> Path:
    """A folder whose store holds hostile names; made once per module, as its tests only read it."""
    tmp_path = tmp_path_factory.mktemp("evil")
    run = fireline(tmp_path, "ingest", "deployments", str(_deployments(tmp_path)))
    assert run.code == 0, run.stderr
    incidents = tmp_path / "incidents.ndjson"
    incidents.write_text(json.dumps({"id": f"INC-{EVIL}", "service": EVIL, "title": EVIL,
                                     "started": "2026-03-02T12:00:00Z", "resolved": "2026-03-02T13:00:00Z"}) + "\n")
    run = fireline(tmp_path, "ingest", "incidents", str(incidents))
    assert run.code == 0, run.stderr
    return tmp_path


def test_dora_shows_escape_sequences_and_markup_as_text(evil_store):
    run = fireline(evil_store, "dora", *WINDOW)
    inert(run, "[bold red]loud[/]", STRAY, "hot:fire:")
    assert "pwned" in run.stdout


def test_dora_in_colour_still_sends_no_escape_sequence_of_the_data(evil_store):
    # Rich styles its own output on a colour terminal; the data's OSC, BEL and clear-screen must not pass.
    run = fireline(evil_store, "dora", *WINDOW, env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"})
    assert run.code == 0, run.stderr
    for raw in (OSC_TITLE, "\x07", CLEAR, "\x1b]"):
        assert raw not in run.stdout


@pytest.mark.parametrize("metric", ["deployment-frequency", "change-failure-rate", "time-to-restore"])
def test_explain_tables_show_data_as_text(evil_store, metric):
    run = fireline(evil_store, "explain", metric, *WINDOW, "--limit", "0", env={"COLUMNS": "400"})
    inert(run, "[bold red]loud[/]")


def test_alerts_report_shows_rule_names_as_text(tmp_path):
    history = tmp_path / "alerts.ndjson"
    rows = []
    for hour in range(0, 10, 2):  # a flapping rule, so it is among the noisiest
        start, end = f"2026-03-02T{hour:02d}:00:00Z", f"2026-03-02T{hour:02d}:05:00Z"
        rows += [{"fingerprint": "f1", "name": EVIL, "status": "firing", "starts_at": start, "service": EVIL},
                 {"fingerprint": "f1", "name": EVIL, "status": "resolved", "starts_at": start, "ends_at": end,
                  "service": EVIL}]
    history.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert fireline(tmp_path, "ingest", "alerts", str(history)).code == 0
    run = fireline(tmp_path, "alerts", "report", *WINDOW, env={"COLUMNS": "300"})
    inert(run, "[bold red]loud[/]")


def test_alerts_lint_text_shows_rule_names_as_text(tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: " + json.dumps(EVIL) + "\n    expr: up\n")
    run = fireline(tmp_path, "alerts", "lint", str(rules))
    assert run.code == 1
    inert(Run(0, run.stdout, run.stderr), "[bold red]loud[/]", "\\x1b]0;pwned\\x07")


def test_oncall_tables_show_names_from_config_as_text(tmp_path):
    name = json.dumps(EVIL)
    (tmp_path / "fireline.toml").write_text(
        f"[people.{name}]\nemail = \"e@example.com\"\n[[rotations.{json.dumps(STRAY)}.layers]]\nname = {name}\n"
        f"members = [{name}]\nlength = \"1w\"\nstart = 2026-03-02\n")
    for args in (("now", "--at", "2026-03-03"), ("schedule", "--from", "2026-03-02", "--to", "2026-03-09")):
        inert(fireline(tmp_path, "oncall", *args, env={"COLUMNS": "300"}), "[bold red]loud[/]", STRAY)
    inert(fireline(tmp_path, "oncall", "next", "--at", "2026-03-03", env={"COLUMNS": "300"}))


def test_actions_show_owners_and_items_as_text(tmp_path):
    folder = tmp_path / "postmortems"
    folder.mkdir()
    (folder / "pm.md").write_text(
        "---\nid: PM-1\ntitle: t\ndate: 2026-02-01\naction_items:\n"
        f"  - owner: {json.dumps(EVIL)}\n    what: {json.dumps(EVIL)}\n    due: 2026-03-01\n---\n\nBody.\n")
    ingest = fireline(tmp_path, "ingest", "postmortems", str(folder))
    assert ingest.code == 0, ingest.stderr
    inert(fireline(tmp_path, "actions", "--today", "2026-03-05", env={"COLUMNS": "300"}), "[bold red]loud[/]")


def test_an_error_naming_a_hostile_path_sends_no_control_character(tmp_path):
    run = fireline(tmp_path, "ingest", "deployments", str(tmp_path / f"{EVIL}.csv"), env={"COLUMNS": "300"})
    assert run.code == 2
    for ch in RAW:
        assert ch not in run.stderr
    assert "[bold red]loud[/]" in run.err


@pytest.mark.parametrize(("value", "shown"), [
    ("a\x1b[2Jb", "a\\x1b[2Jb"), ("bell\x07", "bell\\x07"), ("csi\x9b", "csi\\x9b"), ("nl\nx", "nl\\x0ax"),
    ("[bold]x[/]", "[bold]x[/]"), ("lone\ud800", "lone\\ud800"), ("plain ünïcode 🔥", "plain ünïcode 🔥"),
])
def test_safe_makes_any_value_inert_text(value, shown):
    from rich.console import Console

    console = Console(file=None, record=True, width=200, color_system=None)
    console.print(terminal.safe(value))
    assert console.export_text().rstrip("\n") == shown


def test_ingest_summaries_show_a_path_with_markup_as_written(tmp_path):
    # Regression: the ingest summary printed the file's path as Rich markup: a folder named with
    # `[bold]` lost its brackets (and `[/]` broke the line); deployment ids in the unresolved warning likewise.
    folder = tmp_path / "exp[bold]orts"
    folder.mkdir()
    path = folder / "deployments.ndjson"
    path.write_text(json.dumps({"time": "2026-03-02T10:00:00Z", "service": "api", "sha": "abcdef1",
                                "id": "[red]d1[/]"}) + "\n")
    run = fireline(tmp_path, "ingest", "deployments", str(path))
    inert(run, "exp[bold]orts", "1 new deployments")
    assert "[red]d1[/]" in run.stderr.replace("\n", "")
