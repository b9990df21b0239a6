"""`fireline knowledge` as terminal tables: truck factor, knowledge per group, hotspots."""

from __future__ import annotations

from ..wording import first_few
from . import terminal


def render(report: dict) -> None:
    out = terminal.console()
    tf = report["truck_factor"]
    files = terminal.plural(tf["files"], "file")
    out.print(f"[bold]{terminal.safe(report['repo'])}[/]: truck factor {tf['value']} over {files} "
              f"({terminal.safe(', '.join(tf['removed'])) or 'nobody'}); active = committed since "
              f"{report['active_since']:%Y-%m-%d}" if report["active_since"] else "")
    people = _people_line(report)
    if people:
        out.print(terminal.safe(people))
    # Paths and author names come from git: DataTable cells go through terminal.safe.
    groups = terminal.DataTable(title=f"Knowledge by {terminal.safe(report['by'])}")
    for col in ("group", "files", "TF", "authors", "orphaned", "README", "runbook"):
        groups.add_column(col)
    for g in report["groups"]:
        authors = ", ".join(a["name"] + ("" if a["active"] else " (inactive)") for a in g["authors"][:4])
        docs = g["docs"]

        def doc(d: dict | None) -> str:
            if d is None:
                return "missing"
            return f"{d['path']} ({d['stale_days']:+.0f} d)" if d["stale_days"] is not None else d["path"]
        tf_value = g["truck_factor"]["value"]
        groups.add_row(g["name"], str(g["files"]), "-" if tf_value is None else str(tf_value),
                       authors or ("bots only" if g.get("bot_only_files") == g["files"] else "-"),
                       terminal.plural(g["orphaned_files"], "file") if g["orphaned_files"] else "-",
                       doc(docs["readme"]), doc(docs["runbook"]))
    out.print(groups)
    hot = terminal.DataTable(title="Hotspots (changes x lines)")
    for col in ("file", "changes", "lines", "score", "owners"):
        hot.add_column(col)
    for h in report["hotspots"]:
        hot.add_row(h["path"], str(h["changes"]), str(h["lines"]), str(h["score"]), ", ".join(h["owners"]))
    out.print(hot)


def _people_line(report: dict) -> str:
    """Who was merged and which bots were left out, in one line (the full lists are in --json)."""
    merged, bots = report.get("identities") or [], report.get("bots_left_out") or []
    parts = []
    if merged:
        parts.append(f"{len(merged)} {'person' if len(merged) == 1 else 'people'} merged across names or addresses")
    if bots:
        named = [f"{b['name']} ({b['commits']})" for b in bots]
        parts.append(f"bots left out (commits): {first_few(named, 4)}")
    return "; ".join(parts) + " (details: --json)" if parts else ""
