"""The queries of a summary: every grouping level in one query per family of figures (the
deployments, the durations), from the row-level DORA expressions, on whatever backend holds the
data (summary.py puts the figures together)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from ..model import NO_TEAM
from . import dora
from .arrow_times import query_rows
from .memtables import memtable
from .summary_pg import _picked_quantiles, _sorts_groups_for_quantiles, backend_name, is_postgres
from .summary_sources import Sources
from .summary_types import UNITS, MetricValue


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


KEYS = ("team", "service", "period")
# Up to this many services, each row's team is a CASE over them; past it, a join with a table of them
# (a CASE of thousands of branches is a query text some engines plan slowly).
CASE_TEAMS = 500


def _with_keys(t: ir.Table, keys: tuple[str, ...], team_of: dict[str, str], period: str | None) -> ir.Table:
    if "team" in keys and len(team_of) <= CASE_TEAMS:
        # A CASE over the services, not a join with a table of them: on Spark a join is a job.
        team = t.service.substitute(team_of, else_=ibis.null("string")) if team_of else ibis.null("string")
        t = t.mutate(team=team.fill_null(NO_TEAM))
    elif "team" in keys:
        mapping = memtable(
            {"service": list(team_of), "team": list(team_of.values())},
            schema={"service": "string", "team": "string"},
        )
        t = t.left_join(mapping, t.service == mapping.service).drop("service_right")
        t = t.mutate(team=t.team.fill_null(NO_TEAM))
    if "period" in keys:
        unit = "W" if period == "week" else "M"
        t = t.mutate(period=t.time.truncate(unit))
    return t


def _keyed_deployments(deps: ir.Table, keys: tuple[str, ...], team_of: dict[str, str],
                       period: str | None) -> ir.Table:
    """`deps` (one row per `id`) with `keys`, computed per deployment, not per link: PostgreSQL pulls a
    plain subquery up into the join and computes its columns per joined row (at 1M changes, 0.3-0.5 s of
    CASE and date_trunc). Grouped by `id` (which changes no row) it stays below the join, and, grouped
    by `id` alone, the planner knows `id` unique there and hashes the deployments, not the links."""
    k = _with_keys(deps, keys, team_of, period)
    return k.group_by("id").agg(**{c: k[c].max() for c in k.columns if c != "id"})


def _per_week(by_day: list[dict[str, Any]], sums: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows per group and day as rows per group and week: the sums of `sums`, and `days` with rows."""
    weeks: dict[tuple, dict[str, Any]] = {}
    for row in by_day:
        key = tuple((k, v) for k, v in row.items() if k not in sums and k != "day")
        acc = weeks.setdefault(key, {**dict(key), **{f: 0 for f in sums}, "days": 0})
        for f in sums:
            acc[f] += int(row[f] or 0)
        acc["days"] += 1
    return list(weeks.values())


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.ifelse(1, 0).cast("int64")


# The family of the deployment query (one row per counted deployment) and those of the durations query;
# `_DAYS` marks the deployment groups per day when both are one query (`_merged`).
_DEPLOYS = 0
_LEADS, _RESTORES, _DAYS = 0, 1, 2
# A durations family's flags from its rows: `use` (in the median), and the two counts `a` and `b` of rows
# left out (lead time: negative, inferred; time to restore: restored by a flag, open).
_Flags = Callable[[ir.Table], tuple[ir.BooleanValue, ir.IntegerValue, ir.IntegerValue]]


def _lead_flags(t: ir.Table) -> tuple[ir.BooleanValue, ir.IntegerValue, ir.IntegerValue]:
    return (((t.value >= 0) & ~t.inferred).fill_null(False), _flag(((t.value < 0) & ~t.inferred).fill_null(False)),
            _flag(t.inferred.fill_null(False)))


def _restore_flags(t: ir.Table) -> tuple[ir.BooleanValue, ir.IntegerValue, ir.IntegerValue]:
    return t.value.notnull(), _flag(t.restored_by.startswith("flag ").fill_null(False)), _flag(t.value.isnull())


