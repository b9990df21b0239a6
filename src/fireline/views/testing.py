"""`fireline testing` as terminal tables: the share of bug fixes with a regression test per team and
month, and the recent fixes without one."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console

from . import terminal


def _share(row: dict[str, Any]) -> str:
    if row["share"] is None:
        return "unknown" if row["fixes"] else "—"
    return f"{row['with_test']}/{row['fixes'] - row['files_unknown']} {row['share'] * 100:.0f}%"


def render(data: dict[str, Any], console: Console) -> None:
    window, overall = data["window"], data["overall"]
    console.print(f"[bold]Bug fixes with a regression test[/] {window['since'][:16]} → {window['until'][:16]} UTC, "
                  f"months in {terminal.safe(data['timezone'])}")
    if overall["share"] is None:
        console.print(f"Share: unknown: {terminal.safe(overall['unknown'])}")
    else:
        kinds = terminal.safe(", ".join(f"{k} {v}" for k, v in data["by_kind"].items()))
        fixes = terminal.plural(overall["fixes"], "fix", "fixes")
        console.print(f"{fixes} ({kinds}); {overall['with_test']} brought a test: "
                      f"[bold]{overall['share'] * 100:.0f}%[/]")
    months = sorted({r["month"] for r in data["by_team_month"]})
    by_cell = {(r["team"], r["month"]): r for r in data["by_team_month"]}
    cells = {m: [_share(by_cell[(row["team"], m)]) for row in data["by_team"]] for m in months}
    window = [_share(row) for row in data["by_team"]]
    months, note = terminal.months_shown(months, [[m, *cells[m]] for m in months],
                                         [["Team", *(r["team"] for r in data["by_team"])], ["Window", *window]],
                                         console)
    # Team, repository, author and subject come from config and git: DataTable cells go through terminal.safe.
    table = terminal.DataTable(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                               caption="with test/fixes share; — no fixes (unknown share); every fix: --json"
                               + (f"; {note}" if note else ""))
    table.add_column("Team", no_wrap=True)
    for month in months:
        table.add_column(terminal.safe(month), justify="right")
    table.add_column("Window", justify="right")
    for i, row in enumerate(data["by_team"]):
        table.add_row(row["team"], *(cells[m][i] for m in months), window[i])
    console.print(table)
    recent = data["recent_without_test"]
    if not recent:
        return
    listing = terminal.DataTable(title="Recent fixes without a test", header_style="bold", box=box.SIMPLE_HEAD,
                                 pad_edge=False)
    for column in ("date", "sha", "repo", "service", "author", "subject", "why a fix"):
        listing.add_column(column, overflow="fold")
    for fix in recent:
        listing.add_row(fix["date"][:10], fix["sha"][:10], fix["repo"], fix["service"] or "—", fix["author"],
                        fix["subject"], fix["reason"])
    console.print(listing)
