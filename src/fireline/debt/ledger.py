"""The debt ledger: technical, process and knowledge debt per team and service, with ages and owners.

- technical: TODO/FIXME/HACK/XXX markers (from markers.py: age and author from blame) and the
  hotspots of the knowledge analysis (changes x lines; age = when the file was created);
- process: postmortem action items overdue (open past their due date) or dropped, and repeat
  incidents whose earlier postmortem's actions were not all done when the repeat started;
- knowledge: orphaned code (files whose authors have all been inactive for `active_months`)
  and services whose truck factor is 1.

Totals month by month: at the end of each month, the markers still at HEAD that were already
written (today's pile as it grew: a marker removed before HEAD is not seen), the action items
overdue or dropped by then, repeat incidents started by then, and orphaned files and truck
factor 1 services as the knowledge analysis saw them at that date. Hotspots have no date and are
left out of the totals. Pure: markers and tables in, plain dicts out; "now" is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir

from ..identity import People
from ..metrics.actions import is_overdue
from ..metrics.arrow_times import python_rows
from ..metrics.knowledge import analyse, authors_of, months_before, silos
from ..metrics.knowledge_history import History, load_history
from ..metrics.paths import NOT_SERVICE_CODE, path_matches
from ..metrics.repeats import repeat_incidents
from ..metrics.testing import months_between, services_of, teams_of
from ..model import NO_TEAM, json_list
from ..window import as_utc
from ..wording import plural
from .markers import Marker, ScanResult

KINDS = ("technical", "process", "knowledge")


def _age(since: datetime | date | None, now: datetime) -> float | None:
    if since is None:
        return None
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day, tzinfo=UTC)
    return round((now - since).total_seconds() / 86400, 1)


def _item(kind: str, category: str, team: str, service: str | None, title: str, owner: str | None,
          since: datetime | date | None, now: datetime, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "category": category, "team": team, "service": service, "title": title,
            "owner": owner, "since": since, "age_days": _age(since, now), **extra}


class _Owners:
    """Which service and team a path of a repository belongs to (config's path globs)."""

    def __init__(self, repo_services: Mapping[str, list[dict]], team_of: Mapping[str, str]) -> None:
        self.repo_services, self.team_of = repo_services, team_of

    def of(self, repo: str, path: str) -> tuple[str | None, str]:
        services = services_of(repo, [path], self.repo_services, self.team_of)
        teams = teams_of(repo, services, self.repo_services, self.team_of)
        return (services[0] if services else None), teams[0]


def _owner(history: History | None, marker: Marker) -> str | None:
    """Who wrote a marker, as the knowledge analysis names them; nobody when a bot did (fireline.identity)."""
    directory = history.directory if history is not None else None
    identity = directory.of(marker.author, marker.email) if directory is not None and marker.author else None
    if directory is None or identity is None:
        return marker.author
    return None if directory.left_out(identity.key) else identity.name


def _technical(scans: list[ScanResult], histories: Mapping[str, History], owners: _Owners,
               now: datetime, hotspots: int) -> list[dict[str, Any]]:
    items = []
    for scan in scans:
        for m in scan.markers:
            service, team = owners.of(m.repo, m.path)
            items.append(_item("technical", "marker", team, service, m.text, _owner(histories.get(m.repo), m),
                               m.time, now, word=m.word,
                               repo=m.repo, path=m.path, line=m.line, sha=m.sha))
    at_head = {scan.repo: scan for scan in scans}
    for repo, history in histories.items():
        # Generated and vendored files, lockfiles and changelogs change often and are long, but no
        # one edits them: they are no hotspots; nor is a file gone from HEAD (web/ui/package-lock.json
        # on prometheus, moved to pnpm, stayed in the replayed history); nor documentation, CI files
        # and manifests (flask's docs/quickstart.rst): a hotspot is code that is hard to change.
        seen = at_head.get(repo)
        files = sorted((s for s in history.files.values()
                        if (seen is None or (s.path in seen.tracked and s.path not in seen.generated))
                        and not path_matches(s.path, NOT_SERVICE_CODE)),
                       key=lambda s: (-(s.total_changes * max(s.lines, 0)), s.path))
        names = {k: d.name for k, d in history.developers.items()}
        for stats in files[:hotspots]:
            service, team = owners.of(repo, stats.path)
            who = ", ".join(sorted(names.get(d, d) for d in authors_of(stats))) or None
            items.append(_item("technical", "hotspot", team, service,
                               f"hotspot {stats.path}: {plural(stats.total_changes, 'change')} x "
                               f"{plural(max(stats.lines, 0), 'line')}",
                               who, stats.created, now, repo=repo, path=stats.path,
                               score=stats.total_changes * max(stats.lines, 0)))
    return items


def _process(tables: Mapping[str, ir.Table], team_of: Mapping[str, str], now: datetime, tz: str,
             repeat_window_days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, raw action rows for the monthly totals)."""
    pms = {r["id"]: r for r in python_rows(tables["postmortems"].select("id", "services", "date").to_pyarrow())}
    actions = python_rows(tables["action_items"].to_pyarrow())
    items = []
    today = now.astimezone(ZoneInfo(tz)).date()
    for a in actions:
        services = json_list(pms.get(a["postmortem_id"], {}).get("services"))
        service = services[0] if services else None
        team = a["team"] or (team_of.get(service) if service else None) or NO_TEAM
        a["_team"], a["_service"] = team, service
        where = {"postmortem": a["postmortem_id"], "file": a["file"], "line": a["line"], "due": a["due"],
                 "ticket": a["ticket"]}
        if is_overdue(a, today):
            items.append(_item("process", "action overdue", team, service, a["what"], a["owner"], a["due"], now,
                               **where))
        elif a["status"] == "dropped":
            items.append(_item("process", "action dropped", team, service, a["what"], a["owner"],
                               a["due"] or pms.get(a["postmortem_id"], {}).get("date"), now, **where))
    for r in repeat_incidents(dict(tables), window_days=repeat_window_days, tz=tz):
        undone = r["earlier_actions_total"] - r.get("earlier_actions_done_before", r["earlier_actions_done"])
        if r["earlier_actions_total"] and undone <= 0:
            continue  # the earlier lessons were all acted on: a repeat, but not a debt
        service = r["service"]
        reason = (f"{undone} of {r['earlier_actions_total']} actions of {r['earlier_postmortem_id']} not done"
                  if r["earlier_actions_total"] else "no action items on the earlier postmortem")
        items.append(_item("process", "repeat incident", team_of.get(service) or NO_TEAM, service,
                           f"{r['incident_id']} repeats {r['earlier_incident_id']} ({r['tag']}): {reason}", None,
                           as_utc(r["started"]), now, incident=r["incident_id"], earlier=r["earlier_incident_id"]))
    return items, actions


def _knowledge(histories: Mapping[str, History], owners: _Owners, now: datetime, active_months: int
               ) -> list[dict[str, Any]]:
    items = []
    for repo, history in histories.items():
        report = analyse(history, by="service", now=now, active_months=active_months, top=0)
        last_seen = {a["name"]: a["last_commit"] for g in report["groups"] for a in g["authors"]}
        for g in report["groups"]:
            team = owners.team_of.get(g["name"]) or owners.of(repo, g["name"])[1]
            service = g["name"] if g["name"] != "(other)" else None
            if g["orphaned_files"]:
                inactive = [a["name"] for a in g["authors"] if not a["active"]]
                since = max((last_seen[n] for n in inactive), default=None)
                items.append(_item("knowledge", "orphaned code", team, service,
                                   f"{g['orphaned_files']} files ({g['orphaned_lines']} lines) whose authors all left",
                                   ", ".join(inactive) or None, since, now, repo=repo, files=g["orphaned"][:20]))
            tf = g["truck_factor"]
            if tf["value"] == 1 and g["files"]:
                items.append(_item("knowledge", "truck factor 1", team, service,
                                   f"truck factor 1 over {tf['files']} files: only {tf['removed'][0]} knows it",
                                   tf["removed"][0], None, now, repo=repo))
    return items


def _month_ends(since: datetime, until: datetime, tz: str) -> list[tuple[str, datetime]]:
    zone = ZoneInfo(tz)
    out = []
    for month in months_between(since, until, tz):
        year, mon = int(month[:4]), int(month[5:])
        nxt = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone).astimezone(UTC)
        out.append((month, min(nxt, until)))
    return out


def _totals(items: list[dict[str, Any]], actions: list[dict[str, Any]], histories: Mapping[str, History],
            owners: _Owners, since: datetime, until: datetime, tz: str, active_months: int,
            keep: Callable[[str, str | None], bool], services: set[str] | None) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, int]] = {}

    def add(month: str, team: str, kind: str, n: int = 1) -> None:
        cell = rows.setdefault((month, team), dict.fromkeys(KINDS, 0))
        cell[kind] += n

    # Narrowed to services, only their teams get a row (of zeros, when they have no debt).
    teams = {i["team"] for i in items} | (set(owners.team_of.values()) if services is None else
                                          {owners.team_of[s] for s in services if s in owners.team_of})
    born = {repo: min(as_utc(f.created) for f in history.files.values()) for repo, history in histories.items()}
    # The knowledge analysis once per repository, not once per month's end: only who is active moves.
    silo_groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for repo, history in histories.items():
        for g in silos(history, by="service"):
            team = owners.team_of.get(g["name"]) or owners.of(repo, g["name"])[1]
            if keep(team, g["name"] if g["name"] != "(other)" else None):
                silo_groups.setdefault(repo, []).append((team, g))
    for month, end in _month_ends(since, until, tz):
        for team in teams:
            rows.setdefault((month, team), dict.fromkeys(KINDS, 0))
        for i in items:
            if i["category"] == "marker" and i["since"] is not None and i["since"] < end:
                add(month, i["team"], "technical")
            elif i["category"] == "repeat incident" and i["since"] < end:
                add(month, i["team"], "process")
        day = end.astimezone(ZoneInfo(tz)).date()  # overdue at the month's end: due before this day
        for a in actions:
            due, done = a["due"], a["done_on"]
            if due is None or due >= day:
                continue
            if a["status"] in ("open", "dropped") or (a["status"] == "done" and done is not None and done >= day):
                add(month, a["_team"], "process")
        for repo, groups in silo_groups.items():
            if end <= born[repo]:
                continue  # no code yet, so no silo: the truck factor is of files that exist at HEAD
            active_since = months_before(end, active_months)  # as analyse(history, now=end) sees it
            for team, g in groups:
                # The headline's unit: one item per silo (orphaned code, truck factor 1), not per file.
                orphaned = g["orphaned_before"] is not None and g["orphaned_before"] < active_since
                add(month, team, "knowledge", (1 if orphaned else 0)
                    + (1 if g["truck_factor"] == 1 and g["files"] else 0))
    return [{"month": m, "team": t, **c, "total": sum(c.values())} for (m, t), c in sorted(rows.items())]


def build_ledger(tables: Mapping[str, ir.Table], scans: list[ScanResult], *, now: datetime,
                 since: datetime, team_of: Mapping[str, str], people: People | None = None,
                 heads: Mapping[str, str | None] | None = None, teams: Iterable[str] | None = None,
                 services: Iterable[str] | None = None, tz: str = "UTC", hotspots: int = 5,
                 active_months: int = 6, repeat_window_days: int = 90,
                 histories: Mapping[str, History] | None = None) -> dict[str, Any]:
    """The whole ledger; `teams`/`services` narrow the items (and totals) to them.

    `histories`: repositories' histories the caller already loaded (with the same `people`); one is
    used when it was replayed from the HEAD in `heads` (or no HEAD is given), else it is loaded again."""
    notes: list[str] = []
    repos = {r["repo"]: json.loads(r["services"] or "[]")
             for r in python_rows(tables["repos"].select("repo", "services").to_pyarrow())}
    owners = _Owners(repos, dict(team_of))
    loaded = histories or {}

    def history(repo: str) -> History:
        head, known = (heads or {}).get(repo), loaded.get(repo)
        if known is not None and (head is None or known.head == head):
            return known
        return load_history(tables, repo, people=people, head=head)

    histories = {repo: h for repo in repos if (h := history(repo)).files}
    items = _technical(scans, histories, owners, now, hotspots)
    process, actions = _process(tables, team_of, now, tz, repeat_window_days)
    items += process + _knowledge(histories, owners, now, active_months)
    want_teams = set(teams) if teams is not None else None
    want_services = set(services) if services is not None else None

    def keep(team: str, service: str | None) -> bool:
        return (want_teams is None or team in want_teams) and (want_services is None or service in want_services)

    items = [i for i in items if keep(i["team"], i["service"])]
    actions = [a for a in actions if keep(a["_team"], a["_service"])]
    items.sort(key=lambda i: (KINDS.index(i["kind"]), i["team"], i["service"] or "", -(i["age_days"] or 0),
                              i["title"]))
    totals = _totals(items, actions, histories, owners, since, now, tz, active_months, keep, want_services)
    if want_teams is not None:
        totals = [t for t in totals if t["team"] in want_teams]
    summary: dict[str, dict[str, int]] = {}
    for i in items:
        cell = summary.setdefault(i["team"], {k: 0 for k in KINDS})
        cell[i["kind"]] += 1
    scanned = [s.as_dict() for s in scans]
    if not scans and not repos:  # an ingested repository that is gone has its own note
        notes.append("technical markers: no repository could be scanned (ingest git first)")
    return {"now": now, "since": since, "timezone": tz, "items": items,
            "by_team": [{"team": t, **c, "total": sum(c.values())} for t, c in sorted(summary.items())],
            "totals": totals, "scans": scanned, "notes": notes}
