"""The report's on-call coverage section: where nobody was (or will be) on call, production
deployments nobody was on call to verify, every expert of a service away at once, and the hours
on call per person.

A view: the figures come from fireline.oncall.report (the same as `fireline oncall gaps` and
`fireline oncall load`); this module only picks the report's scope and formats them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...model import NO_TEAM
from ...views.charts import stacked
from ...views.report.model import Cell, Figure, Section, Table
from .context import Context, histories

SPLIT = ("business", "off", "sleep")


def _owner(ctx: Context) -> Callable[[str], str | None]:
    """A service's team as the report's filters see it (ctx.team_of), else as configured."""
    def team_of(service: str) -> str | None:
        team = ctx.team_of.get(service) or ctx.config.team_of(service)
        return None if team in (None, NO_TEAM) else team
    return team_of


def _data(ctx: Context) -> dict[str, Any]:
    if "oncall" not in ctx.cache:
        from ...oncall import report
        from ...oncall.settings import load

        setup = load(ctx.config)
        owner = _owner(ctx)
        teams: set[str] | None = None
        if ctx.team:
            teams = {ctx.team}
        elif ctx.service:
            teams = {t for t in [owner(ctx.service)] if t}
        services = set(ctx.scope.services) if ctx.scope.services is not None else None
        lo, hi = ctx.scope.since, ctx.scope.until
        scheds = report.expand(setup, lo, hi, teams)  # once, for the gaps, the deployments and the load
        ctx.cache["oncall"] = {
            "setup": setup, "teams": teams,
            "coverage": report.coverage(setup, ctx.config, ctx.tables, lo, hi, teams=teams, services=services,
                                        team_of=owner, scheds=scheds, histories=histories(ctx)),
            "load": report.load(setup, ctx.tables, lo, hi, owner, teams=teams, scheds=scheds)}
    return ctx.cache["oncall"]


def _t(ctx: Context, value: datetime) -> str:
    return value.astimezone(ZoneInfo(ctx.config.timezone)).strftime("%a %Y-%m-%d %H:%M")


def _h(value: float) -> str:
    return f"{value:.1f}"


def _count(n: int, bad: bool = True) -> Cell:
    return Cell(str(n), value=n, css="bad" if n and bad else None)


def _gaps_table(ctx: Context, gaps: list[dict]) -> Table:
    rows: list[list[Cell | str]] = []
    for g in gaps:
        why = "; ".join(g["why"]) or "no layer covers it"
        if g["days_off"]:
            why += " · days off: " + ", ".join(g["days_off"])
        if g["start"] >= ctx.now:
            why += " · still ahead"
        rows.append([g["team"], _t(ctx, g["start"]), _t(ctx, g["end"]), Cell(_h(g["hours"]), value=g["hours"]),
                     g["after"] or "—", why])
    return Table("oncall-gaps", f"Nobody on call ({len(gaps)} stretches; times in {ctx.config.timezone})",
                 ["Team", "From", "To", "Hours", "After", "Why"], rows, numeric={3},
                 row_css=["flagged" if g["days_off"] else None for g in gaps],
                 row_keys=[g["team"] for g in gaps],
                 note="Highlighted: the stretch touches a weekend or public holiday on the rotation's calendar. "
                      "Details: fireline oncall gaps.")


def _unverified_table(ctx: Context, u: dict) -> Table:
    rows: list[list[Cell | str]] = [
        [_t(ctx, d["time"]), d["day_off"] or d["weekday"], d["service"], d["team"] or "—", d["id"],
         d["type"] or "—", d["why"]] for d in u["unverified"]]
    return Table("oncall-unverified", f"Production deployments nobody of their team was on call to verify "
                 f"({len(u['unverified'])} of {u['checked']})",
                 ["Time", "Day", "Service", "Team", "Deployment", "Type", "Why"], rows,
                 row_css=["flagged" if d["day_off"] else None for d in u["unverified"]],
                 note=f"Verified means someone of the owning team was on call for the {u['verify_hours']:g} h after "
                      "the deployment ([oncall] verify_hours).")


def _load_table(ctx: Context, load: dict) -> Table:
    people = load["people"]
    rows: list[list[Cell | str]] = [
        [p["person"], p["zone"], ", ".join(p["teams"]), Cell(_h(p["hours"]), value=p["hours"]),
         Cell(_h(p["business"]), value=p["business"]), Cell(_h(p["off"]), value=p["off"]),
         Cell(_h(p["sleep"]), value=p["sleep"]),
         "—" if p["pages"] is None else Cell(str(p["pages"]), value=p["pages"]),
         "—" if p["pages_sleep"] is None else Cell(str(p["pages_sleep"]), value=p["pages_sleep"])]
        for p in people]
    note = "Hours on each person's own clock: business hours on working days, sleep hours, and the rest off."
    if load["pages_unknown"]:
        note += f" Pages unknown: {load['pages_unknown']}."
    return Table("oncall-load", "Hours on call per person", ["Person", "Zone", "Teams", "Hours", "Business", "Off",
                                                             "Sleep", "Pages", "Pages asleep"],
                 rows, numeric={3, 4, 5, 6, 7, 8}, row_keys=[p["person"] for p in people], note=note)


def _load_chart(load: dict):
    people = [p for p in load["people"] if p["hours"] > 0]
    if not people:
        return None
    return stacked(
        "chart-oncall-load", "Hours on call per person",
        "Hours on call per person, split into business, off and sleep hours on their own clock: " +
        "; ".join(f"{p['person']} {p['hours']:.0f} h ({p['business']:.0f} business, {p['off']:.0f} off, "
                  f"{p['sleep']:.0f} sleep)" for p in people) + ".",
        [{"category": p["person"], "series": k, "value": round(p[k], 2)} for p in people for k in SPLIT],
        value_title="hours on call", series=list(SPLIT), horizontal=True,
        table_columns=["Person", "Hours", "Business", "Off", "Sleep"],
        table_rows=[[p["person"], _h(p["hours"]), _h(p["business"]), _h(p["off"]), _h(p["sleep"])] for p in people])


def oncall_section(ctx: Context) -> Section | None:
    if not ctx.config.rotations:
        return None
    data = _data(ctx)
    if data["teams"] is not None and not data["teams"] & set(data["setup"].rotations):
        return None  # the filtered team has no rotation: nothing to say about its coverage
    cov, load = data["coverage"], data["load"]
    gaps, stretches, u, e = cov["gaps"], cov["weekend_stretches"], cov["unverified_deployments"], cov["experts_away"]
    hours = round(sum(g["hours"] for g in gaps), 2)
    ahead = sum(1 for g in gaps if g["start"] >= ctx.now)
    weekend_u = sum(1 for d in u["unverified"] if d["day_off"])
    limit = data["setup"].settings.weekend_max_hours
    figures = [
        Figure("Gaps: nobody on call", _count(len(gaps)),
               detail=f"{_h(hours)} h in all" + (f"; {ahead} still ahead" if ahead else "")),
        Figure("Hours nobody on call", Cell(_h(hours), value=hours, css="bad" if hours else None),
               detail=f"{sum(1 for g in gaps if g['days_off'])} of the stretches touch a weekend or holiday"),
        Figure("Who verifies weekend releases?",
               Cell("unknown", css=None) if u.get("unknown") else _count(len(u["unverified"])),
               detail=u["unknown"] if u.get("unknown") else
               f"production deployments of {u['checked']} nobody was on call to verify; {weekend_u} on a "
               "weekend or holiday"),
        Figure("Experts away at once", Cell("unknown") if e.get("unknown") else _count(len(e["periods"])),
               detail=e["unknown"] if e.get("unknown") else
               "; ".join(f"{p['service']}: {', '.join(p['experts'])} ({'; '.join(p['why'])})"
                         for p in e["periods"][:3]) or "every service had an expert around"),
        Figure("Long days-off stretches", _count(len(stretches)),
               detail=f"one person on call through more than {limit:g} h of weekend or holidays"),
    ]
    fair = load["fairness"]
    if fair["ratio"] is not None:
        figures.append(Figure("Most / least on call", Cell(f"{fair['ratio']:g}×", value=fair["ratio"]),
                              detail=f"{_h(fair['max_hours'])} h against {_h(fair['min_hours'])} h"))
    tables = [_gaps_table(ctx, gaps)]
    if not u.get("unknown"):
        tables.append(_unverified_table(ctx, u))
    tables.append(_load_table(ctx, load))
    chart = _load_chart(load)
    lead = (f"{len(gaps)} stretches with nobody on call ({_h(hours)} h) and {len(u['unverified'])} production "
            "deployments nobody was on call to verify. Who owns the rotation, who verifies the weekend release, "
            "what happens when the expert is at a conference." if gaps or u["unverified"]
            else "Someone was on call throughout, and every production deployment had someone to verify it.")
    notes = [f"{r['team']}: {r['why']}" + (f" (it starts {_t(ctx, r['at'])})" if r["why"] == "no rotation yet"
                                           else f" {_t(ctx, r['at'])}") for r in cov["no_rotation"]]
    notes += [f"{s['team']}: {s['person']} on call {_t(ctx, s['start'])} → {_t(ctx, s['end'])} "
             f"({_h(s['hours'])} h: {', '.join(s['days'])})" for s in stretches[:10]]
    if len(stretches) > 10:
        notes.append(f"… and {len(stretches) - 10} more: fireline oncall gaps.")
    verdict = None
    if gaps or u["unverified"]:
        verdict = (f"{len(gaps)} gaps in on-call coverage" + (f" and {len(u['unverified'])} unverified production "
                   "deployments" if u["unverified"] else "") + ": nobody was there to notice")
    return Section("oncall", "On-call coverage", lead, figures=figures, charts=[chart] if chart else [],
                   tables=tables, notes=notes, verdict=verdict)
