"""The report's debt section: the debt ledger (technical, process and knowledge debt, with its
totals month by month) and the bug budget per team.

A view: the figures come from fireline.debt.report (the same as `fireline debt --json` and
`fireline budget --json`); this module picks the report's scope and formats them. The ledger
is as of ctx.now (markers at HEAD, actions overdue now); its monthly totals and the budget
cover the report's window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...metrics.testing import months_between
from ...model import NO_TEAM
from ...views.report.model import Cell, Figure, Section, Table
from .context import Context, histories

KINDS = ("technical", "process", "knowledge")
LONG_WINDOW_MONTHS = 120  # a longer window charts its last ten years
ITEMS_SHOWN = 100  # the dashboard has no folded drill-downs (drill_rows 0) but still caps the list


def _owner(ctx: Context, service: str) -> str | None:
    team = ctx.team_of.get(service) or ctx.config.team_of(service)
    return None if team in (None, NO_TEAM) else team


def _asked(ctx: Context) -> tuple[list[str] | None, list[str] | None]:
    """(teams, services) the ledger is asked about."""
    return ([ctx.team] if ctx.team else None), ([ctx.service] if ctx.service else None)


def _data(ctx: Context) -> dict[str, Any]:
    if "debt" not in ctx.cache:
        from ...debt import report

        teams, services = _asked(ctx)
        since, until = ctx.scope.since, min(ctx.scope.until, ctx.now)
        ledger = report.ledger(ctx.store, ctx.config, now=ctx.now, since=min(since, ctx.now), team_of=ctx.team_of,
                               teams=teams, services=services, cache=ctx.scans, histories=histories(ctx),
                               tables=ctx.tables)
        # The totals run to ctx.now; the report shows the months of its window.
        months = set(months_between(since, until, ctx.config.timezone)) if since < until else set()
        ledger["totals"] = [t for t in ledger["totals"] if t["month"] in months]
        budget_teams = teams
        if ctx.service:
            owner = _owner(ctx, ctx.service)
            budget_teams = [owner] if owner else []
        budget = report.budget(ctx.tables, ctx.config, ctx.scope, team_of=ctx.team_of,
                               teams=budget_teams).as_dict()
        ctx.cache["debt"] = {"ledger": ledger, "budget": budget}
    return ctx.cache["debt"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _count(n: int, bad: bool = False) -> Cell:
    return Cell(str(n), value=n, css="bad" if n and bad else None)


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _totals_chart(ledger: dict[str, Any]):
    from ...views.charts import stacked  # Altair: not needed to scan the markers (marker_heads)

    totals = ledger["totals"]
    months = sorted({t["month"] for t in totals})
    if not any(t["total"] for t in totals):
        return None
    shown = ""
    if len(months) > LONG_WINDOW_MONTHS:
        # Past ~1300 months Vega runs out of stack, and a century of columns is unreadable anyway.
        months = months[-LONG_WINDOW_MONTHS:]
        totals = [t for t in totals if t["month"] >= months[0]]
        shown = f" The last {LONG_WINDOW_MONTHS} months of the window; every month: fireline debt --json."
    per = {m: dict.fromkeys(KINDS, 0) for m in months}
    by_team: dict[tuple[str, str], int] = {}
    for t in totals:
        for kind in KINDS:
            per[t["month"]][kind] += t[kind]
        by_team[(t["month"], t["team"])] = t["total"]
    teams = sorted({t["team"] for t in totals if t["total"]})
    described = "; ".join(f"{m}: {sum(per[m].values())} ({', '.join(f'{per[m][k]} {k}' for k in KINDS)})"
                          for m in months)
    return stacked(
        "chart-debt-by-month", "The debt ledger month by month",
        "Debts on the ledger at the end of each month, split into technical (markers), process (overdue or "
        f"dropped actions, repeat incidents) and knowledge (silos: services with orphaned code or a truck factor "
        f"of 1): {described}.{shown}",
        [{"category": m, "series": k, "value": per[m][k]} for m in months for k in KINDS],
        value_title="debts at the month's end", series=list(KINDS), horizontal=False,
        table_columns=["Month", "Technical", "Process", "Knowledge", "Total", *(f"{t} (total)" for t in teams)],
        table_rows=[[m, *(str(per[m][k]) for k in KINDS), str(sum(per[m].values())),
                     *(str(by_team.get((m, t), 0)) for t in teams)] for m in months])


def _budget_table(budget: dict[str, Any]) -> Table:
    teams = [t for t in budget["teams"] if t["commits"]]
    lines = budget["weight"] == "lines"
    rows: list[list[Cell | str]] = []
    for t in teams:
        over = sum(1 for m in t["months"] if m["verdict"] == "over")
        rows.append([t["team"], Cell(_pct(t["budget"]), value=t["budget"]),
                     str(t["lines"] if lines else t["commits"]), str(t["fix_lines"] if lines else t["fixes"]),
                     Cell(_pct(t["share"]), value=t["share"], css="bad" if t["verdict"] == "over" else None),
                     f"{over} of {len(t['months'])}", t["verdict"]])
    unit = "changed lines" if lines else "commits"
    return Table("debt-budget", f"Bug budget per team: the share of {unit} that were fixes",
                 ["Team", "Budget", "Work" if not lines else "Lines", "Fixes", "Fix share", "Months over",
                  "Verdict"], rows, numeric={1, 2, 3, 4},
                 row_css=["overdue" if t["verdict"] == "over" else None for t in teams],
                 row_keys=[t["team"] for t in teams],
                 note=f"Over or under: the share differs from the budget by more than {_pct(budget['tolerance'])} "
                      "([budget] tolerance). Month by month: fireline budget.")


def _where(item: dict[str, Any]) -> str:
    if item["kind"] == "process":
        return (f"{item['file']}:{item['line']}" if item.get("file") else
                str(item.get("postmortem") or item.get("incident") or "—"))
    if item.get("line"):
        return f"{item['path']}:{item['line']}"
    return str(item.get("path") or item.get("repo") or "—")


def _items_table(ctx: Context, items: list[dict[str, Any]]) -> Table:
    limit = ctx.drill_rows if ctx.drill_rows > 0 else ITEMS_SHOWN
    # The oldest debts first whatever their kind, so the cap never hides a whole kind by its place in the list.
    ordered = sorted(items, key=lambda i: (i["age_days"] is None, -(i["age_days"] or 0), i["kind"], i["title"]))
    shown = ordered[:limit]
    note = "Age: days since the debt began (the marker's commit, the action's due date, the repeat's start)."
    if len(shown) < len(items):
        note += (f" Showing the oldest {len(shown)} of {len(items)}; every item: fireline debt --json "
                 "(same --team/--service, --now).")
    return Table("debt-items", f"The ledger's {len(items)} debts, oldest first",
                 ["Kind", "Category", "Team", "Service", "Title", "Where", "Owner", "Age (days)"],
                 [[i["kind"], i["category"], i["team"], i["service"] or "—", i["title"], _where(i), i["owner"] or "—",
                   Cell(_days(i["age_days"]), value=i["age_days"])] for i in shown],
                 row_css=["overdue" if i["category"] == "action overdue" else None for i in shown],
                 row_keys=[i["team"] for i in shown], numeric={7}, note=note)


def debt_section(ctx: Context) -> Section | None:
    data = _data(ctx)
    ledger, budget = data["ledger"], data["budget"]
    items = ledger["items"]
    worked = [t for t in budget["teams"] if t["commits"]]
    if not items and not any(t["total"] for t in ledger["totals"]) and not worked:
        return None
    kinds = {k: [i for i in items if i["kind"] == k] for k in KINDS}

    def n(kind: str, category: str) -> int:
        return sum(1 for i in kinds[kind] if i["category"] == category)

    markers = [i for i in kinds["technical"] if i["category"] == "marker" and i["age_days"] is not None]
    oldest = max(markers, key=lambda i: i["age_days"], default=None)
    overdue = n("process", "action overdue")
    over = [t for t in worked if t["verdict"] == "over"]
    figures = [
        Figure("Technical debt", _count(len(kinds["technical"])),
               detail=f"{n('technical', 'marker')} TODO/FIXME markers, {n('technical', 'hotspot')} hotspots"),
        Figure("Process debt", _count(len(kinds["process"])),
               detail=f"{overdue} overdue and {n('process', 'action dropped')} dropped actions, "
                      f"{n('process', 'repeat incident')} repeat incidents"),
        Figure("Knowledge debt", _count(len(kinds["knowledge"])),
               detail=f"{n('knowledge', 'orphaned code')} services with orphaned code, "
                      f"{n('knowledge', 'truck factor 1')} with truck factor 1"),
        Figure("Oldest marker", Cell(f"{oldest['age_days']:.0f} days" if oldest else "—",
                                     value=oldest["age_days"] if oldest else None),
               detail=f"{_where(oldest)} by {oldest['owner'] or 'unknown'}" if oldest else "no markers"),
        Figure("Overdue actions", _count(overdue, bad=True), detail="open postmortem actions past their due date"),
        Figure("Over their bug budget", Cell(f"{len(over)} of {len(worked)}", value=len(over),
                                             css="bad" if over else None),
               detail="; ".join(f"{t['team']} {_pct(t['share'])} vs {_pct(t['budget'])}" for t in over)
               or "teams whose fix share exceeds their budget"),
    ]
    chart = _totals_chart(ledger)
    tables = [_budget_table(budget)] if worked else []
    if items:
        tables.append(_items_table(ctx, items))
    zone = ZoneInfo(ctx.config.timezone)
    now: datetime = ledger["now"]
    lead = (f"{len(items)} debts on the ledger on {now.astimezone(zone):%Y-%m-%d}: "
            f"{len(kinds['technical'])} technical, {len(kinds['process'])} process, {len(kinds['knowledge'])} "
            "knowledge; and the share of each team's work that went into fixes, against its budget.")
    verdict = None
    if over:
        verdict = ("Over the bug budget: " + ", ".join(f"{t['team']} spent {_pct(t['share'])} of its work on fixes "
                                                       f"(budget {_pct(t['budget'])})" for t in over)
                   + ": fixes crowd out the planned work")
    return Section("debt", "Debt ledger and bug budget", lead, figures=figures, charts=[chart] if chart else [],
                   tables=tables, notes=list(ledger["notes"]), verdict=verdict)
