"""The debt ledger, the bug budget and the release plan as terminal tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from rich import box

from ..wording import first_few
from . import terminal


def _day(value: datetime | date | None, tz: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")
    return value.isoformat()


def _as_of(now: datetime, tz: str) -> str:
    """`--at 2027-04-01` means once that day has passed: midnight after it, shown as the day asked for."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(tz))
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"the end of {(local.date() - timedelta(days=1)).isoformat()}"
    return local.strftime("%Y-%m-%d %H:%M")


def _few(names: str | None, shown: int = 3) -> str:
    """At most `shown` names of a comma-separated list (orphaned code in flask named 35); --json has all.
    One name more than `shown` is shown whole: "and 1 more" takes the room of the name."""
    if not names:
        return "—"
    parts = names.split(", ")
    return first_few(parts, shown if len(parts) > shown + 1 else shown + 1)


def render_debt(ledger: dict[str, Any], tz: str, limit: int) -> None:
    out = terminal.console()
    out.print(f"[bold]Debt ledger[/] as of {_as_of(ledger['now'], tz)} ({terminal.safe(tz)})")
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
        for col in ("team", "service", "what", "where", "owner"):
            table.add_column(col, overflow="fold")
        for col in ("since", "age"):
            table.add_column(col, no_wrap=True)
        for i in sorted(items, key=lambda i: -(i["age_days"] or 0))[:limit or None]:
            if i["kind"] == "process":
                where = f"{i['file']}:{i['line']}" if i.get("file") else (i.get("postmortem") or i.get("incident"))
            else:
                where = f"{i['path']}:{i['line']}" if i.get("line") else (i.get("path") or "")
            age = f"{i['age_days']:.0f} d" if i["age_days"] is not None else "—"
            table.add_row(i["team"], i["service"] or "—", i["title"], str(where), _few(i["owner"]),
                          _day(i["since"], tz), age)
        out.print(table)
    months = sorted({t["month"] for t in ledger["totals"]})
    if months:
        totals = {(t["team"], t["month"]): t for t in ledger["totals"]}
        teams = sorted({t["team"] for t in ledger["totals"]})
        cells = {m: [f"{c['technical']}/{c['process']}/{c['knowledge']}" if (c := totals.get((team, m))) else "—"
                     for team in teams] for m in months}
        months, note = terminal.months_shown(months, [[m, *cells[m]] for m in months], [["Team", *teams]], out)
        table = terminal.DataTable(title="Debt month by month (at each month's end)", header_style="bold",
                                   box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
                                   caption="technical/process/knowledge" + (f"; {note}" if note else ""))
        table.add_column("Team")
        for m in months:
            table.add_column(m, justify="right")
        for i, team in enumerate(teams):
            table.add_row(team, *(cells[m][i] for m in months))
        out.print(table)
    for scan in ledger["scans"]:
        skipped = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in scan["skipped"].items() if n)
        files = terminal.plural(scan["files"], "file")
        out.print(f"[dim]{terminal.safe(scan['repo'])}: {scan['scanned']} of {files} scanned"
                  + (f", skipped {skipped}" if skipped else "") + f"; {terminal.plural(scan['markers'], 'marker')}[/]")
    for note in ledger["notes"]:
        out.print(f"[dim]{terminal.safe(note)}[/]")


# ---- budget ---------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def render_budget(data: dict[str, Any]) -> None:
    out = terminal.console()
    out.print(f"[bold]Bug budget[/]: fixes / all work by {data['weight']}, {data['window']['since'][:10]} → "
              f"{data['window']['until'][:10]}; within = budget ± {data['tolerance']:.0%}")
    if data["unknown"]:
        out.print(f"unknown: {terminal.safe(data['unknown'])}")
        return
    months = sorted({m["month"] for t in data["teams"] for m in t["months"]})
    # "Jan" not "2026-01": seven months of the longer form do not fit 80 columns and were cut to "202…".
    years = {m[:4] for m in months}
    header = {m: _MONTHS[int(m[5:]) - 1] + ("" if len(years) == 1 else f" {m[2:4]}") for m in months}
    mark = {"over": "!", "under": "↓", "within": "", "unknown": ""}
    by_month = [{c["month"]: c for c in t["months"]} for t in data["teams"]]
    shares = {m: [f"{c['share']:.0%}{mark[c['verdict']]}" if (c := cells.get(m)) and c["share"] is not None
                  else "—" for cells in by_month] for m in months}
    fixed = [["Team", *(t["team"] for t in data["teams"])], ["Budget"], ["Window"], ["Verdict", "within"]]
    months, note = terminal.months_shown(months, [[header[m], *shares[m]] for m in months], fixed, out, gap=2)
    table = terminal.DataTable(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                               caption="fix share per month (! over budget, ↓ under); window verdict last"
                               + (f"; {note}" if note else ""))
    table.add_column("Team")
    table.add_column("Budget", justify="right", min_width=6)
    for m in months:
        table.add_column(header[m], justify="right")
    table.add_column("Window", justify="right", min_width=6)
    table.add_column("Verdict", min_width=7)
    for i, t in enumerate(data["teams"]):
        style = {"over": "red", "under": "yellow"}.get(t["verdict"], "green")
        table.add_row(t["team"], f"{t['budget']:.0%}", *(shares[m][i] for m in months),
                      f"{t['share']:.0%}" if t["share"] is not None else "—", terminal.styled(t["verdict"], style))
    out.print(table)


# ---- plan -----------------------------------------------------------------------------------------

def render_plan(p: dict[str, Any], tz: str) -> None:
    out = terminal.console()
    who = p["team"] or p["service"] or "all services"
    out.print(f"[bold]Release plan[/] for {terminal.safe(who)}: release on {p['release']} ({terminal.safe(tz)})")
    s, c = p["sample"], p["cadence"]
    if p["unknown"]:
        out.print(f"unknown: {terminal.safe(p['unknown'])}")
    else:
        q = s["quantiles_days"]
        changes = terminal.plural(s["changes"], "change")
        out.print(f"Lead times of {changes} ({s['since'][:10]} → {s['until'][:10]}): median "
                  f"{s['median_days']:.1f} d, 80% {q['80']:.1f} d, 95% {q['95']:.1f} d; "
                  f"{terminal.plural(c['deployments'], 'deployment')} ({c['per_week']:.1f}/week"
                  + (f", median gap {c['median_interval_days']:.1f} d" if c["median_interval_days"] else "") + ")")
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

