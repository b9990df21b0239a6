"""The debt ledger, the bug budget and planning back from release day, as every face asks for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..debt import settings as budget_settings
from ..errors import UserError
from ..lazy import lazy
from ..metrics.scope import Scope
from ..oncall import schedule as sched
from ..oncall import settings as oncall_settings
from ..results import BudgetReport, DebtLedger, ReleasePlan
from ..scope import scope_of, team_map
from ..steps import Steps
from ..store import Store
from . import kept

if TYPE_CHECKING:
    from ..debt import report as debt_report
    from ..metrics import oncall as oncall_metrics
    from ..metrics import plan as plan_metrics
else:  # their Ibis expressions load when a ledger or plan is computed, not to answer a kept ledger
    debt_report = lazy("fireline.debt.report")
    oncall_metrics = lazy("fireline.metrics.oncall")
    plan_metrics = lazy("fireline.metrics.plan")

__all__ = ["budget", "debt", "plan"]

LEDGER_MONTHS_BACK = timedelta(days=182)


def debt(store: Store, config: Config, now: datetime, *, since: datetime | None = None, team: str | None = None,
         service: str | None = None, steps: Steps | None = None, reuse: bool = False) -> DebtLedger:
    """The debt ledger as of `now`, with month-end totals from `since` (default six months before).

    `reuse`: `now` is fixed (--at, config `at`), so a ledger made earlier for the same request from the
    same data, working copies, config and code is the answer (kept in the store: app/kept.py); a ledger
    as of the clock is computed every time (its ages and its last month's end move with the clock)."""
    budget_settings.of(config)
    start = since or now - LEDGER_MONTHS_BACK
    if start >= now:
        raise UserError("must be before --at", field="since")
    options = {"now": now, "since": start, "team": team, "service": service}
    request = kept.request_key("debt", config, options) if reuse else None
    state = kept.state_of(store, config) if request is not None else None
    if request is not None and state is not None:
        # Only a request that passed the checks below was kept, so a kept one needs none of them.
        found = kept.load(store, request, state)
        if found is not None and "ledger" in found:
            return DebtLedger.from_dict(found["ledger"])
    scope_of(config, store, team, service, None, None)  # validates team and service
    team_of, scans = team_map(config, store), None
    if request is not None and state is not None:
        scans = kept.scan_first(store, config, team_of=team_of, team=team, service=service, steps=steps)
        state = kept.after_scans(store, config, state)
    ledger = debt_report.ledger(store, config, now=now, since=start, team_of=team_of,
                                teams=[team] if team else None, services=[service] if service else None,
                                cache=scans, steps=steps)
    if request is not None and state is not None:
        kept.keep(store, request, state, {"ledger": ledger})
    return DebtLedger.from_dict(ledger)


def budget(store: Store, config: Config, scope: Scope, *, team: str | None = None,
           weight: str | None = None) -> BudgetReport:
    """Share of each team's work spent on fixes, per month, against its [budget]."""
    budget_settings.of(config)
    if weight is not None and weight not in ("commits", "lines"):
        raise UserError(f"commits or lines, not {weight!r}", field="weight")
    return BudgetReport.from_dict(debt_report.budget(store.tables(), config, scope,
                                                     team_of=team_map(config, store),
                                                     teams=[team] if team else None, weight=weight).as_dict())


def plan(store: Store, config: Config, scope: Scope, release: date, now: datetime, *, team: str | None = None,
         service: str | None = None, verify_days: int | None = None, freeze_days: int | None = None
         ) -> ReleasePlan:
    """The last merge date at 50/80/95% confidence for `release`, with who is on call that day."""
    if team and service:
        raise UserError("pass --team or --service, not both", field="service")
    conf = budget_settings.of(config)
    try:
        result = plan_metrics.plan_release(
            store.tables(), scope, release, tz=config.timezone,
            verify_days=conf.plan_verify_days if verify_days is None else verify_days,
            freeze_days=conf.plan_freeze_days if freeze_days is None else freeze_days, now=now)
    except OverflowError:
        raise UserError(f"{release}: too early to count back from", field="release") from None
    result["team"], result["service"] = team, service
    result["on_call"] = on_call(config, team, release)
    return ReleasePlan.from_dict(result)


def on_call(config: Config, team: str | None, day: date) -> dict[str, Any]:
    """Who is on call on `day`, when a rotation for the team exists."""
    if not team:
        return {"unknown": "pass --team to see who is on call on release day"}
    if team not in config.rotations:
        return {"unknown": f"no rotation configured for team {team}"}
    setup = oncall_settings.load(config, read_calendars=True)
    zone = setup.rotations[team].zone
    start, end = sched.local_day_bounds(day, zone)
    shifts = oncall_metrics.schedules(setup, start, end, team)[team].final
    return {"zone": zone, "shifts": [{"person": s.person, "layer": s.layer, "start": s.start, "end": s.end}
                                     for s in sched.runs(shifts)],
            "gaps": [{"start": a, "end": b} for a, b in sched.gaps(shifts, start, end)]}
