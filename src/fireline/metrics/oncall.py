"""On-call figures: coverage gaps, long weekend stretches, unverified production deployments,
experts away at once, load per person, and the handoff note's contents.

Pure: rotations (fireline.oncall.settings.Setup), Ibis tables and the window in; plain dicts out.
No clock: "now" and the handoff instant are parameters. Definitions: docs/oncall.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import ibis

from ..identity import People
from ..oncall import days
from ..oncall.schedule import Shift, final, gaps, merge, priority, runs, schedule, to_utc
from ..oncall.schedule import at as shift_at
from ..oncall.settings import Setup
from .actions import is_overdue
from .arrow_times import python_rows

if TYPE_CHECKING:
    from .knowledge_history import History


@dataclass
class TeamSchedule:
    team: str
    layers: list[Shift]  # every layer's shifts, overrides applied
    final: list[Shift]  # who is on call


def schedules(setup: Setup, start: datetime, end: datetime,
              team: str | Collection[str] | None = None) -> dict[str, TeamSchedule]:
    """The shifts in [start, end) of one team's rotation, of a set of teams', or of all (None)."""
    teams = {team} if isinstance(team, str) else team
    out = {}
    for name, rotation in setup.rotations.items():
        if teams is None or name in teams:
            layers = schedule(rotation, setup.overrides.get(name, []), start, end)
            out[name] = TeamSchedule(name, layers, final(layers, priority(rotation)))
    return out


def verify_end(setup: Setup, end: datetime) -> datetime:
    """How far schedules must reach for `unverified_deployments` to judge a deployment just before `end`."""
    return end + timedelta(hours=setup.settings.verify_hours) + timedelta(seconds=1)


def clip(scheds: Mapping[str, TeamSchedule], start: datetime, end: datetime) -> dict[str, TeamSchedule]:
    """The part of each schedule in [start, end): what expanding over that window alone would give."""
    def cut(shifts: list[Shift]) -> list[Shift]:
        return [replace(s, start=max(s.start, start), end=min(s.end, end)) for s in shifts
                if s.end > start and s.start < end]
    return {t: TeamSchedule(t, cut(s.layers), cut(s.final)) for t, s in scheds.items()}


# How far `around` may widen its look: a single-member layer's stretch never ends, so stop somewhere.
MAX_LOOK = timedelta(days=2240)


def _widen(look: timedelta) -> timedelta:
    return min(max(look * 4, timedelta(days=35)), MAX_LOOK)


def around(setup: Setup, instant: datetime, team: str | None = None, before: timedelta = timedelta(days=35),
           after: timedelta = timedelta(days=35)) -> dict[str, TeamSchedule]:
    """Schedules from `instant - before` to `instant + after`, widened (up to MAX_LOOK each way) until
    the stretch each team has at `instant` fits inside: a quarterly rotation's shift began long before."""
    while True:
        lo, hi = instant - before, instant + after
        scheds = schedules(setup, lo, hi, team)
        clipped = [r for sched in scheds.values() for r in runs(sched.final) if r.start <= instant <= r.end
                   and (r.start <= lo or r.end >= hi)]
        early = before < MAX_LOOK and any(r.start <= lo for r in clipped)
        late = after < MAX_LOOK and any(r.end >= hi for r in clipped)
        if not (early or late):
            return scheds
        before, after = (_widen(before) if early else before), (_widen(after) if late else after)


def next_handoffs(setup: Setup, instant: datetime, count: int, team: str | None = None) -> dict[str, list[dict]]:
    """Per team, the first `count` changes of who is on call after `instant` (a gap is person None)."""
    out = {}
    for name in [t for t in setup.rotations if team is None or t == team]:
        # Far enough to see `count` handoffs whole: widened as `around` does until the last one ends inside.
        ahead = timedelta(days=120)
        while True:
            horizon = instant + ahead
            sched = schedules(setup, instant, horizon, name)[name]
            items: list[dict[str, Any]] = [{"person": r.person, "start": r.start, "end": r.end, "layer": r.layer}
                                           for r in runs(sched.final) if r.start > instant]
            items += [{"person": None, "start": s, "end": e, "layer": None}
                      for s, e in gaps(sched.final, instant, horizon) if s > instant]
            items = sorted(items, key=lambda i: i["start"])[:count]
            if ahead >= MAX_LOOK or (len(items) == count and items[-1]["end"] < horizon):
                break
            ahead = _widen(ahead)
        out[name] = items
    return out


