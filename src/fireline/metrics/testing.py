"""Testing debt: bug-fix commits and whether each one brought a regression test.

The talk's rule is that every bug fix should add a test that prevents the regression.
This module finds the fixes in the commits already in the store (no second git walk)
and checks their file lists against language-aware test path patterns.

Pure in the house sense: Ibis tables in, plain results out; no I/O beyond executing the
expressions it builds, no clock (the window is a parameter). The store work is two narrow
reads (the window's commits, then the files of the fixes only); the classification by
message is Python over those rows, because word boundaries in regular expressions differ
between SQL engines and the rules must behave the same everywhere.
Definitions: docs/testing.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from ..config import in_service
from ..identity import People
from ..model import NO_TEAM
from ..window import as_utc
from ..wording import first_few
from .arrow_times import query_rows

# The rules live in fix_rules.py; re-exported, so `metrics.testing` stays the one name to import.
from .fix_rules import (
    _CHERRY_PICK,
    DEFAULT_FIX_KEYWORDS,
    DEFAULT_TEST_PATTERNS,
    Classifier,
    IncidentIds,
    TestingParams,
    language_of_test_file,
    params_of,
    test_pattern_of,
)
from .memtables import memtable
from .paths import path_matches

# config's glob rules, so a monorepo's services mean here what they mean to linking.
from .presence import has_rows
from .scope import Scope

_DEFAULTS = TestingParams()

__all__ = [
    "DEFAULT_FIX_KEYWORDS",
    "DEFAULT_TEST_PATTERNS",
    "Classifier",
    "Fix",
    "IncidentIds",
    "Share",
    "TestingParams",
    "TestingReport",
    "commits_in_window",
    "find_fixes",
    "language_of_test_file",
    "months_between",
    "params_of",
    "repo_services",
    "report",
    "services_of",
    "teams_of",
    "test_pattern_of",
]

# ---- which service and team a commit belongs to --------------------------------------------------

def services_of(repo: str, paths: Iterable[str], repo_services: Mapping[str, list[dict]],
                known_services: Iterable[str] = ()) -> tuple[str, ...]:
    """The services a commit belongs to: its repository's single service, or in a monorepo the
    services whose path globs match one of its files (possibly several, possibly none)."""
    entries = repo_services.get(repo)
    if not entries:
        # Repositories known only from webhooks have no `repos` row; linking names them the same way.
        return (repo,) if repo in set(known_services) else ()
    paths = list(paths)
    found = [e["name"] for e in entries if in_service(paths, e.get("paths") or [])]
    return tuple(dict.fromkeys(found))


def teams_of(repo: str, services: tuple[str, ...], repo_services: Mapping[str, list[dict]],
             team_of: Mapping[str, str]) -> tuple[str, ...]:
    teams = [team_of.get(s) or NO_TEAM for s in services]
    if not teams:
        # Shared code in a monorepo (say common/) matches no service's paths; when every service
        # of the repository belongs to one team, that team owns the shared code too.
        owners = {team_of.get(e["name"]) or NO_TEAM for e in repo_services.get(repo, [])}
        teams = [owners.pop()] if len(owners) == 1 else [NO_TEAM]
    return tuple(dict.fromkeys(teams))


# ---- the rows ---------------------------------------------------------------------------------

@dataclass
class Fix:
    repo: str
    sha: str
    time: datetime
    author: str
    subject: str
    reasons: list[str]
    services: tuple[str, ...]
    teams: tuple[str, ...]
    test_files: list[str]
    # False: its files are known and none is a test. None: no file list (e.g. a webhook-only commit).
    tested: bool | None
    month: str = ""
    chore: str | None = None  # why this would-be fix is a chore (see chores.py); chores are no fixes

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"sha": self.sha, "repo": self.repo, "service": ", ".join(self.services) or None,
                "team": ", ".join(self.teams), "author": self.author, "date": self.time.isoformat(),
                "month": self.month, "subject": self.subject, "reason": self.reason, "tested": self.tested,
                "test_files": self.test_files}


def repo_services(repos: ir.Table) -> dict[str, list[dict]]:
    return {r["repo"]: json.loads(r["services"] or "[]") for r in query_rows(repos.select("repo", "services"))}


def commits_in_window(changes: ir.Table, since: datetime, until: datetime, *, time_basis: str = "committer",
                      include_merges: bool = False) -> tuple[ir.Table, ir.Value]:
    """Commits whose time (committer or author) is in [since, until), and that time's column."""
    when = changes.author_time if time_basis == "author" else changes.committer_time
    in_window = changes.filter((when >= ibis.literal(since)) & (when < ibis.literal(until)))
    if not include_merges:
        # `parents` is space-separated: a space means two or more parents.
        in_window = in_window.filter(~in_window.parents.fill_null("").contains(" "))
    return in_window, when


