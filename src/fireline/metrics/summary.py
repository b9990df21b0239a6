"""Aggregate the row-level DORA expressions into figures per group, with tiers.

Medians cannot be rolled up, so each grouping level gets its own aggregation;
every aggregation is one Ibis expression executed on whatever backend holds the data.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from .. import registry
from ..model import NO_TEAM
from . import dora
from .tiers import Profile

METRICS = registry.NAMES
UNITS = {m.name: m.unit for m in registry.METRICS}


@dataclass
class MetricValue:
    """One figure: its value in `unit`, its tier, the sample size, or why it is unknown."""

    value: float | None
    unit: str
    count: int
    unknown: str | None = None
    tier: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "tier": self.tier, "count": self.count,
                "unknown": self.unknown, **self.details}

    to_dict = as_dict


@dataclass
class Group:
    keys: dict[str, str]
    metrics: dict[str, MetricValue]

    def as_dict(self) -> dict[str, Any]:
        return {**self.keys, **{m: v.as_dict() for m, v in self.metrics.items()}}


@dataclass
class Summary:
    scope: dora.Scope
    profile: str
    overall: Group
    groups: list[Group]
    # When the window holds nothing but the store has data: where the data is (`first`, `last`) and a
    # window that shows it (`since`, `until`, dates in the configured zone), with a `message`.
    hint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "window": {"since": self.scope.since.isoformat(), "until": self.scope.until.isoformat(),
                       "days": round(self.scope.days, 6)},
            "profile": self.profile,
            "overall": {m: v.as_dict() for m, v in self.overall.metrics.items()},
            "groups": [g.as_dict() for g in self.groups],
        }
        if self.hint is not None:
            out["hint"] = self.hint
        return out

    to_dict = as_dict  # the library's name; `fireline dora --json` prints exactly this

    def rows(self) -> list[dict[str, Any]]:
        """One row per group and metric (the overall figures first, with empty keys): the long form
        a DataFrame or a warehouse table wants."""
        out = []
        for group in [self.overall, *self.groups]:
            for metric, v in group.metrics.items():
                out.append({"team": group.keys.get("team"), "service": group.keys.get("service"),
                            "period": group.keys.get("period"), "metric": metric, "value": v.value, "unit": v.unit,
                            "tier": v.tier, "count": v.count, "unknown": v.unknown})
        return out

    def to_arrow(self) -> Any:
        """`rows()` as an Arrow table (`.to_pandas()` on it for a DataFrame)."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows())


@dataclass(frozen=True)
class Sources:
    """Which data sources hold anything at all: an absent source makes a metric unknown."""

    deployments: bool
    changes: bool
    incidents: bool

    @classmethod
    def of(cls, tables: dict[str, ir.Table]) -> Sources:
        def has(name: str) -> bool:
            return bool(tables[name].count().execute())

        return cls(deployments=has("deployments"), changes=has("changes"), incidents=has("incidents"))


