"""`fireline debt`, `fireline budget`, `fireline plan` and `fireline ingest flags`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box

from ..app.settings import load_config
from ..errors import UserError
from ..store import Store
from ..views import terminal
from .common import (
    AtOpt,
    ConfigOpt,
    DbOpt,
    JsonOpt,
    ServiceOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    hidden_alias,
    print_json,
    workspace,
)

NowOpt = Annotated[str | None, hidden_alias("--now")]
PlanNowOpt = NowOpt


def _day(value: datetime | date | None, tz: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")
    return value.isoformat()


# ---- debt -----------------------------------------------------------------------------------------

def debt(team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, at: AtOpt = None,
         now: NowOpt = None,
         limit: Annotated[int, typer.Option("--limit", min=0, help="Items to list per kind (JSON has all).")] = 15,
         db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The debt ledger: technical (TODO/FIXME/HACK/XXX with age and author from one batched blame
    pass, hotspots), process (overdue or dropped action items, repeat incidents whose earlier actions
    were not done) and knowledge (orphaned code, truck factor 1), per team and service, with the
    totals month by month from --since (default: six months before --at)."""
    with workspace(db, config, at, now=now) as ws:
        ledger = ws.debt(team=team, service=service, since=since)
        tz = ws.config.timezone
    if as_json:
        print_json(ledger)
        return
    _render_debt(ledger, tz, limit)


