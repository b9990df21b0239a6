"""The bug budget: the share of each team's work that went into fixes, month by month.

A commit is a fix by the rules of `fireline testing` (metrics/testing.py: revert, conventional
`fix:`, a fix keyword as a whole word, or a mention of an incident id); everything else is new
work. The share is fixes / all commits, or with `weight="lines"` changed lines in fixes /
changed lines in all commits. Merge commits are left out (their work is counted on the branch).
A commit belongs to its repository's service or, in a monorepo, to the services whose path
globs its files match; a commit of two teams counts for both.

Pure: Ibis tables in, plain results out; months are calendar months in `tz`.
Definitions: docs/debt.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir

from ..identity import People
from .arrow_times import query_rows
from .presence import has_rows
from .scope import Scope
from .testing import (
    Classifier,
    TestingParams,
    commits_in_window,
    months_between,
    repo_services,
    services_of,
    teams_of,
)


@dataclass
class Cell:
    commits: int = 0
    fixes: int = 0
    lines: int = 0
    fix_lines: int = 0

    def share(self, weight: str) -> float | None:
        total, fixes = (self.lines, self.fix_lines) if weight == "lines" else (self.commits, self.fixes)
        return fixes / total if total else None

    def add(self, fix: bool, lines: int) -> None:
        self.commits += 1
        self.lines += lines
        if fix:
            self.fixes += 1
            self.fix_lines += lines


def verdict(share: float | None, budget: float, tolerance: float) -> str:
    if share is None:
        return "unknown"
    if share > budget + tolerance + 1e-12:
        return "over"
    if share < budget - tolerance - 1e-12:
        return "under"
    return "within"


@dataclass
class TeamBudget:
    team: str
    budget: float
    window: Cell
    months: dict[str, Cell] = field(default_factory=dict)

    def as_dict(self, weight: str, tolerance: float) -> dict[str, Any]:
        def cell(c: Cell) -> dict[str, Any]:
            share = c.share(weight)
            return {"commits": c.commits, "fixes": c.fixes, "lines": c.lines, "fix_lines": c.fix_lines,
                    "share": share, "verdict": verdict(share, self.budget, tolerance)}

        return {"team": self.team, "budget": self.budget, **cell(self.window),
                "months": [{"month": m, **cell(c)} for m, c in sorted(self.months.items())]}


@dataclass
class BudgetReport:
    since: datetime
    until: datetime
    timezone: str
    weight: str
    tolerance: float
    teams: list[TeamBudget]
    unknown: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
                "timezone": self.timezone, "weight": self.weight, "tolerance": self.tolerance,
                "unknown": self.unknown, "teams": [t.as_dict(self.weight, self.tolerance) for t in self.teams]}


@dataclass(frozen=True)
class BudgetParams:
    """`[budget]`: each team's share of fixes (`budget_of`, else `default_budget`), weighed by commits or
    lines, with a tolerance; what a fix is comes from `[testing]` (`testing`)."""

    budget_of: Mapping[str, float] = field(default_factory=dict)
    default_budget: float = 0.3
    weight: str = "commits"
    tolerance: float = 0.05
    testing: TestingParams = field(default_factory=TestingParams)


def budget_report(tables: Mapping[str, ir.Table], scope: Scope, params: BudgetParams | None = None, *,
                  team_of: Mapping[str, str] | None = None, teams: Iterable[str] | None = None, tz: str = "UTC",
                  people: People | None = None) -> BudgetReport:
    """Fix share per team and month in the scope's window, against each team's budget. Bots' commits are
    no team's work and count nowhere (`people`: fireline.identity, unless `[people] include_bots`)."""
    params = params or BudgetParams()
    since, until, time_basis, weight = scope.since, scope.until, scope.time_basis, params.weight
    default_budget, tolerance = params.default_budget, params.tolerance
    if weight not in ("commits", "lines"):
        raise ValueError(f"weight: commits or lines, not {weight!r}")
    team_of = dict(team_of or {})
    budget_of = dict(params.budget_of)
    t, when = commits_in_window(tables["changes"], since, until, time_basis=time_basis)
    commits = query_rows(t.select(repo=t.repo, sha=t.sha, time=when, message=t.message, subject=t.subject,
                             author=t.author_name, email=t.author_email,
                             lines=(t.lines_added.fill_null(0) + t.lines_removed.fill_null(0))))
    if people is not None:
        commits = [r for r in commits if not people.left_out(r["author"], r["email"])]
    services_by_repo = repo_services(tables["repos"])
    # Files are only needed where a repository holds several services with path globs.
    split = sorted(r for r, entries in services_by_repo.items() if any(e.get("paths") for e in entries))
    files: dict[tuple[str, str], list[str]] = {}
    if split:
        cf = tables["change_files"]
        cf = cf.filter(cf.repo.isin(split))
        ch = t.filter(t.repo.isin(split)).select("repo", "sha")
        j = cf.join(ch, [cf.repo == ch.repo, cf.sha == ch.sha]).select(cf.repo, cf.sha, cf.path)
        for r in query_rows(j):
            files.setdefault((r["repo"], r["sha"]), []).append(r["path"])
    classifier = Classifier.of(params.testing, (r["id"] for r in query_rows(tables["incidents"].select("id"))))
    zone = ZoneInfo(tz)
    wanted = set(teams) if teams is not None else None
    listed = sorted(wanted) if wanted is not None else sorted(set(team_of.values()))
    months = months_between(since, until, tz)
    report: dict[str, TeamBudget] = {
        name: TeamBudget(name, budget_of.get(name, default_budget), Cell(), {m: Cell() for m in months})
        for name in listed}
    known = set(team_of)
    for row in commits:
        fix = bool(classifier.reasons(row["message"] or row["subject"] or "", row["author"]))
        paths = files.get((row["repo"], row["sha"]), [])
        services = services_of(row["repo"], paths, services_by_repo, known)
        month = row["time"].astimezone(zone).strftime("%Y-%m")
        for team in teams_of(row["repo"], services, services_by_repo, team_of):
            if wanted is not None and team not in wanted:
                continue
            entry = report.setdefault(team, TeamBudget(team, budget_of.get(team, default_budget), Cell(),
                                                       {m: Cell() for m in months}))
            entry.window.add(fix, int(row["lines"] or 0))
            entry.months.setdefault(month, Cell()).add(fix, int(row["lines"] or 0))
    unknown = None if commits or has_rows(tables["changes"]) else "no git history ingested"
    return BudgetReport(since, until, tz, weight, tolerance, sorted(report.values(), key=lambda b: b.team), unknown)