def find_fixes(tables: Mapping[str, ir.Table], since: datetime, until: datetime, *,
               params: TestingParams = _DEFAULTS, team_of: Mapping[str, str] | None = None,
               time_basis: str = "committer", tz: str = "UTC", people: People | None = None,
               chores: list[Fix] | None = None) -> list[Fix]:
    """Every bug-fix commit with its time in [since, until), newest first; a bot's commit is no fix
    (`people`: fireline.identity, unless `[people] include_bots`).

    `chores`, when given, receives the commits whose words make them fixes but that are chores
    (dependency bumps, ignored authors), each with `chore` saying why."""
    team_of = dict(team_of or {})
    in_window, when = commits_in_window(tables["changes"], since, until, time_basis=time_basis,
                                        include_merges=params.include_merges)
    commits = query_rows(in_window.select(
        repo=in_window.repo, sha=in_window.sha, time=when, author=in_window.author_name,
        author_email=in_window.author_email, subject=in_window.subject, message=in_window.message,
        origin=in_window.origin,
    ))
    classifier = Classifier.of(params, (r["id"] for r in query_rows(tables["incidents"].select("id"))))

    candidates: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
    chore_of: dict[tuple[str, str], str] = {}
    for row in commits:
        if people is not None and people.left_out(row["author"], row["author_email"]):
            continue
        message = row["message"] or row["subject"] or ""
        reasons = classifier.reasons(message, row["author"], chores=False)
        chore = classifier.chore(message, row["author"]) if reasons else None
        if chore and chores is None:
            continue
        if chore:
            chore_of[(row["repo"], row["sha"])] = chore
        if reasons:
            candidates[(row["repo"], row["sha"])] = (row, reasons)
    # A fix cherry-picked to a release branch is one fix, not two.
    for key, (row, _) in list(candidates.items()):
        picked = _CHERRY_PICK.search(row["message"] or "")
        if picked and any(r == row["repo"] and s.startswith(picked.group(1)) for r, s in candidates if s != key[1]):
            del candidates[key]
    if not candidates:
        return []

    files = _fix_files(tables["change_files"], list(candidates))
    services_by_repo = repo_services(tables["repos"])
    known = set(team_of)
    zone = ZoneInfo(tz)
    fixes = []
    for key, (row, reasons) in candidates.items():
        touched = files.get(key, {})
        paths = sorted(touched)
        services = services_of(row["repo"], paths, services_by_repo, known)
        tests = [p for p in paths if touched[p] and language_of_test_file(p, params)]
        # Webhook-only commits may arrive without file lists: whether they touched tests is unknown.
        known_files = bool(paths) or (row["origin"] or "git") == "git"
        time = as_utc(row["time"])
        chore = chore_of.get(key)
        if chore is None and paths and all(path_matches(p, params.ignore_paths) for p in paths):
            chore = f"touches only files of testing.ignore_paths ({first_few(paths, 3)})"
        fixes.append(Fix(
            repo=row["repo"], sha=row["sha"], time=time, author=row["author"] or "",
            subject=row["subject"] or "", reasons=reasons, services=services,
            teams=teams_of(row["repo"], services, services_by_repo, team_of), test_files=tests,
            tested=bool(tests) if known_files else None, month=time.astimezone(zone).strftime("%Y-%m"),
            chore=chore,
        ))
    fixes.sort(key=lambda f: (f.time, f.repo, f.sha), reverse=True)
    if chores is not None:
        chores.extend(f for f in fixes if f.chore)
    return [f for f in fixes if not f.chore]


def _fix_files(change_files: ir.Table, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, bool]]:
    """The files of the fixes only: a join with the fix keys, not a read of every file in the window."""
    wanted = memtable({"repo": [k[0] for k in keys], "sha": [k[1] for k in keys]},
                      schema={"repo": "string", "sha": "string"})
    j = change_files.join(wanted, [change_files.repo == wanted.repo, change_files.sha == wanted.sha])
    out: dict[tuple[str, str], dict[str, bool]] = {}
    for r in query_rows(j.select(repo=change_files.repo, sha=change_files.sha, path=change_files.path,
                            added=change_files.added)):
        # A file the commit only removed lines from (or deleted) adds no test: a revert that
        # deletes the reverted feature's test must not count as bringing one. Unknown counts
        # (binary files, webhook file lists) get the benefit of the doubt.
        adds = r["added"] is None or r["added"] > 0
        seen = out.setdefault((r["repo"], r["sha"]), {})
        seen[r["path"]] = seen.get(r["path"], False) or adds
    return out


# ---- the figures ------------------------------------------------------------------------------

@dataclass
class Share:
    """Fixes with a regression test ÷ fixes whose files are known; unknown, never 0, without fixes."""

    fixes: int = 0
    with_test: int = 0
    files_unknown: int = 0
    unknown: str | None = None

    @property
    def value(self) -> float | None:
        known = self.fixes - self.files_unknown
        return self.with_test / known if known > 0 else None

    def add(self, fix: Fix) -> None:
        self.fixes += 1
        if fix.tested is None:
            self.files_unknown += 1
        elif fix.tested:
            self.with_test += 1

    def settle(self, empty: str) -> Share:
        if self.value is None and self.unknown is None:
            self.unknown = empty if not self.fixes else "no file lists for these fixes"
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"fixes": self.fixes, "with_test": self.with_test, "without_test":
                self.fixes - self.with_test - self.files_unknown, "files_unknown": self.files_unknown,
                "share": self.value, "unknown": self.unknown}


