"""`fireline budget`: fixes vs new work per team and month, against the team's budget.

The repository is built here, so the shares are known by construction (worked out by hand
next to `build`); the store tests run on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import parse_config
from fireline.debt import settings
from fireline.errors import UserError
from fireline.ingest import ingest_git
from fireline.metrics.budget import BudgetParams, budget_report, verdict
from fireline.metrics.scope import Scope

from .gitrepo import GitRepo

SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def lines(n: int, tag: str) -> str:
    return "".join(f"{tag} {i}\n" for i in range(n))


def build(base: Path) -> Path:
    """March: 4 commits, 1 fix -> 25% by commits; lines 10+10+10 new work, 30 in the fix -> 50%.
    April: 3 commits, 2 fixes (a conventional fix and a revert; "prefix" is no fix) -> 67%.
    Window: 3 fixes of 7 commits; lines 30+5+5 of 75."""
    repo = GitRepo.create(base / "api")
    repo.commit("Initial import", t(3, 2), {"a.py": lines(10, "a")})
    repo.commit("Add search", t(3, 5), {"b.py": lines(10, "b")})
    repo.commit("Fix rounding in totals", t(3, 9), {"c.py": lines(30, "c")})
    repo.commit("Support exports", t(3, 20), {"d.py": lines(10, "d")})
    repo.commit("fix(api): empty basket", t(4, 2), {"e.py": lines(5, "e")})
    bad = repo.commit("Add prefix matching", t(4, 3), {"f.py": lines(5, "f")})  # "prefix" is not a fix
    repo.git("revert", "--no-edit", bad, when=t(4, 4))  # removes f.py's 5 lines: a fix of 5 changed lines
    return repo.path


def config(base: Path, budget: dict | None = None):
    return parse_config({"teams": {"Core": {"services": ["api"]}}, "services": {"api": {"repo": "api"}},
                         "budget": budget or {}}, source="fireline.toml", base_dir=base)


@pytest.fixture
def ingested(store, tmp_path):
    cfg = config(tmp_path)
    ingest_git(store, cfg, build(tmp_path))
    return store, cfg


def test_fix_share_per_month_by_commits_and_by_lines(ingested):
    store, _cfg = ingested
    r = budget_report(store.tables(), Scope(SINCE, UNTIL), BudgetParams(budget_of={"Core": 0.3}),
                      team_of={"api": "Core"})
    core = r.as_dict()["teams"][0]
    months = {m["month"]: (m["commits"], m["fixes"], m["share"], m["verdict"]) for m in core["months"]}
    assert months == {"2026-03": (4, 1, 0.25, "within"), "2026-04": (3, 2, 2 / 3, "over")}
    # "Add prefix matching" is new work; the revert of it and the conventional fix are fixes.
    assert (core["commits"], core["fixes"], core["verdict"]) == (7, 3, "over")
    by_lines = budget_report(store.tables(), Scope(SINCE, UNTIL), BudgetParams(budget_of={"Core": 0.3}, weight="lines"),
                             team_of={"api": "Core"}).as_dict()["teams"][0]
    march = next(m for m in by_lines["months"] if m["month"] == "2026-03")
    assert (march["lines"], march["fix_lines"], march["share"]) == (60, 30, 0.5)
    assert (by_lines["lines"], by_lines["fix_lines"]) == (75, 40)


def test_a_team_under_budget_is_said_too():
    assert verdict(0.1, 0.3, 0.05) == "under"
    assert verdict(0.3, 0.3, 0.05) == "within"
    assert verdict(0.36, 0.3, 0.05) == "over"
    assert verdict(None, 0.3, 0.05) == "unknown"


def test_a_month_without_commits_has_no_share(store):
    r = budget_report(store.tables(), Scope(SINCE, UNTIL), team_of={"api": "Core"})
    assert r.unknown == "no git history ingested"
    assert all(m["share"] is None and m["verdict"] == "unknown" for m in r.as_dict()["teams"][0]["months"])


def test_budget_settings_are_validated_with_the_key_named(tmp_path):
    assert settings.of(config(tmp_path, {"teams": {"Core": 0.2}})).teams == {"Core": 0.2}
    assert settings.of(config(tmp_path)).default == 0.3
    for bad, message in (({"teams": {"Core": 1.5}}, "budget.teams: Core: a share between 0 and 1"),
                         ({"deafult": 0.2}, "budget.deafult: unknown key"),
                         ({"weight": "hours"}, "budget.weight"),
                         ({"teams": {"Cor": 0.2}}, "budget.teams.Cor: unknown team"),
                         ({"markers": ["TO DO"]}, "budget.markers")):
        with pytest.raises(UserError, match=message.replace(".", r"\.")) as err:
            settings.of(config(tmp_path, bad))
        assert str(err.value).startswith("fireline.toml: budget.")


def test_the_cli_prints_the_verdict_and_json(tmp_path):
    build(tmp_path)
    (tmp_path / "fireline.toml").write_text('[teams.Core]\nservices = ["api"]\n[services.api]\nrepo = "api"\n'
                                            '[budget]\ndefault = 0.3\n')
    db = str(tmp_path / "f.duckdb")
    base = ["--db", db, "--config", str(tmp_path / "fireline.toml")]
    assert CliRunner().invoke(app, ["ingest", "git", str(tmp_path / "api"), *base]).exit_code == 0
    args = ["budget", *base, "--since", "2026-03-01", "--until", "2026-04-30"]
    data = json.loads(CliRunner().invoke(app, [*args, "--json", "--weight", "lines"]).output)
    assert data["weight"] == "lines" and data["teams"][0]["verdict"] == "over"
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "over" in text.output and "Core" in text.output


def test_a_half_year_fits_an_80_column_terminal(tmp_path):
    # Regression: months were headed 2026-01 ... 2026-07, which Rich cut to "202…" at 80
    # columns (a pipe, CI, a small terminal): no month could be told from another.
    build(tmp_path)
    (tmp_path / "fireline.toml").write_text('[teams.Core]\nservices = ["api"]\n[services.api]\nrepo = "api"\n')
    base = ["--db", str(tmp_path / "f.duckdb"), "--config", str(tmp_path / "fireline.toml")]
    assert CliRunner().invoke(app, ["ingest", "git", str(tmp_path / "api"), *base]).exit_code == 0
    text = CliRunner().invoke(app, ["budget", *base, "--since", "2026-01-01", "--until", "2026-08-01"],
                              env={"COLUMNS": "80"})
    assert text.exit_code == 0, text.output
    header = next(line for line in text.output.splitlines() if "Team" in line)
    assert "…" not in header and len(header.rstrip()) <= 80
    for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Budget", "Verdict"):
        assert month in header, header
