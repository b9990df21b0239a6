"""Aggregate the row-level DORA expressions into figures per group, with tiers.

One summary is three queries whatever its grouping levels (which sources hold data, the
deployment figures, the durations), so a distributed engine runs a handful of jobs; each is
one Ibis expression executed on whatever backend holds the data.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import ibis.expr.types as ir

from . import dora
from .summary_levels import Sources, _Aggregator, _week_starts
from .summary_types import METRICS, UNITS, Group, MetricValue, Summary
from .tiers import Profile

__all__ = ["METRICS", "UNITS", "Group", "MetricValue", "Sources", "Summary", "period_starts",
           "summarise", "summarise_each"]


def _fill(metrics: dict[str, MetricValue], reason_for: dict[str, MetricValue],
          sources: Sources | None = None, days: float | None = None) -> dict[str, MetricValue]:
    """Every group reports every metric: one with no rows says why, like the overall figure.

    A group with no deployments in the window deploys 0 times a day (a measurement, since
    deployments are tracked); its other figures have nothing to stand on and stay unknown.
    """
    filled = {}
    for m in METRICS:
        if m in metrics:
            filled[m] = metrics[m]
            continue
        overall = reason_for.get(m)
        if overall and overall.unknown and "ingested" in overall.unknown:
            filled[m] = MetricValue(None, UNITS[m], 0, overall.unknown)
        elif m == "deployment_frequency" and sources and sources.deployments and days:
            filled[m] = MetricValue(0.0, UNITS[m], 0, details={"deploy_days": 0,
                                                              "median_deploy_days_per_week": 0})
        else:
            filled[m] = MetricValue(None, UNITS[m], 0, "no data for this group in the window")
    return filled


def period_starts(period: str, scope: dora.Scope) -> list[datetime]:
    """Every week (Monday, UTC) or month that the window touches, as naive UTC starts."""
    since = scope.since.astimezone(UTC).replace(tzinfo=None)
    until = scope.until.astimezone(UTC).replace(tzinfo=None)
    if period == "week":
        return _week_starts(since, until)
    start, out = since.replace(day=1, hour=0, minute=0, second=0, microsecond=0), []
    while start < until:
        out.append(start)
        start = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _naive(key: tuple) -> tuple:
    return tuple(k.astimezone(UTC).replace(tzinfo=None) if isinstance(k, datetime) and k.tzinfo else k for k in key)


def _expected_keys(keys: tuple[str, ...], team_of: dict[str, str], scope: dora.Scope,
                   period: str | None = None) -> set[tuple]:
    """Teams and services known from config, and every period of the window: listed even when the
    window holds nothing for them (a quiet week is a week with no deployments, not a missing row)."""
    if keys == ("period",) and period:
        return {(start,) for start in period_starts(period, scope)}
    services = [s for s in team_of if scope.services is None or s in scope.services]
    if keys == ("team",):
        return {(team_of[s],) for s in services}
    if keys == ("team", "service"):
        return {(team_of[s], s) for s in services}
    if keys == ("service",):
        return {(s,) for s in services}
    return set()


def summarise(tables: dict[str, ir.Table], scope: dora.Scope, profile: Profile, *,
              team_of: dict[str, str] | None = None, group_sets: tuple[tuple[str, ...], ...] = (("team",),),
              period: str | None = None, sources: Sources | None = None) -> Summary:
    return summarise_each(tables, scope, profile, team_of=team_of, each=(group_sets,), period=period,
                          sources=sources)[0]


def summarise_each(tables: dict[str, ir.Table], scope: dora.Scope, profile: Profile, *,
                   team_of: dict[str, str] | None = None, each: tuple[tuple[tuple[str, ...], ...], ...],
                   period: str | None = None, sources: Sources | None = None) -> list[Summary]:
    """One summary per entry of `each` (its group sets), all from the same queries: a page that shows
    the figures per team and the same figures week by week pays for one summary, not two. Each is
    what `summarise` returns for its group sets alone (`period` changes only the levels with "period");
    `sources`: what `Sources.survey` found in `tables`, when the caller already asked."""
    team_of = team_of or {}
    levels: list[tuple[str, ...]] = [()]
    for group_sets in each:
        levels += group_sets
    agg = _Aggregator(tables, scope, team_of, period, levels, sources)
    out, first = [], 1
    for group_sets in each:
        # Copies: the summaries share the overall level's figures, and a caller may change its own.
        overall_metrics = _fill(copy.deepcopy(agg.level(0).get((), {})), {})
        groups = []
        for index, keys in enumerate(group_sets, start=first):
            found = {_naive(key): metrics for key, metrics in agg.level(index).items()}
            for key in _expected_keys(keys, team_of, scope, period) - set(found):
                found[key] = {}
            for key, metrics in sorted(found.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
                named = {k: (v.replace(tzinfo=UTC).date().isoformat() if isinstance(v, datetime) else v)
                         for k, v in zip(keys, key, strict=True)}
                days = agg.days_of(key, keys)[0]
                groups.append(Group(named, _fill(metrics, overall_metrics, agg.sources, days)))
        first += len(group_sets)
        for group in [Group({}, overall_metrics), *groups]:
            for name, mv in group.metrics.items():
                mv.tier = profile.tier(name, mv.value)
        out.append(Summary(scope, profile.name, Group({}, overall_metrics), groups))
    return out