def rotation_span(setup: Setup, team: str) -> tuple[datetime, datetime | None]:
    """When a team's rotation exists: its earliest layer's first handoff to its last layer's end (None: open)."""
    layers = setup.rotations[team].layers
    first = min(to_utc(layer.first, layer.zone) for layer in layers)
    ends = [layer.until for layer in layers]
    return first, None if any(e is None for e in ends) else max(e for e in ends if e is not None)


def no_rotation(setup: Setup, teams: Collection[str], start: datetime, end: datetime) -> list[dict]:
    """The parts of [start, end) before a team's rotation begins or after it ends: nobody is expected on call
    there, so they are said once, not reported as gaps."""
    out = []
    for team in teams:
        first, last = rotation_span(setup, team)
        if start < first:
            out.append({"team": team, "start": start, "end": min(first, end), "why": "no rotation yet", "at": first})
        if last is not None and last < end:
            out.append({"team": team, "start": max(last, start), "end": end, "why": "rotation ended", "at": last})
    return sorted(out, key=lambda r: (r["start"], r["team"]))


def coverage_gaps(scheds: Mapping[str, TeamSchedule], setup: Setup, start: datetime, end: datetime) -> list[dict]:
    """Intervals of [start, end) with nobody on call, per team, with the away overrides that left them; only
    while the team's rotation exists (see `no_rotation`)."""
    out = []
    for team, sched in scheds.items():
        nobody = [o for o in setup.overrides.get(team, []) if o.away and not o.replacement]
        first, last = rotation_span(setup, team)
        lo, hi = max(start, first), min(end, last) if last is not None else end
        for s, e in gaps(sched.final, lo, hi) if lo < hi else []:
            before = next((x for x in reversed(sched.final) if x.end <= s), None)
            why = sorted({f"{o.person}: {o.kind}" + (f" ({o.note})" if o.note else "")
                          for o in nobody if o.start < e and o.end > s})
            out.append({"team": team, "start": s, "end": e, "hours": round((e - s).total_seconds() / 3600, 2),
                        "after": before.person if before else None, "why": why})
    return sorted(out, key=lambda g: (g["start"], g["team"]))


def weekend_stretches(scheds: Mapping[str, TeamSchedule], setup: Setup) -> list[dict]:
    """One person on call through more than `weekend_max_hours` of a run of days off (weekend and
    public holidays, on that person's own calendar)."""
    limit = setup.settings.weekend_max_hours
    out = []
    for team, sched in scheds.items():
        for run in runs(sched.final):
            zone = setup.zones.get(run.person, "UTC")
            for lo, hi, why in days.off_blocks(run.start, run.end, zone, setup.settings.holidays):
                s, e = max(lo, run.start), min(hi, run.end)
                hours = (e - s).total_seconds() / 3600
                if hours > limit:
                    out.append({"team": team, "person": run.person, "zone": zone, "start": s, "end": e,
                                "hours": round(hours, 2), "limit": limit, "days": why})
    return sorted(out, key=lambda x: (x["start"], x["team"]))


def unverified_deployments(tables: Mapping[str, ibis.Table], setup: Setup, team_of: Callable[[str], str | None],
                           production: Sequence[str], start: datetime, end: datetime, *,
                           scheds: Mapping[str, TeamSchedule] | None = None) -> dict:
    """Production deployments in [start, end) with nobody of the owning team on call for the
    `verify_hours` after them (at the instant itself when verify_hours is 0).

    `scheds`: schedules already expanded over [start, verify_end(setup, end)); the deployments of a
    team with a rotation but no schedule in it are left out. Default: every team's, expanded here."""
    d = tables["deployments"]
    rows = python_rows(d.filter(d.environment.isin(list(production)) & (d.status == "success") & (d.time >= start)
                                & (d.time < end)).select("id", "service", "time", "type").order_by(["time", "id"])
                       .to_pyarrow())
    unknown = None if rows or d.count().to_pyarrow().as_py() else "no deployments ingested"
    verify = timedelta(hours=setup.settings.verify_hours)
    if scheds is None:
        scheds = schedules(setup, start, verify_end(setup, end))
    out = []
    for row in rows:
        team = team_of(row["service"])
        t = row["time"]
        if team is None:
            why, on_call, hole = f"service {row['service']} has no team", None, None
        elif team not in setup.rotations:
            why, on_call, hole = f"team {team} has no rotation", None, None
        elif team not in scheds:
            continue  # outside the caller's teams
        else:
            fin = scheds[team].final
            current = shift_at(fin, t)
            on_call = current.person if current else None
            holes = gaps(fin, t, t + verify) if verify else ([] if current else [(t, t + timedelta(seconds=1))])
            if not holes:
                continue
            hole = holes[0]
            why = "nobody on call" if current is None else f"nobody on call from {hole[0]:%Y-%m-%d %H:%M} UTC"
        zone = setup.rotations[team].zone if team in setup.rotations else "UTC"
        local = t.astimezone(ZoneInfo(zone))
        out.append({"id": row["id"], "service": row["service"], "team": team, "time": t, "type": row["type"],
                    "weekday": local.strftime("%A"), "on_call": on_call, "why": why,
                    "gap": {"start": hole[0], "end": hole[1]} if hole else None})
    return {"checked": len(rows), "unverified": out, "verify_hours": setup.settings.verify_hours, "unknown": unknown}