def _render_debt(ledger: dict[str, Any], tz: str, limit: int) -> None:
    out = terminal.console()
    out.print(f"[bold]Debt ledger[/] as of {_day(ledger['now'], tz)} ({terminal.safe(tz)})")
    # Team names, titles, paths and owners come from files: DataTable cells go through terminal.safe.
    summary = terminal.DataTable(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("Team", "Technical", "Process", "Knowledge", "Total"):
        summary.add_column(col, justify="left" if col == "Team" else "right")
    for row in ledger["by_team"]:
        summary.add_row(row["team"], str(row["technical"]), str(row["process"]), str(row["knowledge"]),
                        str(row["total"]))
    out.print(summary)
    for kind in ("technical", "process", "knowledge"):
        items = [i for i in ledger["items"] if i["kind"] == kind]
        if not items:
            continue
        table = terminal.DataTable(title=f"{kind.capitalize()} debt ({len(items)})", header_style="bold",
                                   box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
        for col in ("team", "service", "what", "where", "owner", "since", "age"):
            table.add_column(col, overflow="fold")
        for i in sorted(items, key=lambda i: -(i["age_days"] or 0))[:limit or None]:
            if i["kind"] == "process":
                where = f"{i['file']}:{i['line']}" if i.get("file") else (i.get("postmortem") or i.get("incident"))
            else:
                where = f"{i['path']}:{i['line']}" if i.get("line") else (i.get("path") or "")
            age = f"{i['age_days']:.0f} d" if i["age_days"] is not None else "—"
            table.add_row(i["team"], i["service"] or "—", i["title"], str(where), i["owner"] or "—",
                          _day(i["since"], tz), age)
        out.print(table)
    months = sorted({t["month"] for t in ledger["totals"]})
    if months:
        table = terminal.DataTable(title="Debt month by month (at each month's end)", header_style="bold",
                                   box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
                                   caption="technical/process/knowledge")
        table.add_column("Team")
        for m in months:
            table.add_column(m, justify="right")
        cells = {(t["team"], t["month"]): t for t in ledger["totals"]}
        for team in sorted({t["team"] for t in ledger["totals"]}):
            table.add_row(team, *(f"{c['technical']}/{c['process']}/{c['knowledge']}"
                                  if (c := cells.get((team, m))) else "—" for m in months))
        out.print(table)
    for scan in ledger["scans"]:
        skipped = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in scan["skipped"].items() if n)
        out.print(f"[dim]{terminal.safe(scan['repo'])}: {scan['scanned']} of {scan['files']} files scanned"
                  + (f", skipped {skipped}" if skipped else "") + f"; {scan['markers']} markers[/]")
    for note in ledger["notes"]:
        out.print(f"[dim]{terminal.safe(note)}[/]")


# ---- budget ---------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def budget(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None,
           weight: Annotated[str | None, typer.Option("--weight", help="commits (each commit counts once) or "
                                                      "lines (changed lines); default from [budget].")] = None,
           at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Share of each team's work spent on fixes, per month, against its budget ([budget] in config):
    over, under or within (budget +- tolerance)."""
    with workspace(db, config, at) as ws:
        data = ws.budget(team=team, since=since, until=until, weight=weight)
    if as_json:
        print_json(data)
        return
    out = terminal.console()
    out.print(f"[bold]Bug budget[/]: fixes / all work by {data['weight']}, {data['window']['since'][:10]} → "
              f"{data['window']['until'][:10]}; within = budget ± {data['tolerance']:.0%}")
    if data["unknown"]:
        out.print(f"unknown: {terminal.safe(data['unknown'])}")
        return
    months = sorted({m["month"] for t in data["teams"] for m in t["months"]})
    table = terminal.DataTable(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                  caption="fix share per month (! over budget, ↓ under); window verdict last")
    table.add_column("Team")
    table.add_column("Budget", justify="right", min_width=6)
    # "Jan" not "2026-01": seven months of the longer form do not fit 80 columns and were cut to "202…".
    years = {m[:4] for m in months}
    for m in months:
        table.add_column(_MONTHS[int(m[5:]) - 1] + ("" if len(years) == 1 else f" {m[2:4]}"), justify="right")
    table.add_column("Window", justify="right", min_width=6)
    table.add_column("Verdict", min_width=7)
    mark = {"over": "!", "under": "↓", "within": "", "unknown": ""}
    for t in data["teams"]:
        cells = {m["month"]: m for m in t["months"]}
        row = [f"{c['share']:.0%}{mark[c['verdict']]}" if (c := cells.get(m)) and c["share"] is not None else "—"
               for m in months]
        style = {"over": "red", "under": "yellow"}.get(t["verdict"], "green")
        table.add_row(t["team"], f"{t['budget']:.0%}", *row,
                      f"{t['share']:.0%}" if t["share"] is not None else "—", terminal.styled(t["verdict"], style))
    out.print(table)


# ---- plan -----------------------------------------------------------------------------------------

def plan(release: Annotated[str, typer.Option("--release", help="Release day (a date in the configured zone).")],
         team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
         verify_days: Annotated[int | None, typer.Option(
             "--verify-days", min=0, max=365,
             help="Days in production before the release (default [budget] plan_verify_days, 2).")] = None,
         freeze_days: Annotated[int | None, typer.Option(
             "--freeze-days", min=0, max=365,
             help="Freeze before verification (default: from the last merge at 80% confidence).")] = None,
         at: AtOpt = None, now: PlanNowOpt = None, db: DbOpt = None, config: ConfigOpt = None,
         as_json: JsonOpt = False) -> None:
    """Plan backwards from release day: the last merge date at 50/80/95% confidence from the measured
    lead times (--since/--until, default the 90 days before now) and deploy cadence, with the freeze
    and verification steps, who is on call that day, and a flag when the median lead time exceeds
    two weeks."""
    if team and service:
        raise UserError("pass --team or --service, not both", where="--service")
    with workspace(db, config, at, now=now) as ws:
        result = ws.plan(release, team=team, service=service, since=since, until=until, verify_days=verify_days,
                         freeze_days=freeze_days)
        tz = ws.config.timezone
    if as_json:
        print_json(result)
        return
    _render_plan(result, tz)


def _render_plan(p: dict[str, Any], tz: str) -> None:
    out = terminal.console()
    who = p["team"] or p["service"] or "all services"
    out.print(f"[bold]Release plan[/] for {terminal.safe(who)}: release on {p['release']} ({terminal.safe(tz)})")
    s, c = p["sample"], p["cadence"]
    if p["unknown"]:
        out.print(f"unknown: {terminal.safe(p['unknown'])}")
    else:
        q = s["quantiles_days"]
        out.print(f"Lead times of {s['changes']} changes ({s['since'][:10]} → {s['until'][:10]}): median "
                  f"{s['median_days']:.1f} d, 80% {q['80']:.1f} d, 95% {q['95']:.1f} d; "
                  f"{c['deployments']} deployments ({c['per_week']:.1f}/week"
                  + (f", every {c['median_interval_days']:.1f} d" if c["median_interval_days"] else "") + ")")
    steps = terminal.DataTable(title="Counted backwards", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  title_justify="left")
    for col in ("step", "from", "to", "why"):
        steps.add_column(col)
    for label, m in sorted(p["last_merge"].items(), key=lambda kv: -int(kv[0])):
        steps.add_row(f"last merge ({label}%)", "", f"{m['merge_by']:%Y-%m-%d %H:%M}",
                      f"lead time {m['lead_time_days']:.1f} d" + (" (the freeze comes first)" if m["bound"] == "freeze"
                                                                   else "") + (" — passed" if m["passed"] else ""))
    for step in reversed(p["steps"]):
        steps.add_row(step["step"], _fmt(step["start"], tz), _fmt(step["end"], tz), step["note"])
    out.print(steps)
    oc = p["on_call"]
    if oc.get("shifts"):
        out.print("On call on release day: " + ", ".join(
            f"{terminal.safe(x['person'])} ({_fmt(x['start'], oc['zone'])} → {_fmt(x['end'], oc['zone'])})"
            for x in oc["shifts"]))
    elif oc.get("unknown"):
        out.print(f"[dim]On call on release day: {terminal.safe(oc['unknown'])}[/]")
    for flag in p["flags"]:
        out.print(f"[bold red]![/] {terminal.safe(flag)}")


def _fmt(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


# ---- ingest flags ---------------------------------------------------------------------------------

def ingest_flags(
    file: Annotated[Path, typer.Argument(help="CSV, NDJSON or JSON array of flag changes: flag, service, time, "
                                         "state (on|off), optional id and incident_id.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add feature flag changes. Turning a flag off during an incident (or a flip naming the incident)
    is the incident's restore time. Ingesting a file twice adds nothing."""
    from ..ingest import ingest_flags as run
    from ..sources.records import check_file

    cfg = load_config(config)
    check_file(file)
    store = Store.open(db)
    try:
        result = run(store, cfg, file, service=service)
    finally:
        store.close()
    if as_json:
        print_json(result.as_dict())
        return
    terminal.console().print(f"{result.source}: {result.new_flags} new feature flag changes"
                             + (f", {result.skipped} skipped (already stored)" if result.skipped else "") + ".")


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add this module's commands to the `fireline` app (and its `ingest` group)."""
    app.command("debt")(debt)
    app.command("budget")(budget)
    app.command("plan")(plan)
    ingest_app.command("flags")(ingest_flags)


__all__ = ["budget", "debt", "ingest_flags", "plan", "register"]