def _week_starts(since: datetime, until: datetime) -> list[datetime]:
    start = (since - timedelta(days=since.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    weeks = []
    while start < until:
        weeks.append(start)
        start += timedelta(days=7)
    return weeks


def _period_bounds(period: str, start: datetime, scope: dora.Scope) -> tuple[datetime, datetime]:
    # The first day of the next month: day 28 plus four days is always in the next month.
    end = start + timedelta(days=7) if period == "week" else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return max(start, scope.since), min(end, scope.until)


def _with_keys(t: ir.Table, keys: tuple[str, ...], team_of: dict[str, str], period: str | None) -> ir.Table:
    if "team" in keys:
        mapping = ibis.memtable(
            {"service": list(team_of), "team": list(team_of.values())},
            schema={"service": "string", "team": "string"},
        )
        t = t.left_join(mapping, t.service == mapping.service).drop("service_right")
        t = t.mutate(team=t.team.fill_null(NO_TEAM))
    if "period" in keys:
        unit = "W" if period == "week" else "M"
        t = t.mutate(period=t.time.truncate(unit))
    return t


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _key(row: dict[str, Any], keys: tuple[str, ...]) -> tuple:
    return tuple(row[k] for k in keys)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600


class _Aggregator:
    def __init__(self, tables: dict[str, ir.Table], scope: dora.Scope, team_of: dict[str, str],
                 period: str | None) -> None:
        self.t = tables
        self.scope = scope
        self.team_of = team_of
        self.period = period
        self.sources = Sources.of(tables)
        self.deps = dora.deployment_rows(tables["deployments"], scope)
        # The expensive row sets (a join of every shipped change with its commit, a scan of every
        # commit subject, the failure links with inherited rollout steps) are computed once and
        # reused by every grouping level and aggregate.
        self.leads = dora.lead_time_rows(tables["deployments"], tables["deployment_changes"],
                                         tables["changes"], scope).select("service", "time", "lead_seconds",
                                                                          "inferred").cache()
        self.failures = dora.failure_rows(tables["deployments"], tables["incident_deployments"], scope).select(
            "service", "time", "failed", "caught_in_canary").cache()
        self.restores = dora.restore_rows(tables["incidents"], scope, tables.get("feature_flags"))
        self.rework = dora.rework_rows(tables["deployments"], tables["deployment_changes"], tables["changes"],
                                       tables["incidents"], scope, tables.get("change_files")).select(
            "service", "time", "rework").cache()

    def level(self, keys: tuple[str, ...]) -> dict[tuple, dict[str, MetricValue]]:
        results: dict[tuple, dict[str, MetricValue]] = {}

        def put(key: tuple, metric: str, value: MetricValue) -> None:
            results.setdefault(key, {})[metric] = value

        for key, mv in self._frequency(keys).items():
            put(key, "deployment_frequency", mv)
        for key, mv in self._lead_time(keys).items():
            put(key, "lead_time", mv)
        for key, mv in self._failure_rate(keys).items():
            put(key, "change_failure_rate", mv)
        for key, mv in self._restore(keys).items():
            put(key, "time_to_restore", mv)
        for key, mv in self._rework(keys).items():
            put(key, "rework_rate", mv)
        return results

    def _agg(self, rows: ir.Table, keys: tuple[str, ...], **aggs: Any) -> list[dict[str, Any]]:
        t = _with_keys(rows, keys, self.team_of, self.period)
        expr = t.group_by(list(keys)).agg(**{n: f(t) for n, f in aggs.items()}) if keys else \
            t.agg(**{n: f(t) for n, f in aggs.items()})
        return _rows(expr)

    def days_of(self, key: tuple, keys: tuple[str, ...]) -> tuple[float, list[datetime]]:
        if "period" in keys and self.period:
            start = key[keys.index("period")]
            lo, hi = _period_bounds(self.period, start.replace(tzinfo=UTC), self.scope)
        else:
            lo, hi = self.scope.since, self.scope.until
        return (hi - lo).total_seconds() / 86400, _week_starts(lo, hi)

    def _frequency(self, keys: tuple[str, ...]) -> dict[tuple, MetricValue]:
        if not self.sources.deployments:
            return {(): MetricValue(None, UNITS["deployment_frequency"], 0, "no deployments ingested")} \
                if not keys else {}
        totals = self._agg(self.deps, keys, n=lambda t: t.count(), days=lambda t: t.day.nunique())
        weekly_keys = (*keys, "week")
        wk = _with_keys(self.deps, keys, self.team_of, self.period)
        wk = wk.mutate(week=wk.time.truncate("W"))
        weekly = _rows(wk.group_by(list(weekly_keys)).agg(days=wk.day.nunique()))
        per_week: dict[tuple, dict[datetime, int]] = {}
        for row in weekly:
            per_week.setdefault(_key(row, keys), {})[row["week"].replace(tzinfo=UTC)] = row["days"]
        out = {}
        if not keys and not totals:
            totals = [{"n": 0, "days": 0}]
        for row in totals:
            key = _key(row, keys)
            days, weeks = self.days_of(key, keys)
            counts = [per_week.get(key, {}).get(w, 0) for w in weeks]
            value = row["n"] / days if days > 0 else None
            out[key] = MetricValue(value, UNITS["deployment_frequency"], row["n"], details={
                "deploy_days": row["days"],
                "median_deploy_days_per_week": statistics.median(counts) if counts else None,
                "weeks": len(weeks), "days": round(days, 6)})
        return out

    def _lead_time(self, keys: tuple[str, ...]) -> dict[tuple, MetricValue]:
        unit = UNITS["lead_time"]
        if not self.sources.changes or not self.sources.deployments:
            reason = "no git history ingested" if not self.sources.changes else "no deployments ingested"
            return {(): MetricValue(None, unit, 0, reason)} if not keys else {}
        def measured(t: ir.Table) -> ir.BooleanValue:
            return (t.lead_seconds >= 0) & ~t.inferred

        rows = self._agg(
            self.leads, keys,
            n=lambda t: measured(t).ifelse(1, 0).sum(),
            negative=lambda t: ((t.lead_seconds < 0) & ~t.inferred).ifelse(1, 0).sum(),
            inferred=lambda t: t.inferred.ifelse(1, 0).sum(),
            median=lambda t: t.lead_seconds.median(where=measured(t)),
            p90=lambda t: t.lead_seconds.quantile(0.9, where=measured(t)),
        )
        out = {}
        for row in rows:
            n = int(row["n"] or 0)
            out[_key(row, keys)] = MetricValue(
                _hours(row["median"]) if n else None, unit, n,
                None if n else "no deployed changes in the window",
                details={"p90": _hours(row["p90"]) if n else None, "negative_excluded": int(row["negative"] or 0),
                         "inferred_excluded": int(row["inferred"] or 0)})
        if not keys and not rows:
            out[()] = MetricValue(None, unit, 0, "no deployed changes in the window",
                                  details={"p90": None, "negative_excluded": 0, "inferred_excluded": 0})
        return out

    def _ratio(self, rows_expr: ir.Table, flag: str, keys: tuple[str, ...], metric: str,
               missing: str | None, empty: str) -> dict[tuple, MetricValue]:
        unit = UNITS[metric]
        if missing:
            return {(): MetricValue(None, unit, 0, missing)} if not keys else {}
        rows = self._agg(rows_expr, keys, n=lambda t: t.count(), hits=lambda t: t[flag].ifelse(1, 0).sum())
        out = {}
        for row in rows:
            n, hits = int(row["n"]), int(row["hits"] or 0)
            out[_key(row, keys)] = MetricValue(hits / n if n else None, unit, n, None if n else empty,
                                               details={flag: hits})
        if not keys and not rows:
            out[()] = MetricValue(None, unit, 0, empty, details={flag: 0})
        return out

    def _failure_rate(self, keys: tuple[str, ...]) -> dict[tuple, MetricValue]:
        missing = None if self.sources.deployments else "no deployments ingested"
        missing = missing or (None if self.sources.incidents else "no incidents ingested")
        out = self._ratio(self.failures, "failed", keys, "change_failure_rate", missing,
                          "no deployments in the window")
        if missing or not out:
            return out
        # Failed rollouts stopped at canary or partial: visible beside the rate, counted in it.
        caught = {_key(r, keys): int(r["caught"] or 0) for r in self._agg(
            self.failures, keys, caught=lambda t: t.caught_in_canary.ifelse(1, 0).sum())}
        for key, mv in out.items():
            mv.details["caught_in_canary"] = caught.get(key, 0)
        return out

    def _rework(self, keys: tuple[str, ...]) -> dict[tuple, MetricValue]:
        missing = None if self.sources.deployments else "no deployments ingested"
        return self._ratio(self.rework, "rework", keys, "rework_rate", missing, "no deployments in the window")

    def _restore(self, keys: tuple[str, ...]) -> dict[tuple, MetricValue]:
        unit = UNITS["time_to_restore"]
        if not self.sources.incidents:
            return {(): MetricValue(None, unit, 0, "no incidents ingested")} if not keys else {}
        rows = self._agg(
            self.restores, keys,
            by_flag=lambda t: t.restored_by.startswith("flag ").fill_null(False).ifelse(1, 0).sum(),
            n=lambda t: t.restore_seconds.count(),
            open=lambda t: t.restore_seconds.isnull().ifelse(1, 0).sum(),
            median=lambda t: t.restore_seconds.median(),
            p90=lambda t: t.restore_seconds.quantile(0.9),
        )
        out = {}
        for row in rows:
            n = int(row["n"] or 0)
            out[_key(row, keys)] = MetricValue(
                _hours(row["median"]) if n else None, unit, n, None if n else "no resolved incidents in the window",
                details={"p90": _hours(row["p90"]) if n else None, "open": int(row["open"] or 0),
                         "restored_by_flag": int(row["by_flag"] or 0)})
        if not keys and not rows:
            out[()] = MetricValue(None, unit, 0, "no incidents in the window",
                                  details={"p90": None, "open": 0, "restored_by_flag": 0})
        return out


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
              period: str | None = None) -> Summary:
    team_of = team_of or {}
    agg = _Aggregator(tables, scope, team_of, period)
    overall_metrics = _fill(agg.level(()).get((), {}), {})
    groups = []
    for keys in group_sets:
        found = {_naive(key): metrics for key, metrics in agg.level(keys).items()}
        for key in _expected_keys(keys, team_of, scope, period) - set(found):
            found[key] = {}
        for key, metrics in sorted(found.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
            named = {k: (v.replace(tzinfo=UTC).date().isoformat() if isinstance(v, datetime) else v)
                     for k, v in zip(keys, key, strict=True)}
            days = agg.days_of(key, keys)[0]
            groups.append(Group(named, _fill(metrics, overall_metrics, agg.sources, days)))
    for group in [Group({}, overall_metrics), *groups]:
        for name, mv in group.metrics.items():
            mv.tier = profile.tier(name, mv.value)
    return Summary(scope, profile.name, Group({}, overall_metrics), groups)