def experts_away(tables: Mapping[str, ibis.Table], setup: Setup, people: People | None, start: datetime,
                 end: datetime, *, histories: Mapping[str, History] | None = None) -> dict:
    """Periods when every expert of a service is away (PTO, conference, sick) at once.

    Experts are the service's truck-factor set (fireline.metrics.knowledge): the fewest people
    whose absence leaves most of its files without an author. `histories`: each repository's
    history already loaded with `people` (knowledge_history.load_history); default: loaded here."""
    from .knowledge import analyse, knowledge_report

    if histories is not None:
        repos = sorted(histories)
        if not any(h.developers for h in histories.values()):
            return {"unknown": "no git history ingested (fireline ingest git)", "periods": []}
    elif tables["changes"].count().to_pyarrow().as_py() == 0:
        return {"unknown": "no git history ingested (fireline ingest git)", "periods": []}
    else:
        repos = sorted(r["repo"] for r in python_rows(tables["repos"].select("repo").to_pyarrow()))
    away: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for o in setup.away:
        if o.person is None:
            continue
        away.setdefault(o.person, []).append((o.start, o.end, f"{o.person}: {o.kind}" + (f" ({o.note})"
                                                                                         if o.note else "")))
    periods, experts = [], {}
    for repo in repos:
        report = (analyse(histories[repo], by="service") if histories is not None
                  else knowledge_report(tables, repo, people=people, by="service"))
        for group in report["groups"]:
            if group["name"] == "(other)":
                continue
            names = group["truck_factor"]["removed"]
            experts[group["name"]] = names
            if not names:
                continue
            common = [(start, end)]
            for name in names:
                mine = merge((max(s, start), min(e, end)) for s, e, _ in away.get(name, []))
                common = [(max(a, s), min(b, e)) for a, b in common for s, e in mine if min(b, e) > max(a, s)]
            for s, e in common:
                why = sorted({w for n in names for a, b, w in away.get(n, []) if a < e and b > s})
                periods.append({"service": group["name"], "repo": repo, "experts": names, "start": s, "end": e,
                                "hours": round((e - s).total_seconds() / 3600, 2), "why": why})
    return {"unknown": None, "experts": experts, "periods": sorted(periods, key=lambda p: (p["start"],
                                                                                         p["service"]))}


def pages(tables: Mapping[str, ibis.Table], start: datetime, end: datetime) -> list[dict] | None:
    """Firing episodes (one per alert fingerprint and start) in [start, end); None without alert data."""
    from .alerts import episodes

    t = tables["alert_events"]
    if t.count().to_pyarrow().as_py() == 0:
        return None
    ep = episodes(t)
    ep = ep.filter((ep.start >= start) & (ep.start < end))
    return python_rows(ep.select(starts_at=ep.start, name=ep.name, service=ep.service, severity=ep.severity)
                       .order_by(["starts_at", "name"]).to_pyarrow())


