"""The figures `fireline serve` exports on /metrics: DORA per team and service, action items and
on-call coverage per team. Computed once per store generation (server/precompute.py), never per scrape.

- Counters (`deployments`, `changes_deployed`) count everything the store holds, so a Prometheus
  `increase()` over any range is right; a rebuild that drops rows shows as a counter reset.
- The gauges cover the last 30 days before `now` (`WINDOW`), the window DORA's survey asks about.
- Durations are in seconds and rates are ratios (0..1), as Prometheus names them; the tiers are those
  of the configured profile.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..config import Config
from ..errors import UserError
from ..metrics.actions import open_actions
from ..metrics.scope import Scope
from ..metrics.span import data_span
from ..metrics.summary import METRICS, Summary, summarise
from ..metrics.tiers import get_profile
from ..model import NO_TEAM
from ..scope import rework_of, team_map
from ..store import Store
from ..window import as_of

WINDOW = timedelta(days=30)
ONCALL_AHEAD = timedelta(days=7)
HOUR = 3600.0


@dataclass(frozen=True)
class ServiceFigures:
    team: str
    service: str
    deployments: int  # every successful production deployment the store holds
    changes_deployed: int  # every commit with a measured lead time (first deployed, not a baseline)
    lead_time_median: float | None  # seconds, last 30 days
    lead_time_p90: float | None
    change_failure_rate: float | None  # ratio
    time_to_restore: float | None  # seconds, median
    rework_rate: float | None  # ratio
    tiers: dict[str, str] = field(default_factory=dict)  # metric -> tier, where the figure is known


@dataclass(frozen=True)
class TeamFigures:
    team: str
    actions_open: int
    actions_overdue: int
    oncall_gaps: int | None  # None: the team has no rotation
    oncall_gap_seconds: float | None


@dataclass(frozen=True)
class Exported:
    generation: int
    computed_at: datetime
    profile: str
    services: list[ServiceFigures]
    teams: list[TeamFigures]


def _scope(config: Config, since: datetime, until: datetime) -> Scope:
    return Scope(since=since, until=until, production=tuple(config.production_environments),
                 time_basis=config.time_basis, **rework_of(config))


def _by_service(summary: Summary) -> dict[str, dict]:
    return {str(g.keys["service"]): g.metrics for g in summary.groups if g.keys.get("service")}


def _seconds(hours: float | None) -> float | None:
    return None if hours is None else hours * HOUR


def _oncall(config: Config, now: datetime) -> dict[str, tuple[int, float]]:
    from ..metrics import oncall as m
    from ..oncall.report import expand
    from ..oncall.settings import load as load_setup

    try:
        setup = load_setup(config)
    except UserError:  # the rotations' own commands say what is wrong; /metrics shows none
        return {}
    if not setup.rotations:
        return {}
    end = now + ONCALL_AHEAD
    window = m.clip(expand(setup, now, end), now, end)
    found = {team: (0, 0.0) for team in setup.rotations}
    for gap in m.coverage_gaps(window, setup, now, end):
        n, seconds = found.get(gap["team"], (0, 0.0))
        found[gap["team"]] = (n + 1, seconds + (gap["end"] - gap["start"]).total_seconds())
    for gap in m.no_rotation(setup, sorted(window), now, end):
        n, seconds = found.get(gap["team"], (0, 0.0))
        found[gap["team"]] = (n + 1, seconds + (gap["end"] - gap["start"]).total_seconds())
    return found


def exported(store: Store, config: Config, now: datetime | None = None) -> Exported:
    """What /metrics shows, as of `now` (default: the config's `at`, else the clock), read at the store's
    current generation."""
    generation = store.generation()  # first: figures read after it are at least this new
    if now is None:
        now = as_of(config.at, config.timezone).now if config.at else datetime.now(UTC)
    profile = get_profile(config.profile)
    tables = store.tables()
    team_of = team_map(config, store)
    recent = _by_service(summarise(tables, _scope(config, now - WINDOW, now), profile, team_of=team_of,
                                   group_sets=(("service",),)))
    span = data_span(tables, _scope(config, now - WINDOW, now))
    since = min(span[0], now - WINDOW) if span else now - WINDOW
    ever = _by_service(summarise(tables, _scope(config, since, now + timedelta(microseconds=1)), profile,
                                 team_of=team_of, group_sets=(("service",),)))
    services = []
    for service in sorted(set(recent) | set(ever)):
        r, e = recent.get(service, {}), ever.get(service, {})
        if not r and not e:
            continue
        lead = r.get("lead_time")
        services.append(ServiceFigures(
            team=team_of.get(service) or NO_TEAM, service=service,
            deployments=e["deployment_frequency"].count if "deployment_frequency" in e else 0,
            changes_deployed=e["lead_time"].count if "lead_time" in e else 0,
            lead_time_median=_seconds(lead.value) if lead else None,
            lead_time_p90=_seconds(lead.details.get("p90")) if lead else None,
            change_failure_rate=r["change_failure_rate"].value if "change_failure_rate" in r else None,
            time_to_restore=_seconds(r["time_to_restore"].value) if "time_to_restore" in r else None,
            rework_rate=r["rework_rate"].value if "rework_rate" in r else None,
            tiers={m: r[m].tier for m in METRICS if m in r and r[m].tier and r[m].value is not None}))
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    items = open_actions(tables, today=today).items
    open_count = Counter(i["team"] for i in items)
    overdue = Counter(i["team"] for i in items if i["overdue"])
    oncall = _oncall(config, now)
    names = sorted(set(config.team_names) | set(open_count) | set(oncall))
    teams = [TeamFigures(t, open_count.get(t, 0), overdue.get(t, 0), *(oncall[t] if t in oncall else (None, None)))  # noqa: SIM401
             for t in names]
    return Exported(generation, now, profile.name, services, teams)
