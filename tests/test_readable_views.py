"""Day-one readability of what people see: rates in a unit that gives a readable number, one word per
tier, month labels, plurals, and `explain` tables that fit 80 columns without cutting ids (issue 15)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.metrics.summary import MetricValue
from fireline.metrics.tiers import PROFILES
from fireline.views.terminal import format_value

from . import report_support as rs


def _run(*args: str, columns: int = 120) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1", "TZ": "UTC"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _deployments(tmp_path: Path, times: list[str]) -> Path:
    db = tmp_path / "f.duckdb"
    csv = tmp_path / "deployments.csv"
    csv.write_text("id,time,service,environment,sha,status\n" + "".join(
        f"d{i},{t},api,production,{i + 1:040x},success\n" for i, t in enumerate(times)))
    _run("ingest", "deployments", str(csv), "--db", str(db))
    return db


@pytest.mark.parametrize("per_day, text", [
    (1.2, "1.2/day"), (12.04, "12/day"), (3 / 7, "3/wk"), (1.5 / 7, "1.5/wk"), (0.3 / 30, "0.3/mo"),
    (1 / 365, "0.08/mo"), (0.0, "0"),
])
def test_a_rate_reads_per_day_week_or_month_whichever_gives_a_readable_number(per_day, text):
    assert format_value("deployment_frequency", MetricValue(per_day, "deployments/day", 1)) == text


def test_one_deployment_in_half_a_year_is_not_zero_a_week(tmp_path):
    # Regression: flask's one deployment in a window showed as "0.0/wk".
    db = _deployments(tmp_path, ["2026-03-10T10:00:00Z"])
    window = ["--db", str(db), "--since", "2026-01-01", "--until", "2026-06-30"]
    text = _run("dora", *window)
    assert "0.2/mo" in text and "0.0/wk" not in text
    # JSON keeps its unit: deployments per day, unrounded.
    data = json.loads(_run("dora", *window, "--json"))
    assert data["overall"]["deployment_frequency"]["unit"] == "deployments/day"
    assert data["overall"]["deployment_frequency"]["value"] == pytest.approx(1 / 181)


def test_every_profile_names_the_middle_tier_as_the_docs_do():
    # Regression: the seed profile said "Mid", the DORA profiles "Medium".
    words = {t for p in PROFILES.values() for t in p.tiers}
    assert words == {"Elite", "High", "Mid", "Low"}
    tiers = json.loads(_run("tiers", "--json"))
    assert "Medium" not in json.dumps(tiers)
    docs = (Path(__file__).parents[1] / "docs" / "tiers.md").read_text()
    assert "Medium >=" not in docs and "Mid >=" in docs


def test_months_are_labelled_year_month(tmp_path):
    db = _deployments(tmp_path, ["2026-01-10T10:00:00Z", "2026-03-10T10:00:00Z"])
    text = _run("dora", "--db", str(db), "--since", "2026-01-01", "--until", "2026-03-31", "--by", "month")
    assert re.search(r"^\s*2026-01\s", text, re.M) and re.search(r"^\s*2026-02\s", text, re.M)
    assert not re.search(r"2026-01-01(?! 00:00)", text)  # the caption still gives the window's exact times


def test_one_finding_is_one_finding(tmp_path):
    rules = tmp_path / "one.yml"
    rules.write_text("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n"
                     "        labels:\n          severity: page\n          team: sre\n        annotations:\n"
                     "          summary: A is down\n          description: A is down.\n")
    result = CliRunner().invoke(app, ["alerts", "lint", str(rules)], env={"COLUMNS": "120", "NO_COLOR": "1"})
    last = result.stdout.strip().splitlines()[-1]
    assert re.match(r"1 finding \(", last), result.stdout


def test_one_file_is_one_file(tmp_path):
    from datetime import UTC, datetime

    from .gitrepo import GitRepo

    repo = GitRepo.create(tmp_path / "solo")
    repo.commit("Add the only file", datetime(2026, 1, 5, 10, tzinfo=UTC), files={"main.py": "print(1)\n"})
    text = _run("knowledge", str(repo.path), "--db", str(tmp_path / "k.duckdb"))
    assert "over 1 file" in text and "1 files" not in text


@pytest.fixture(scope="module")
def demo(demo_org):
    return rs.demo(demo_org)


def test_explain_fits_80_columns_without_cutting_ids(demo):
    # Regression: at 80 columns, shas, services and deployment ids ended in "…".
    text = _run("explain", "lead-time", "--db", str(demo.db), "--config", str(demo.config), *rs.WINDOW,
                "--team", "C++", "--limit", "5", columns=80)
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if "────" in line)
    body = lines[rule + 1:next(i for i in range(rule + 1, len(lines)) if not lines[i].strip())]
    assert body and not any("…" in line for line in body), text
    assert lines[0].startswith("Lead time:")
    table = lines[2:-1]  # after the figure and the definition, up to the "earlier rows" hint
    assert len(table) > 5 and max(len(line) for line in table) <= 80, text
    data = json.loads(_run("explain", "lead-time", "--db", str(demo.db), "--config", str(demo.config),
                           *rs.WINDOW, "--team", "C++", "--json"))
    last = data["rows"][-1]
    for value in (last["sha"][:10], last["deployment_id"], last["service"]):
        assert re.search(rf"(^|\s){re.escape(value)}(\s|$)", text, re.M), value


def _long_window_months(count: int = 25) -> list[str]:
    return [f"{2023 + (5 + i) // 12}-{(5 + i) % 12 + 1:02d}" for i in range(count)]


def test_a_long_window_shows_the_latest_months_that_fit_80_columns_whole(monkeypatch, capsys):
    """Two years of months at 80 columns cut every cell of the debt and budget tables to '…' (seen on mypy's
    history); the tables now show the latest months whole, and say how many of all they show."""
    from datetime import UTC, datetime

    from fireline.views import debt

    months = _long_window_months()
    monkeypatch.setenv("COLUMNS", "80")
    ledger = {"now": datetime(2025, 7, 1, tzinfo=UTC), "by_team": [], "items": [], "scans": [], "notes": [],
              "totals": [{"team": team, "month": m, "technical": 650 + i, "process": 0, "knowledge": 1}
                         for team in ("Types", "Web") for i, m in enumerate(months)]}
    debt.render_debt(ledger, "UTC", 15)
    budget = {"weight": "commits", "tolerance": 0.05, "unknown": None,
              "window": {"since": "2023-06-01", "until": "2025-07-01"},
              "teams": [{"team": team, "budget": 0.3, "share": 0.47, "verdict": "over",
                         "months": [{"month": m, "share": 0.48, "verdict": "over"} for m in months]}
                        for team in ("Types", "Web")]}
    debt.render_budget(budget)
    out = capsys.readouterr().out
    assert "…" not in out, out
    assert "2025-06" in out and "674/0/1" in out  # the last month's totals, whole
    assert "Jun 25" in out and "48%!" in out
    assert re.search(r"the last \d+ of 25 months", out) and "the last 1 of" not in out
    assert all(len(line) <= 80 for line in out.splitlines() if line.startswith(" ")), out  # the tables' rows


def test_testing_shows_the_latest_months_that_fit(monkeypatch):
    from io import StringIO

    from rich.console import Console

    from fireline.views import testing

    months = _long_window_months(18)
    rows = [{"team": "Types", "month": m, "fixes": 36, "with_test": 4, "files_unknown": 0, "share": 4 / 36}
            for m in months]
    data = {"window": {"since": "2024-01-01T00:00", "until": "2025-06-01T00:00"}, "timezone": "UTC",
            "overall": {"share": 0.11, "fixes": 648, "with_test": 72, "unknown": None}, "by_kind": {"keyword": 648},
            "by_team_month": rows, "recent_without_test": [],
            "by_team": [{"team": "Types", "fixes": 648, "with_test": 72, "files_unknown": 0, "share": 0.11}]}
    console = Console(width=80, file=StringIO(), color_system=None)
    testing.render(data, console)
    out = console.file.getvalue()
    assert "…" not in out and months[-1] in out and months[0] not in out, out
    assert "4/36 11%" in out and re.search(r"the last \d+ of 18 months", " ".join(out.split()))