def load(scheds: Mapping[str, TeamSchedule], setup: Setup, page_rows: list[dict] | None,
         team_of: Callable[[str], str | None]) -> dict:
    """Hours on call per person split into business, off and sleep hours on their own clock, and pages."""
    st = setup.settings
    people: dict[str, dict] = {}
    for team, sched in scheds.items():
        for shift in sched.final:
            zone = setup.zones.get(shift.person, "UTC")
            p = people.setdefault(shift.person, {"person": shift.person, "zone": zone, "teams": [], "hours": 0.0,
                                                 "business": 0.0, "off": 0.0, "sleep": 0.0, "pages": 0,
                                                 "pages_sleep": 0})
            if team not in p["teams"]:
                p["teams"].append(team)
            split = days.split_hours((shift.start, shift.end), zone, st.business_hours, st.sleep_hours, st.holidays)
            p["hours"] += shift.hours
            for k, v in split.items():
                p[k] += v
    for row in page_rows or []:
        owner = team_of(row["service"]) if row["service"] else None
        paged = scheds.get(owner) if owner else None
        paged_shift = shift_at(paged.final, row["starts_at"]) if paged else None
        if paged_shift is None:
            continue
        p = people[paged_shift.person]
        p["pages"] += 1
        asleep = days.daily(row["starts_at"], row["starts_at"] + timedelta(seconds=1), p["zone"], st.sleep_hours)
        p["pages_sleep"] += days.in_windows(row["starts_at"], asleep)
    rows = sorted(people.values(), key=lambda p: (-p["hours"], p["person"]))
    for p in rows:
        for k in ("hours", "business", "off", "sleep"):
            p[k] = round(p[k], 2)
        if page_rows is None:
            p["pages"] = p["pages_sleep"] = None
    hours = [p["hours"] for p in rows]
    return {"people": rows, "pages_unknown": None if page_rows is not None else "no alert events ingested",
            "fairness": {"max_hours": max(hours, default=0.0), "min_hours": min(hours, default=0.0),
                         "ratio": round(max(hours) / min(hours), 2) if hours and min(hours) > 0 else None}}


def handoff(tables: Mapping[str, ibis.Table], setup: Setup, team: str, services: Sequence[str],
            production: Sequence[str], at: datetime, *, zone: str = "UTC") -> dict:
    """What the incoming person needs at the shift change `at` for `team`. Action items are due by
    days in `zone` (the configured zone), as `fireline actions` counts them."""
    sched = around(setup, at, team)[team]
    # A handoff is a change of person: a gap inside someone's stretch (PTO with nobody covering)
    # is part of their shift, so its alerts and deployments reach the note.
    stretches: list[Shift] = []
    for r in runs(sched.final):
        if stretches and stretches[-1].person == r.person:
            stretches[-1] = Shift(r.team, stretches[-1].layer, r.person, stretches[-1].start, r.end, r.reason)
        else:
            stretches.append(r)
    current = next((r for r in stretches if r.start < at <= r.end), None) or \
        next((r for r in reversed(stretches) if r.end <= at), None)
    shift_start = current.start if current else at - timedelta(days=1)
    incoming = next((r for r in stretches if r.start >= (current.end if current else at) and
                     (current is None or r.person != current.person)), None)
    svc = list(services)
    inc = tables["incidents"]
    open_inc = python_rows(
        inc.filter(inc.service.isin(svc) & (inc.started <= at) & (inc.resolved.isnull() | (inc.resolved > at)))
        .select("id", "service", "title", "severity", "started", "detected_by").order_by("started")
        .to_pyarrow()) if svc else []
    closed = python_rows(
        inc.filter(inc.service.isin(svc) & (inc.started < at) & (inc.resolved >= shift_start) & (inc.resolved <= at))
        .select("id", "service", "title", "severity", "started", "resolved").order_by("started")
        .to_pyarrow()) if svc else []
    page_rows = pages(tables, shift_start, at)
    alert_rows = [p for p in (page_rows or []) if p["service"] in svc]
    dep = tables["deployments"]
    deploys = python_rows(
        dep.filter(dep.service.isin(svc) & dep.environment.isin(list(production)) & (dep.time >= shift_start)
                   & (dep.time < at)).select("id", "service", "time", "status", "type", "ref")
        .order_by("time").to_pyarrow()) if svc else []
    ai = tables["action_items"]
    members = sorted({m for layer in setup.rotations[team].layers for m in layer.members})
    today = at.astimezone(ZoneInfo(zone)).date()
    due_by = today + timedelta(days=setup.settings.handoff_due_days)
    ours = (ai.team == team) | (ai.team.isnull() & ai.owner.isin(members))
    items = python_rows(ai.filter(ours & (ai.status == "open") & ai.due.notnull() & (ai.due <= due_by))
                        .select("postmortem_id", "position", "owner", "what", "due", "status", "ticket")
                        .order_by("due").to_pyarrow())
    for item in items:
        item["overdue"] = is_overdue(item, today)
    holes = [{"start": s, "end": e} for s, e in gaps(sched.final, shift_start, at)]
    return {"team": team, "at": at, "services": svc,
            "outgoing": {"person": current.person, "start": current.start, "end": current.end} if current else None,
            "incoming": {"person": incoming.person, "start": incoming.start, "end": incoming.end} if incoming else None,
            "since": shift_start, "open_incidents": open_inc, "resolved_incidents": closed,
            "alerts": alert_rows, "alerts_known": page_rows is not None, "deployments": deploys,
            "action_items": items, "nobody_on_call": holes, "due_days": setup.settings.handoff_due_days}
