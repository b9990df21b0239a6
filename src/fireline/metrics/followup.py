"""Did the action item move the metric? Before/after a done long-term item, with a bootstrap interval.

For each done long-term action item aimed at a DORA metric, the owning team's metric is measured
over N weeks before `done_on` and N weeks after it (cut at "today": the after-window never looks
into the future), from the same row-level expressions as `fireline dora` (metrics/dora.py).
The change (after − before) gets a percentile bootstrap confidence interval (each side resampled
independently, fixed seed, so the same data gives the same interval), and a verdict:

- improved / worse: the whole interval lies on the better / worse side of zero (lower is better
  for lead time, change failure rate and time to restore; higher for deployment frequency);
- no clear change: the interval contains zero;
- too little data: either side has fewer samples than MIN_SAMPLES (shown in every result);
- unknown: the owner's team or its services are unknown, or a data source is missing.

Samples: deployment frequency resamples weekly deployment counts (full weeks only); lead time
resamples deployments, each with the changes it shipped (changes shipped together are not
independent, so the deployment is the unit); change failure rate resamples deployments (failed
or not); time to restore resamples resolved incidents. Pure: no clock ("today" is a parameter).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
import numpy as np

from .. import registry
from ..window import as_utc
from . import dora
from .actions import action_rows
from .arrow_times import python_rows
from .presence import has_rows

LOWER_IS_BETTER = frozenset(m.name for m in registry.METRICS if m.better == "lower")
UNITS = {name: registry.BY_NAME[name].unit for name in registry.POSTMORTEM_TARGETS}
SAMPLE_UNITS = {"deployment_frequency": "weeks", "lead_time": "deployments", "change_failure_rate": "deployments",
                "time_to_restore": "incidents"}
# Fewer than this on either side and no verdict is given. Lead time also needs MIN_LEAD_CHANGES changes.
MIN_SAMPLES = {"deployment_frequency": 4, "lead_time": 4, "change_failure_rate": 10, "time_to_restore": 5}
MIN_LEAD_CHANGES = 10
VERDICTS = ("improved", "no clear change", "worse", "too little data", "unknown")


@dataclass(frozen=True)
class FollowupParams:
    weeks: int = 8
    resamples: int = 2000
    confidence: float = 0.95
    seed: int = 20260505
    production: tuple[str, ...] = ("production",)
    time_basis: str = "committer"
    tz: str = "UTC"  # done_on and today are days in this zone


@dataclass
class _Side:
    since: datetime
    until: datetime
    units: list[np.ndarray]  # one array per resampling unit (a week, a deployment, an incident)
    changes: int | None = None

    @property
    def n(self) -> int:
        return len(self.units)


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def _samples(tables: dict[str, ir.Table], metric: str, scope: dora.Scope) -> _Side:
    side = _Side(scope.since, scope.until, [])
    if metric == "deployment_frequency":
        rows = python_rows(dora.deployment_rows(tables["deployments"], scope).select("time").to_pyarrow())
        weeks = int((scope.until - scope.since).total_seconds() // (7 * 86400))
        counts = [0] * weeks
        for r in rows:
            week = int((as_utc(r["time"]) - scope.since).total_seconds() // (7 * 86400))
            if week < weeks:  # a trailing partial week is left out rather than counted as a slow week
                counts[week] += 1
        side.units = [np.array([c], dtype=float) for c in counts]
    elif metric == "lead_time":
        t = dora.lead_time_rows(tables["deployments"], tables["deployment_changes"], tables["changes"], scope)
        measured = t.filter((t.lead_seconds >= 0) & ~t.inferred)
        rows = python_rows(measured.select("deployment_id", "lead_seconds").to_pyarrow())
        by_dep: dict[str, list[float]] = {}
        for r in rows:
            by_dep.setdefault(r["deployment_id"], []).append(r["lead_seconds"] / 3600)
        side.units = [np.array(v) for _, v in sorted(by_dep.items())]
        side.changes = len(rows)
    elif metric == "change_failure_rate":
        t = dora.failure_rows(tables["deployments"], tables["incident_deployments"], scope)
        rows = python_rows(t.select("deployment_id", "failed").to_pyarrow())
        side.units = [np.array([1.0 if r["failed"] else 0.0]) for r in sorted(rows, key=lambda r: r["deployment_id"])]
    else:
        t = dora.restore_rows(tables["incidents"], scope)
        rows = python_rows(t.filter(t.restore_seconds.notnull()).select("incident_id", "restore_seconds").to_pyarrow())
        side.units = [np.array([r["restore_seconds"] / 3600]) for r in sorted(rows, key=lambda r: r["incident_id"])]
    return side


def _stat(metric: str, values: np.ndarray, axis: int | None = None) -> Any:
    if metric == "deployment_frequency":
        return np.mean(values, axis=axis) / 7  # weekly counts -> deployments per day
    if metric == "change_failure_rate":
        return np.mean(values, axis=axis)
    return np.median(values, axis=axis)  # lead time and time to restore: medians, as in `fireline dora`


def _resampled(metric: str, side: _Side, rng: np.random.Generator, resamples: int) -> np.ndarray:
    if metric != "lead_time":  # one value per unit: vectorised
        values = np.concatenate(side.units)
        idx = rng.integers(0, len(values), size=(resamples, len(values)))
        return _stat(metric, values[idx], axis=1)
    out = np.empty(resamples)
    k = len(side.units)
    for r in range(resamples):
        out[r] = np.median(np.concatenate([side.units[j] for j in rng.integers(0, k, size=k)]))
    return out


def _too_little(metric: str, before: _Side, after: _Side) -> str | None:
    need = MIN_SAMPLES[metric]
    unit = SAMPLE_UNITS[metric]
    for name, side in (("before", before), ("after", after)):
        if side.n < need:
            return f"{side.n} {unit} {name} done_on; the verdict needs at least {need} on each side"
        if metric == "lead_time" and (side.changes or 0) < MIN_LEAD_CHANGES:
            return (f"{side.changes or 0} deployed changes {name} done_on; the verdict needs at least "
                    f"{MIN_LEAD_CHANGES} on each side")
    return None


def _side_dict(metric: str, side: _Side) -> dict[str, Any]:
    value = float(_stat(metric, np.concatenate(side.units))) if side.n else None
    out = {"since": side.since, "until": side.until, "value": value, "n": side.n, "sample_unit": SAMPLE_UNITS[metric]}
    if metric == "lead_time":
        out["changes"] = side.changes
    if metric == "deployment_frequency":
        out["deployments"] = int(sum(float(u[0]) for u in side.units))
    return out


def assess(tables: dict[str, ir.Table], metric: str, services: list[str], done_on: date, today: date,
           params: FollowupParams, seed_key: str = "") -> dict[str, Any]:
    """Before/after figures, change, interval and verdict for one metric, one set of services and one day."""
    start = _midnight(done_on, params.tz)
    end = min(start + timedelta(weeks=params.weeks), _midnight(today, params.tz))
    def scope(since: datetime, until: datetime) -> dora.Scope:
        return dora.Scope(since=since, until=until, services=tuple(services), production=tuple(params.production),
                          time_basis=params.time_basis)

    before = _samples(tables, metric, scope(start - timedelta(weeks=params.weeks), start))
    after = _samples(tables, metric, scope(start, max(end, start))) if end > start else _Side(start, start, [])
    result: dict[str, Any] = {
        "unit": UNITS[metric], "better": "lower" if metric in LOWER_IS_BETTER else "higher",
        "before": _side_dict(metric, before), "after": _side_dict(metric, after),
        "change": None, "change_pct": None, "ci": None, "confidence": params.confidence,
        "resamples": params.resamples, "min_samples": MIN_SAMPLES[metric],
    }
    b, a = result["before"]["value"], result["after"]["value"]
    if b is not None and a is not None:
        result["change"] = a - b
        result["change_pct"] = (a - b) / b * 100 if b else None
    short = _too_little(metric, before, after)
    if short:
        return {**result, "verdict": "too little data", "reason": short}
    rng = np.random.default_rng([params.seed, zlib.crc32(seed_key.encode())])
    diffs = _resampled(metric, after, rng, params.resamples) - _resampled(metric, before, rng, params.resamples)
    tail = (1 - params.confidence) / 2 * 100
    lo, hi = (float(x) for x in np.percentile(diffs, [tail, 100 - tail]))
    result["ci"] = [lo, hi]
    sign = -1 if metric in LOWER_IS_BETTER else 1
    good_lo, good_hi = sorted((sign * lo, sign * hi))
    level = f"{params.confidence * 100:.0f}%"
    if good_lo > 0:
        verdict, why = "improved", f"the {level} interval of the change lies entirely on the better side of zero"
    elif good_hi < 0:
        verdict, why = "worse", f"the {level} interval of the change lies entirely on the worse side of zero"
    else:
        verdict, why = "no clear change", f"the {level} interval of the change includes zero"
    return {**result, "verdict": verdict, "reason": why}


def followup(tables: dict[str, ir.Table], *, today: date, services_of: dict[str, list[str]],
             params: FollowupParams = FollowupParams(), team: str | None = None) -> list[dict[str, Any]]:
    """One result per done long-term action item with a dora_metric, oldest done_on first.

    `services_of` maps each team to its services (from config); an item's team is its owner's team.
    """
    t = action_rows(tables)
    t = t.filter((t.status == "done") & (t.term == "long") & t.dora_metric.notnull() & t.done_on.notnull())
    if team is not None:
        t = t.filter(t.team == team)
    items = sorted(python_rows(t.to_pyarrow()), key=lambda r: (r["done_on"], r["postmortem_id"], r["position"]))
    present = {name: has_rows(tables[name]) for name in ("deployments", "changes", "incidents")}
    needs = {"deployment_frequency": ("deployments",), "lead_time": ("deployments", "changes"),
             "change_failure_rate": ("deployments", "incidents"), "time_to_restore": ("incidents",)}
    out = []
    for item in items:
        metric = item["dora_metric"]
        head = {k: item[k] for k in ("postmortem_id", "position", "owner", "team", "what", "dora_metric", "done_on",
                                     "due", "file", "line")}
        head["weeks"] = params.weeks
        services = services_of.get(item["team"] or "", [])
        missing = [name for name in needs.get(metric, ()) if not present[name]]
        reason = None
        if metric not in UNITS:
            reason = f"{metric!r} is not a DORA metric"
        elif not item["team"]:
            reason = f"owner {item['owner']!r} has no team in the config"
        elif not services:
            reason = f"team {item['team']!r} has no services in the config"
        elif missing:
            reason = f"no {' or '.join(missing)} ingested"
        if reason:
            out.append({**head, "services": services, "verdict": "unknown", "reason": reason})
            continue
        key = f"{item['postmortem_id']}#{item['position']}"
        out.append({**head, "services": services,
                    **assess(tables, metric, services, item["done_on"], today, params, seed_key=key)})
    return out
