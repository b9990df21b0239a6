"""Terminal rendering for `fireline actions`, `fireline followup` and `fireline postmortem repeats`.

Formats results; computes nothing.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import registry
from .fast_table import Cell, print_table
from .terminal import duration, plain, safe

VERDICT_STYLE = {"improved": "bold green", "worse": "bold red", "no clear change": "yellow",
                 "too little data": "dim", "unknown": "dim"}
METRIC_LABEL = {name: registry.BY_NAME[name].phrase for name in registry.POSTMORTEM_TARGETS}


def _table(title: str | None = None, caption: str | None = None) -> Table:
    return Table(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                 collapse_padding=True, show_edge=False)


def actions(report: dict[str, Any], out: Console) -> None:
    items = report["items"]
    if not items:
        out.print(f"No open action items (as of {report['today']}).")
        return
    table = _table(caption=f"as of {report['today']} · overdue first · --ics FILE for a calendar, --json for all")
    # Only the short fixed-width cells refuse to wrap, and the path (one long word) folds when the terminal is
    # narrow: otherwise Rich squeezes What to two letters a line in 80 columns (a pipe is 80 columns too).
    where_width = max(24, out.width - 100)
    for col in ("Due", "Late", "Team", "Owner", "What", "Postmortem", "Where"):
        table.add_column(col, overflow="fold", no_wrap=col in ("Due", "Late"),
                         max_width=where_width if col == "Where" else None)
    # Cells are literal text (a str) or a styled Text, never markup: 20,000 rows skip Rich's markup parser and its
    # per-cell layout (fast_table).
    rows: list[tuple[Cell, ...]] = []
    for i in items:
        late: Cell = (Text(f"{i['days_late']} d", style="red") if i["overdue"]
                      else f"in {i['days_left']} d" if i["days_left"] is not None else "—")
        what: Cell = plain(i["what"] or "")
        if i.get("dora_metric"):
            label = plain(METRIC_LABEL.get(i["dora_metric"], i["dora_metric"]))
            what = Text.assemble(what, " ", (f"({label})", "dim"))
        rows.append((plain(i["due"] or "—"), late, plain(i["team"]), plain(i["owner"] or "—"), what,
                     plain(i["postmortem_id"] or ""), plain(f"{i['file']}:{i['line']}")))
    print_table(out, table, rows)
    teams = ", ".join(f"{t['team']} {t['open']} open ({t['overdue']} overdue)" for t in report["by_team"])
    out.print(f"{report['open']} open, {report['overdue']} overdue: {safe(teams)}", soft_wrap=True)


def value(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    if metric == "deployment_frequency":
        return f"{v * 7:.1f}/wk"
    if metric == "change_failure_rate":
        return f"{v * 100:.0f}%"
    return duration(v)


def change(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    return sign + value(metric, abs(v)).replace("%", " pp")


_ABBR = {"weeks": "wk", "deployments": "dep", "incidents": "inc"}


def _n(side: dict[str, Any]) -> str:
    return f"{side['n']} {_ABBR.get(side['sample_unit'], side['sample_unit'])}"


def followup(results: list[dict[str, Any]], out: Console) -> None:
    if not results:
        out.print("No done long-term action items with a dora_metric yet: nothing to follow up.")
        return
    weeks = results[0]["weeks"]
    table = _table(caption=f"{weeks} weeks before done_on vs up to {weeks} weeks after (cut at --today) · "
                           "(n) = samples: weeks, deployments or incidents · --json for windows and reasons")
    for col in ("Action", "Team", "Metric", "Done", "Before (n)", "After (n)", "Change", "95% interval", "Verdict"):
        # Only the date refuses to wrap: with more no_wrap columns an 80-column terminal cut dates and verdicts
        # and dropped Team, Metric and the interval altogether.
        table.add_column(col, overflow="fold", no_wrap=col == "Done")
    for r in results:
        metric = r["dora_metric"]
        style = VERDICT_STYLE.get(r["verdict"], "")
        if "before" not in r:
            cells = ["—"] * 4
        else:
            b, a = r["before"], r["after"]
            ci = f"{change(metric, r['ci'][0])} … {change(metric, r['ci'][1])}" if r.get("ci") else "—"
            cells = [f"{value(metric, b['value'])} ({_n(b)})", f"{value(metric, a['value'])} ({_n(a)})",
                     change(metric, r["change"]), ci]
        table.add_row(safe(f"{r['postmortem_id']} #{r['position']}"), safe(r["team"] or "—"),
                      METRIC_LABEL.get(metric, metric), str(r["done_on"]), *cells,
                      f"[{style}]{r['verdict']}[/]" if style else r["verdict"])
    out.print(table)
    for r in results:
        out.print(f"[dim]{safe(r['postmortem_id'])} #{r['position']} ({safe(r['what'] or '')}): "
                  f"{safe(r['reason'])}[/]", soft_wrap=True)


def repeats(rows: list[dict[str, Any]], window_days: int, out: Console) -> None:
    if not rows:
        out.print(f"No repeat incidents: no service had two incidents with the same cause tag within "
                  f"{window_days} days (tags come from postmortem front matter).")
        return
    table = _table(caption=f"same service, same cause tag, within {window_days} days · actions of the earlier "
                           "postmortem: done by the day of the repeat / total")
    for col in ("Incident", "Service", "Tag", "Repeats", "Days apart", "Earlier postmortem", "Actions done",
                "Open"):
        table.add_column(col, overflow="fold")
    for r in rows:
        done = f"{r['earlier_actions_done_before']}/{r['earlier_actions_total']}"
        if r["earlier_actions_done"] != r["earlier_actions_done_before"]:
            done += f" ({r['earlier_actions_done']} now)"
        open_ = f"[red]{r['earlier_actions_open']}[/]" if r["earlier_actions_open"] else "0"
        table.add_row(safe(r["incident_id"]), safe(r["service"]), safe(r["tag"]),
                      safe(r["earlier_incident_id"]), f"{r['days_apart']:g}",
                      safe(r["earlier_postmortem_id"] or "—"), done, open_)
    out.print(table)
