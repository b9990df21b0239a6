"""`fireline events failed|retry`: raw events whose records could not be derived, and a second try."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import ConfigOpt, DbOpt, JsonOpt, lazy, print_json, workspace

if TYPE_CHECKING:
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")

events_app = typer.Typer(
    help="Raw events that failed to normalise: list them, and retry them after a fix.\n\n"
    "An event that cannot be derived (a parser refuses it, or the store refuses its record) is kept raw, "
    "marked failed with its error, and skipped; the rest go on. `/healthz` says degraded while any exist.",
    no_args_is_help=True, rich_markup_mode="markdown")


@events_app.command("failed")
def failed(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List failed raw events, oldest first: source, delivery id, kind, when received, and the error."""
    with workspace(db, None) as ws:
        events = ws.failed_events()
    if as_json:
        print_json([e.as_dict() for e in events])
        return
    out = terminal.console()
    if not events:
        out.print("No failed events.")
        return
    table = Table("source", "delivery id", "kind", "received (UTC)", "error", title=f"{len(events)} failed events")
    for e in events:
        table.add_row(escape(e.source), escape(e.delivery_id), escape(e.kind),
                      e.received_at.strftime("%Y-%m-%d %H:%M:%S"), escape(e.error))
    out.print(table)
    out.print("[dim]Fix the cause (a parser upgrade, a store constraint), then `fireline events retry`.[/]")


@events_app.command("retry")
def retry(ids: Annotated[list[str] | None, typer.Argument(
              help="Delivery ids to retry (as `fireline events failed` lists them); none: every failed event.",
              show_default=False)] = None,
          db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Derive failed raw events again. Exit 0 when all of them now normalise, 1 when some still fail."""
    with workspace(db, config) as ws:
        outcome = ws.retry_failed(ids or None)
    if as_json:
        print_json(outcome.as_dict())
    else:
        terminal.console().print(f"{outcome.retried} retried: {outcome.normalised} normalised, "
                                 f"{outcome.still_failing} still failing"
                                 + (" (fireline events failed)." if outcome.still_failing else "."))
    if outcome.still_failing:
        raise typer.Exit(1)
