"""`fireline debt`, `fireline budget`, `fireline plan` and `fireline ingest flags`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UserError
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
    lazy,
    print_json,
    workspace,
)
from .progress import reporter

if TYPE_CHECKING:
    from ..views import debt as debt_view
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    debt_view = lazy("fireline.views.debt")
    terminal = lazy("fireline.views.terminal")

NowOpt = Annotated[str | None, hidden_alias("--now")]
PlanNowOpt = NowOpt


# ---- debt -----------------------------------------------------------------------------------------

def debt(team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, at: AtOpt = None,
         now: NowOpt = None,
         limit: Annotated[int, typer.Option("--limit", min=0, help="Items to list per kind (JSON has all).")] = 15,
         db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
         quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or progress lines.")] = False,
         ) -> None:
    """The debt ledger: technical (TODO/FIXME/HACK/XXX with age and author from one batched blame
    pass, hotspots), process (overdue or dropped action items, repeat incidents whose earlier actions
    were not done) and knowledge (orphaned code, truck factor 1), per team and service, with the
    totals month by month from --since (default: six months before --at). Run again as of a fixed --at
    (or the config's `at`) over unchanged data and working copies, it answers with the ledger it kept in
    the store."""
    with workspace(db, config, at, now=now) as ws, reporter(quiet) as steps:
        ledger = ws.debt(team=team, service=service, since=since, steps=steps).to_dict()
        tz = ws.config.timezone
    if as_json:
        print_json(ledger)
        return
    debt_view.render_debt(ledger, tz, limit)


def budget(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None,
           weight: Annotated[str | None, typer.Option("--weight", help="commits (each commit counts once) or "
                                                      "lines (changed lines); default from [budget].")] = None,
           at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Share of each team's work spent on fixes, per month, against its budget ([budget] in config):
    over, under or within (budget +- tolerance)."""
    with workspace(db, config, at) as ws:
        data = ws.budget(team=team, since=since, until=until, weight=weight).to_dict()
    if as_json:
        print_json(data)
        return
    debt_view.render_budget(data)


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
                         freeze_days=freeze_days).to_dict()
        tz = ws.config.timezone
    if as_json:
        print_json(result)
        return
    debt_view.render_plan(result, tz)


def ingest_flags(
    file: Annotated[Path, typer.Argument(help="CSV, NDJSON or JSON array of flag changes: flag, service, time, "
                                         "state (on|off), optional id and incident_id.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add feature flag changes. Turning a flag off during an incident (or a flip naming the incident)
    is the incident's restore time. Ingesting a file twice adds nothing."""

    with workspace(db, config) as ws:
        result = ws.ingest_flags(file, service=service)
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