@dataclass
class TestingReport:
    __test__ = False

    since: datetime
    until: datetime
    timezone: str
    params: TestingParams
    overall: Share
    by_team: dict[str, Share]
    by_team_month: dict[tuple[str, str], Share]
    months: list[str]
    fixes: list[Fix]
    recent_without_test: list[Fix]
    reasons: dict[str, int] = field(default_factory=dict)
    chores: list[Fix] = field(default_factory=list)  # would-be fixes left out as chores

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "timezone": self.timezone,
            "params": {"fix_keywords": list(self.params.fix_keywords),
                       "test_patterns": {lang: list(p) for lang, p in self.params.test_patterns},
                       "include_merges": self.params.include_merges,
                       "ignore_subjects": list(self.params.ignore_subjects),
                       "ignore_authors": list(self.params.ignore_authors),
                       "ignore_paths": list(self.params.ignore_paths)},
            "chores_ignored": len(self.chores),
            "chores": [{"sha": f.sha, "repo": f.repo, "subject": f.subject, "why": f.chore} for f in self.chores],
            "overall": self.overall.as_dict(),
            "by_kind": self.reasons,
            "by_team": [{"team": t, **s.as_dict()} for t, s in sorted(self.by_team.items())],
            "by_team_month": [{"team": t, "month": m, **s.as_dict()}
                              for (t, m), s in sorted(self.by_team_month.items())],
            "recent_without_test": [f.as_dict() for f in self.recent_without_test],
            "fixes": [f.as_dict() for f in self.fixes],
        }


def months_between(since: datetime, until: datetime, tz: str = "UTC") -> list[str]:
    """The calendar months (in `tz`) that the half-open window [since, until) touches."""
    zone = ZoneInfo(tz)
    first = since.astimezone(zone)
    last = (until - timedelta(microseconds=1)).astimezone(zone)
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _kind(reason: str) -> str:
    if reason.startswith("revert"):
        return "revert"
    if reason.startswith("mentions incident"):
        return "incident"
    if reason.startswith("conventional"):
        return "conventional"
    return "keyword"


def report(tables: Mapping[str, ir.Table], scope: Scope, params: TestingParams = _DEFAULTS, *,
           team_of: Mapping[str, str] | None = None, teams: Iterable[str] | None = None, tz: str = "UTC",
           limit: int = 20, people: People | None = None) -> TestingReport:
    """The share of fixes with a regression test, per team and month, and the recent fixes without one.

    The scope's window and services (and `teams`) narrow the fixes (a fix counts for a team when it
    belongs to it); every configured team (or the requested ones) gets a row for every month, unknown
    when it had no fixes.
    """
    since, until, time_basis = scope.since, scope.until, scope.time_basis
    team_of = dict(team_of or {})
    want_teams = set(teams) if teams is not None else None
    want_services = set(scope.services) if scope.services is not None else None
    chores: list[Fix] = []
    fixes = find_fixes(tables, since, until, params=params, team_of=team_of, time_basis=time_basis, tz=tz,
                       people=people, chores=chores)
    if want_services is not None:
        fixes = [f for f in fixes if want_services & set(f.services)]
        chores = [f for f in chores if want_services & set(f.services)]
    if want_teams is not None:
        fixes = [f for f in fixes if want_teams & set(f.teams)]
        chores = [f for f in chores if want_teams & set(f.teams)]

    has_history = has_rows(tables["changes"])
    empty = "no bug-fix commits in the window" if has_history else "no git history ingested"
    months = months_between(since, until, tz)
    listed = sorted(want_teams) if want_teams is not None else sorted(set(team_of.values()))
    overall = Share()
    by_team: dict[str, Share] = {t: Share() for t in listed}
    by_team_month: dict[tuple[str, str], Share] = {(t, m): Share() for t in listed for m in months}
    reasons: dict[str, int] = {}
    for fix in fixes:
        overall.add(fix)
        for kind in dict.fromkeys(_kind(r) for r in fix.reasons):
            reasons[kind] = reasons.get(kind, 0) + 1
        for team in fix.teams:
            if want_teams is not None and team not in want_teams:
                continue
            by_team.setdefault(team, Share()).add(fix)
            by_team_month.setdefault((team, fix.month), Share()).add(fix)
    # A team seen only through fixes (say "(no team)") also gets every month of the window.
    for team in by_team:
        for month in months:
            by_team_month.setdefault((team, month), Share())
    overall.settle(empty)
    for share in (*by_team.values(), *by_team_month.values()):
        share.settle(empty if not has_history else "no bug-fix commits for this team in this period")
    without = [f for f in fixes if f.tested is False][:max(limit, 0)]
    return TestingReport(since=since, until=until, timezone=tz, params=params, overall=overall,
                         by_team=by_team, by_team_month=by_team_month, months=months, fixes=fixes,
                         recent_without_test=without, reasons=dict(sorted(reasons.items())), chores=chores)
