"""The analyses beside DORA, as every face asks for them: action items, follow-up, alert noise,
fixes without tests. Each takes the store, the config and an explicit "now" or "today", and
returns what the matching `--json` prints."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import UserError
from ..identity import People
from ..ingest import ingest_git
from ..metrics import alerts as alert_metrics
from ..metrics import testing as testing_metrics
from ..metrics.actions import open_actions
from ..metrics.followup import MIN_LEAD_CHANGES, MIN_SAMPLES, SAMPLE_UNITS, FollowupParams
from ..metrics.followup import followup as followup_metric
from ..metrics.knowledge import knowledge_report
from ..metrics.scope import Scope
from ..postmortems import settings as postmortem_settings
from ..results import ActionItems, AlertsReport, Followup, KnowledgeReport, TestingReport
from ..safe_load import zone
from ..scope import team_map
from ..sources import git
from ..steps import Steps, quietly
from ..store import Store
from .settings import alert_params

__all__ = ["actions", "alerts_report", "check_zone", "followup", "knowledge", "testing"]


def actions(store: Store, config: Config, today: date, *, team: str | None = None, owner: str | None = None,
            overdue: bool = False) -> ActionItems:
    """Open postmortem action items by team and owner, overdue first, with days late (`fireline actions`)."""
    postmortem_settings.of(config)  # a typo in [postmortems] is refused by every postmortem command
    if team is not None and config.team_names and team not in config.team_names:
        raise UserError(f"unknown team {team!r} (teams: {', '.join(config.team_names)})", field="team")
    report = open_actions(store.tables(), today=today, team=team, owner=owner, overdue_only=overdue)
    return ActionItems.from_dict(report.as_dict())


def followup(store: Store, config: Config, today: date, *, team: str | None = None,
             weeks: int | None = None) -> Followup:
    """Whether done long-term action items moved their DORA metric (`fireline followup`)."""
    if team is not None:
        config.services_of_team(team)  # refuses an unknown team
    params = FollowupParams(weeks=weeks or postmortem_settings.of(config).followup_weeks,
                            production=tuple(config.production_environments), time_basis=config.time_basis,
                            tz=config.timezone)
    services_of = {name: config.services_of_team(name) for name in config.team_names}
    items = followup_metric(store.tables(), today=today, services_of=services_of, params=params, team=team)
    return Followup(today=today, weeks=params.weeks, confidence=params.confidence, resamples=params.resamples,
                    seed=params.seed, items=items,
                    min_samples={m: {"n": n, "unit": SAMPLE_UNITS[m]} for m, n in MIN_SAMPLES.items()}
                    | {"lead_time_changes": MIN_LEAD_CHANGES})


def check_zone(tz: str) -> None:
    try:
        zone(tz)
    except ValueError as exc:
        raise UserError(str(exc), field="tz") from None


def alerts_report(store: Store, config: Config, scope: Scope, now: datetime, *, tz: str | None = None
                  ) -> AlertsReport:
    """Alert noise and the detection gap (`fireline alerts report`); `tz` for business and sleep hours."""
    if tz is not None:
        check_zone(tz)
    params = dataclasses.replace(alert_params(config), now=now)
    return AlertsReport.from_dict(alert_metrics.report(store.tables(), scope, team_of=team_map(config, store),
                                                       tz=tz or config.timezone, params=params))


def knowledge(store: Store | None, config: Config, path: Path, *, now: datetime | None = None, by: str = "dir",
              active_months: int = 6, top: int = 10, steps: Steps | None = None) -> KnowledgeReport:
    """Truck factor, who knows what, orphaned code, hotspots and stale docs of one repository
    (`fireline knowledge`). `now` defaults to the newest commit. A repository the store lacks (or no store:
    None) is read into a scratch store that is thrown away: an analysis never writes to the user's store.
    `steps` hears "knowledge of <name>": reading its history (a scratch ingest), then the analysis."""
    info = git.open_repo(path)
    steps = steps or quietly
    label = f"knowledge of {info.name}"
    steps(label, 0, 2)
    if store is not None and store.has_repo(info.name):
        steps(label, 1, 2)
        return _knowledge_of(store, config, info, label, steps, now=now, by=by, active_months=active_months,
                             top=top)
    with tempfile.TemporaryDirectory(prefix="fireline-knowledge-") as scratch, \
            Store.open(str(Path(scratch) / "scratch.duckdb")) as own:
        # The one git pass; everything else reads the store.
        ingest_git(own, config, info.path, progress=lambda done, total: steps(f"reading {info.name}", done, total))
        steps(label, 1, 2)
        return _knowledge_of(own, config, info, label, steps, now=now, by=by, active_months=active_months,
                             top=top)


def _knowledge_of(store: Store, config: Config, info: git.RepoInfo, label: str, steps: Steps,
                  **options: Any) -> KnowledgeReport:
    found = KnowledgeReport.from_dict(knowledge_report(store.tables(), info.name, people=People.from_config(config),
                                                       head=git.head(info.path), **options))
    steps(label, 2, 2)
    return found


def testing(store: Store, config: Config, scope: Scope, *, team: str | None = None, service: str | None = None,
            limit: int = 20) -> TestingReport:
    """Bug-fix commits with and without a regression test (`fireline testing`)."""
    if limit < 0:
        raise UserError("must be 0 or more", field="limit")
    result = testing_metrics.report(
        store.tables(), scope, testing_metrics.params_of(config.testing), team_of=team_map(config, store),
        teams=[team] if team else None, tz=config.timezone, limit=limit, people=People.from_config(config))
    return TestingReport.from_dict(result.as_dict())