def _pays_per_query(table: ir.Table) -> bool:
    """Whether `table`'s engine pays enough per query (Spark: jobs of its own; a warehouse: a round trip)
    that the deployment and duration figures are best one aggregation (`_Aggregator._merged`). DuckDB
    runs them apart a little faster (1M changes: 0.68-0.73 s against 0.70-0.77 s, 3-10% less peak memory)."""
    return backend_name(table) not in (None, "duckdb", "postgres")


class _Aggregator:
    """Every grouping level of a summary in two queries, one per family of figures.

    Deployments: the rows are crossed with a small table of level numbers and every key a level
    does not group by is set to NULL, so one GROUP BY yields all levels (what GROUPING SETS do, in
    operations every Ibis backend compiles); counts roll up, so they are grouped per level and week
    once, and the totals per group are the sums over its weeks (a UTC day lies in exactly one UTC
    week). Durations: medians cannot be rolled up, so each level needs its own groups: one
    aggregation over the rows crossed with the levels (`_levelled_quantiles`), or on PostgreSQL one
    aggregation per level in a union (`_quantiles`).
    """

    def __init__(self, tables: dict[str, ir.Table], scope: dora.Scope, team_of: dict[str, str],
                 period: str | None, levels: list[tuple[str, ...]], sources: Sources | None = None) -> None:
        self.t = tables
        self.scope = scope
        self.team_of = team_of
        self.period = period
        self.levels = levels
        self.keys = tuple(k for k in KEYS if any(k in level for level in levels))
        self.results: list[dict[tuple, dict[str, MetricValue]]] = [{} for _ in levels]
        self.sources = sources or Sources.of(tables)
        deploys, by_day = self._deployments()
        durations, by_level = self._durations()
        if deploys is not None and durations is not None and not by_level and _pays_per_query(deploys):
            # Both families in one aggregation: on Spark, one final exchange and result stage fewer.
            rows = query_rows(self._merged(deploys, durations))
            day_columns = ("level", *(f"k_{k}" for k in self.keys), "week", "day", "n", "a", "b", "c")
            self._deployment_figures([{c: r[c] for c in day_columns} for r in rows if r["fam"] == _DAYS])
            self._duration_figures([r for r in rows if r["fam"] != _DAYS])
            return
        if by_day is not None:
            self._deployment_figures(query_rows(by_day))
        if durations is not None:
            self._duration_figures(query_rows(durations if by_level else self._duration_groups(durations)))

    def level(self, index: int) -> dict[tuple, dict[str, MetricValue]]:
        return self.results[index]

    def _put(self, index: int, key: tuple, metric: str, value: MetricValue) -> None:
        self.results[index].setdefault(key, {})[metric] = value

    def _levelled(self, rows: ir.Table) -> tuple[ir.Table, list[str]]:
        t = _with_keys(rows, self.keys, self.team_of, self.period)
        # Each row once per level: an unnested array literal (a cross join with a table of the level
        # numbers was one more job on Spark, its broadcast).
        numbers = list(range(len(self.levels)))
        level = ibis.literal(numbers[0], "int64") if len(numbers) == 1 else \
            ibis.literal(numbers, "array<int64>").unnest()
        t = t.mutate(level=level)
        cols = {}
        for k in self.keys:
            using = [i for i, level in enumerate(self.levels) if k in level]
            cols[f"k_{k}"] = t.level.isin(using).ifelse(t[k], ibis.null(t[k].type()))
        return t.mutate(**cols), [f"k_{k}" for k in self.keys]

    def _grouped(self, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
        """(_DEPLOYS, level, key) -> the sums of `fields` over the deployment rows (weeks) of the group,
        and the rows by week (keyed as the durations' figures are, for `_of`)."""
        out: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            level = row["level"]
            key = tuple(row[f"k_{k}"] for k in self.levels[level])
            acc = out.setdefault((_DEPLOYS, level, key), {**{f: 0 for f in fields}, "weeks": {}})
            for f in fields:
                acc[f] += int(row[f] or 0)
            if "week" in row:
                acc["weeks"][row["week"].replace(tzinfo=UTC)] = row["days"]
        return out

    def _of(self, grouped: dict[tuple, dict[str, Any]], fam: int, index: int,
            empty: dict[str, Any]) -> list[tuple[tuple, dict[str, Any]]]:
        """The groups of one family and level; the overall level always has one (an aggregate over no
        rows is one row), as `empty`."""
        found = [(key, acc) for (f, level, key), acc in grouped.items() if f == fam and level == index]
        return found or ([((), empty)] if not self.levels[index] else [])

    def days_of(self, key: tuple, keys: tuple[str, ...]) -> tuple[float, list[datetime]]:
        if "period" in keys and self.period:
            start = key[keys.index("period")]
            lo, hi = _period_bounds(self.period, start.replace(tzinfo=UTC), self.scope)
        else:
            lo, hi = self.scope.since, self.scope.until
        return (hi - lo).total_seconds() / 86400, _week_starts(lo, hi)

    def _deployments(self) -> tuple[ir.Table | None, ir.Table | None]:
        """Deployment frequency, change failure rate (with the failures caught in canary) and rework rate:
        the levelled rows per deployment and their aggregation per group and day (None without deployments)."""
        s, overall = self.sources, 0
        if not s.deployments:
            for metric in ("deployment_frequency", "change_failure_rate", "rework_rate"):
                self._put(overall, (), metric, MetricValue(None, UNITS[metric], 0, "no deployments ingested"))
            return None, None
        t, scope = self.t, self.scope
        # One row per counted deployment with its failure and rework flags (one row set, few joins: on a
        # distributed engine each join is a job or two).
        f = dora.deployment_flags(t["deployments"], t["incident_deployments"], t["deployment_changes"],
                                  t["incidents"], scope, t.get("change_files"),
                                  sweep_incidents=is_postgres(t["deployments"]))
        rows = f.select(service=f.service, time=f.time, day=f.day,
                        a=_flag(f.failed), b=_flag(f.caught_in_canary), c=_flag(f.rework))
        u, keys = self._levelled(rows)
        u = u.mutate(week=u.time.truncate("W"))
        # Grouped by day, and the days counted here: COUNT(DISTINCT day) per week is a second shuffle
        # on Spark. At most one row per group and day of the window.
        return u, u.group_by(["level", *keys, "week", "day"]).agg(n=u.count(), a=u.a.sum(), b=u.b.sum(), c=u.c.sum())

    def _deployment_figures(self, by_day: list[dict[str, Any]]) -> None:
        s = self.sources
        grouped = self._grouped(_per_week(by_day, ("n", "a", "b", "c")), ("n", "days", "a", "b", "c"))
        empty = {"n": 0, "days": 0, "a": 0, "b": 0, "c": 0, "weeks": {}}
        for index, level in enumerate(self.levels):
            for key, acc in self._of(grouped, _DEPLOYS, index, empty):
                days, weeks = self.days_of(key, level)
                counts = [acc["weeks"].get(w, 0) for w in weeks]
                n = acc["n"]
                self._put(index, key, "deployment_frequency", MetricValue(
                    n / days if days > 0 else None, UNITS["deployment_frequency"], n, details={
                        "deploy_days": acc["days"],
                        "median_deploy_days_per_week": statistics.median(counts) if counts else None,
                        "weeks": len(weeks), "days": round(days, 6)}))
                if s.incidents:
                    mv = self._ratio(acc, "change_failure_rate", "failed", "a")
                    mv.details["caught_in_canary"] = acc["b"]
                    self._put(index, key, "change_failure_rate", mv)
                self._put(index, key, "rework_rate", self._ratio(acc, "rework_rate", "rework", "c"))
            if not s.incidents and not level:
                self._put(index, (), "change_failure_rate",
                          MetricValue(None, UNITS["change_failure_rate"], 0, "no incidents ingested"))

    @staticmethod
    def _ratio(acc: dict[str, Any], metric: str, flag: str, field: str) -> MetricValue:
        n, hits = acc["n"], acc[field]
        return MetricValue(hits / n if n else None, UNITS[metric], n, None if n else "no deployments in the window",
                           details={flag: hits})

    def _quantiles(self, families: dict[int, tuple[ir.Table, _Flags]]) -> list[ir.Table]:
        """Per family and level, the counts and the median and p90 of `value` over the rows in `use`.

        One aggregation per family and level, in one union, over the rows materialised once (a CTE).
        PostgreSQL cannot hash `percentile_cont`, so a grouped one sorts its whole input by group
        first (at 1M changes, an external sort of 979,000 rows: 1.5 s of the query's 3.2 s). A
        grouped level therefore hashes instead: each group's values collected (`array_agg`, which
        hashes), sorted within the group (a small sort each) and the two percentiles picked and
        interpolated as percentile_cont does (`_interpolated`). The overall level groups by
        nothing, so it needs no sort by group: percentile_cont itself.
        """
        parts = []
        for fam, (table, flags) in families.items():
            missing = tuple(k for k in self.keys if k not in table.columns)
            # The flags from the rows' own columns in each aggregation, not in the rows: PostgreSQL
            # materialises the rows (a CTE, one per level reads them) with what they select computed
            # once, where a flag's expression inlined into the rows computed `value`'s again per flag.
            rows = _with_keys(table, missing, self.team_of, self.period)
            # A select, not a drop: Ibis 12 makes a shared drop no CTE, so each level joined again.
            rows = rows.select(*[c for c in rows.columns if c not in ("service", "time") or c in self.keys])
            use, a, b = flags(rows)
            for index, level in enumerate(self.levels):
                if level:
                    agg = _picked_quantiles(rows.group_by(list(level)).agg(
                        n=_flag(use).sum(), a=a.sum(), b=b.sum(), values=rows.value.collect(where=use).sort()))
                else:
                    agg = rows.agg(n=_flag(use).sum(), a=a.sum(), b=b.sum(),
                                   median=rows.value.quantile(0.5, where=use), p90=rows.value.quantile(0.9, where=use))
                figures = ("n", "a", "b", "median", "p90")
                keys = {f"k_{k}": agg[k] if k in level else ibis.null(rows[k].type()) for k in self.keys}
                parts.append(agg.select(fam=ibis.literal(fam, "int64"), level=ibis.literal(index, "int64"), **keys,
                                        **{f: agg[f] for f in figures}))
        return parts

    def _levelled_quantiles(self, families: dict[int, tuple[ir.Table, _Flags]]) -> ir.Table:
        """What `_quantiles` gives, as one aggregation over the rows crossed with the levels: for the
        engines that collect each group's values in a hash table (DuckDB, Spark), where the wider input
        costs no sort and one aggregation beats several (DuckDB at 1M changes: 1.1-1.4 s against
        1.5-1.6 s; Spark: 16 jobs per `dora` on the demo against 22, each branch being jobs of its own)."""
        flagged = []
        for fam, (t, flags) in families.items():
            use, a, b = flags(t)
            flagged.append(t.select(service=t.service, time=t.time, value=t.value, use=use, a=a, b=b,
                                    fam=ibis.literal(fam, "int64")))
        return self._levelled(ibis.union(*flagged, distinct=False))[0]

    def _duration_groups(self, u: ir.Table) -> ir.Table:
        """The figures per family, level and group of `_levelled_quantiles`' rows."""
        return u.group_by(["fam", "level", *(f"k_{k}" for k in self.keys)]).agg(
            n=_flag(u.use).sum(), a=u.a.sum(), b=u.b.sum(),
            median=u.value.quantile(0.5, where=u.use), p90=u.value.quantile(0.9, where=u.use))

    def _merged(self, deploys: ir.Table, durations: ir.Table) -> ir.Table:
        """The deployments' groups per day (as `_deployments`) and the durations' groups (as
        `_duration_groups`) in one aggregation over both row sets: a deployment row counts 1 in `n` and
        has no value, a duration row has no week or day (every one of its groups has one of each)."""
        keys = [f"k_{k}" for k in self.keys]
        week, day, value = deploys.week.type(), deploys.day.type(), durations.value.type()

        def columns(t: ir.Table, **cols: ir.Value) -> ir.Table:
            # Every column nullable: a union's columns must be typed alike, and a table may type one not-null.
            return t.select(**{c: v.cast(v.type().copy(nullable=True)) for c, v in
                               {"level": t.level, **{k: t[k] for k in keys}, **cols}.items()})

        zero, int64 = ibis.literal(0, "int64"), "int64"
        u = ibis.union(
            columns(deploys, week=deploys.week, day=deploys.day, fam=ibis.literal(_DAYS, int64),
                    one=ibis.literal(1, int64), a=deploys.a, b=deploys.b, c=deploys.c,
                    value=ibis.null(value), use=ibis.literal(False)),
            columns(durations, week=ibis.null(week), day=ibis.null(day), fam=durations.fam,
                    one=_flag(durations.use), a=durations.a, b=durations.b, c=zero,
                    value=durations.value, use=durations.use),
            distinct=False)
        return u.group_by(["fam", "level", *keys, "week", "day"]).agg(
            n=u.one.sum(), a=u.a.sum(), b=u.b.sum(), c=u.c.sum(),
            median=u.value.quantile(0.5, where=u.use), p90=u.value.quantile(0.9, where=u.use))

    def _durations(self) -> tuple[ir.Table | None, bool]:
        """Lead time and time to restore: medians and p90s, and the rows left out of them. The levelled rows
        of both families (`_levelled_quantiles`), or on PostgreSQL their figures per level (`_quantiles`);
        and which of the two (None without a family)."""
        s, t, scope = self.sources, self.t, self.scope
        families: dict[int, tuple[ir.Table, _Flags]] = {}
        by_level = _sorts_groups_for_quantiles(next(iter(t.values())))
        if s.changes and s.deployments:
            carry = tuple(k for k in self.keys if k != "service") if by_level else ()
            keyed = (lambda d: _keyed_deployments(d, carry, self.team_of, self.period)) if carry else None
            # Without `changes`: the figures need only each link's commit time, which the link carries.
            leads = dora.lead_time_rows(t["deployments"], t["deployment_changes"], None, scope, keyed)
            families[_LEADS] = (leads.select(service=leads.service, time=leads.time, value=leads.lead_seconds,
                                             inferred=leads.inferred, **{k: leads[k] for k in carry}),
                                _lead_flags)
        else:
            reason = "no git history ingested" if not s.changes else "no deployments ingested"
            self._put(0, (), "lead_time", MetricValue(None, UNITS["lead_time"], 0, reason))
        if s.incidents:
            r = dora.restore_rows(t["incidents"], scope, t.get("feature_flags"))
            families[_RESTORES] = (r.select(service=r.service, time=r.time, value=r.restore_seconds,
                                            restored_by=r.restored_by), _restore_flags)
        else:
            self._put(0, (), "time_to_restore", MetricValue(None, UNITS["time_to_restore"], 0,
                                                            "no incidents ingested"))
        if not families:
            return None, by_level
        if by_level:
            return ibis.union(*self._quantiles(families), distinct=False), by_level
        return self._levelled_quantiles(families), by_level

    def _duration_figures(self, rows: list[dict[str, Any]]) -> None:
        s = self.sources
        figures = {(row["fam"], row["level"], tuple(row[f"k_{k}"] for k in self.levels[row["level"]])): row
                   for row in rows}
        empty = {"n": None, "a": None, "b": None, "median": None, "p90": None}
        for index in range(len(self.levels)):
            if s.changes and s.deployments:
                for key, row in self._of(figures, _LEADS, index, empty):
                    n = int(row["n"] or 0)
                    self._put(index, key, "lead_time", MetricValue(
                        _hours(row["median"]) if n else None, UNITS["lead_time"], n,
                        None if n else "no deployed changes in the window",
                        details={"p90": _hours(row["p90"]) if n else None, "negative_excluded": int(row["a"] or 0),
                                 "inferred_excluded": int(row["b"] or 0)}))
            if s.incidents:
                for key, row in self._of(figures, _RESTORES, index, empty):
                    n = int(row["n"] or 0)
                    self._put(index, key, "time_to_restore", MetricValue(
                        _hours(row["median"]) if n else None, UNITS["time_to_restore"], n,
                        None if n else "no resolved incidents in the window",
                        details={"p90": _hours(row["p90"]) if n else None, "open": int(row["b"] or 0),
                                 "restored_by_flag": int(row["a"] or 0)}))


