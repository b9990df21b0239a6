"""What every command prints on the demo, pinned: a refactor must not change a byte.

The golden files in tests/golden/ were recorded from the CLI before the library core was
restructured. `FIRELINE_GOLDEN_UPDATE=1 pytest tests/test_golden.py` records them again,
for a change of behaviour that is meant (review the diff).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app

GOLDEN = Path(__file__).resolve().parent / "golden"
WINDOW = ["--since", "2026-01-05T00:00Z", "--until", "2026-07-05T00:00Z"]
CONFIG = ["--config", "{world}/fireline.toml"]
DB = ["--db", "{db}"]

# name -> arguments; {db} and {world} are filled in. JSON for every command that has it,
# and the text of the commands people read most.
COMMANDS: dict[str, list[str]] = {
    "dora.json": ["dora", *DB, *CONFIG, *WINDOW, "--json"],
    "dora-data.txt": ["dora", *DB, *CONFIG, *WINDOW, "--team", "Data"],
    "dora-month.json": ["dora", *DB, *CONFIG, *WINDOW, "--by", "month", "--json"],
    "dora-month.txt": ["dora", *DB, *CONFIG, *WINDOW, "--by", "month"],
    "dora-2024.json": ["dora", *DB, *CONFIG, *WINDOW, "--profile", "dora-2024", "--json"],
    "explain-ttr-purger.json": ["explain", "time-to-restore", *DB, *CONFIG, *WINDOW, "--service", "purger",
                                "--json"],
    "explain-lead-cpp.txt": ["explain", "lead-time", *DB, *CONFIG, *WINDOW, "--team", "C++"],
    "explain-cfr.json": ["explain", "change-failure-rate", *DB, *CONFIG, *WINDOW, "--json"],
    "tiers.json": ["tiers", "--json"],
    "alerts-report.json": ["alerts", "report", *DB, *CONFIG, *WINDOW, "--json"],
    "alerts-report.txt": ["alerts", "report", *DB, *CONFIG, *WINDOW],
    "alerts-report-at.json": ["alerts", "report", *DB, *CONFIG, *WINDOW, "--at", "2026-07-05T00:00Z", "--json"],
    "actions-today-alias.json": ["actions", *DB, *CONFIG, "--today", "2026-07-05", "--json"],
    "oncall-gaps-from-alias.json": ["oncall", "gaps", *DB, *CONFIG, "--from", "2026-01-05", "--to", "2026-07-04",
                                    "--json"],
    "actions.json": ["actions", *DB, *CONFIG, "--at", "2026-07-05", "--json"],
    "actions-overdue.txt": ["actions", *DB, *CONFIG, "--at", "2026-07-05", "--overdue"],
    "followup.json": ["followup", *DB, *CONFIG, "--at", "2026-07-05", "--json"],
    "repeats.json": ["postmortem", "repeats", *DB, *CONFIG, "--json"],
    "oncall-now.json": ["oncall", "now", *CONFIG, "--at", "2026-05-16T09:15", "--json"],
    "oncall-gaps.json": ["oncall", "gaps", *DB, *CONFIG, "--since", "2026-01-05", "--until", "2026-07-04", "--json"],
    "oncall-load.json": ["oncall", "load", *DB, *CONFIG, "--since", "2026-01-05", "--until", "2026-07-04", "--json"],
    "oncall-handoff.json": ["oncall", "handoff", "--team", "Data", *DB, *CONFIG, "--at", "2026-05-18T09:00",
                            "--json"],
    "oncall-schedule.json": ["oncall", "schedule", *CONFIG, "--team", "SRE", "--since", "2026-03-23", "--until",
                             "2026-03-29", "--json"],
    "debt-data.json": ["debt", *DB, *CONFIG, "--at", "2026-07-05T00:00Z", "--team", "Data", "--json"],
    "budget.json": ["budget", *DB, *CONFIG, *WINDOW, "--json"],
    "plan-data.json": ["plan", *DB, *CONFIG, "--release", "2026-09-30", "--team", "Data", *WINDOW,
                       "--at", "2026-07-05T00:00Z", "--json"],
    # --quiet: the runner's output mixes in stderr, where the progress lines go (tests/test_report_kept.py).
    "knowledge.json": ["knowledge", "{world}/repos/data-platform", *DB, *CONFIG, "--at", "2026-07-05T00:00Z",
                       "--json", "--quiet"],
    "testing.json": ["testing", *DB, *CONFIG, *WINDOW, "--json"],
    "testing.txt": ["testing", *DB, *CONFIG, *WINDOW],
    "dora-stages.txt": ["dora", *DB, *CONFIG, *WINDOW, "--stages"],
    "explain-review-cpp.txt": ["explain", "lead-time", *DB, *CONFIG, *WINDOW, "--team", "C++", "--stage", "review",
                               "--limit", "8"],
}


@pytest.fixture(scope="module")
def demo(demo_org):
    return {"db": str(demo_org.db), "world": str(Path(demo_org.db).parent / "world")}


def _run(args: list[str], paths: dict[str, str]) -> str:
    filled = [a.format(**paths) for a in args]
    result = CliRunner().invoke(app, filled, env={"COLUMNS": "120", "NO_COLOR": "1", "TZ": "UTC"})
    assert result.exit_code in (0, 1), (filled, result.output, result.exception)
    # Paths of the temporary demo differ per run; the rest must not. `alerts report` without --at
    # prints the wall clock as its "now".
    output = re.sub(re.escape(str(Path(paths["db"]).parent)), "<demo>", result.output)
    return re.sub(r'"now": "[^"]*"', '"now": "<now>"', output) if args[:2] == ["alerts", "report"] else output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_output_is_unchanged(demo, name):
    output = _run(COMMANDS[name], demo)
    path = GOLDEN / name
    if os.environ.get("FIRELINE_GOLDEN_UPDATE") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(output)
    assert path.exists(), f"no golden file {path.name}: record it with FIRELINE_GOLDEN_UPDATE=1"
    assert output == path.read_text(), f"{path.name} changed"
