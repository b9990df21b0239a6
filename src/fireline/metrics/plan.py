"""Planning backwards from release day, from the team's own measured lead times.

Counted backwards from the release R (midnight at the start of release day, in `tz`):

1. verification: the release runs in production for `verify_days` before R, so every change
   must be deployed by P = R - verify_days;
2. last merge at confidence c: P - q(c), where q(c) is the empirical c-quantile (interpolated,
   like every figure here) of the lead times measured in the window. Half of past changes took
   q(0.5) or less from commit to production; 95 in 100 took q(0.95) or less;
3. freeze: from the last merge at 80% confidence to P only fixes for the release merge, so
   the pipeline has the time it usually needs. A fixed `freeze_days` starts it at
   P - freeze_days instead, and then no last-merge date falls inside it.

Lead time is DORA's, from the commit to its first production deployment, so it already holds
the wait for the next deployment (the cadence) and, for branch work, the review. A team whose
median lead time exceeds two weeks is flagged: if shipping takes more than two weeks, you are
waiting too long. Pure: tables in, a plain dict out; "now" is a parameter.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir

from . import dora
from .arrow_times import python_rows

CONFIDENCES = (0.5, 0.8, 0.95)
FREEZE_AT = "80"  # the freeze starts at the last merge at this confidence, unless its length is configured
SLOW_DAYS = 14


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 86400


def lead_time_quantiles(tables: Mapping[str, ir.Table], scope: dora.Scope,
                        confidences: tuple[float, ...] = CONFIDENCES) -> dict[str, Any]:
    leads = dora.lead_time_rows(tables["deployments"], tables["deployment_changes"], tables["changes"], scope)
    leads = leads.filter((leads.lead_seconds >= 0) & ~leads.inferred)
    aggs = {f"q{i}": leads.lead_seconds.quantile(c) for i, c in enumerate(confidences)}
    row = python_rows(leads.agg(n=leads.count(), median=leads.lead_seconds.median(), **aggs).to_pyarrow())[0]
    n = int(row["n"] or 0)
    return {"changes": n, "median_days": _days(row["median"]) if n else None,
            "quantiles_days": {f"{round(c * 100)}": _days(row[f"q{i}"]) if n else None
                               for i, c in enumerate(confidences)}}


def cadence(tables: Mapping[str, ir.Table], scope: dora.Scope) -> dict[str, Any]:
    """Deployments in the window and the median interval between one service's deployments."""
    rows = python_rows(dora.deployment_rows(tables["deployments"], scope).select("service", "time").order_by(
        ["service", "time"]).to_pyarrow())
    gaps: list[float] = []
    last: dict[str, datetime] = {}
    for r in rows:
        if r["service"] in last:
            gaps.append((r["time"] - last[r["service"]]).total_seconds() / 86400)
        last[r["service"]] = r["time"]
    weeks = max(scope.days / 7, 1e-9)
    return {"deployments": len(rows), "per_week": len(rows) / weeks,
            "median_interval_days": statistics.median(gaps) if gaps else None}


def _local_day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz))


def _last_full_day(instant: datetime) -> date:
    """The last date lying wholly before `instant` (a merge any time that day is in time)."""
    return (instant - timedelta(days=1)).date()


def plan_release(tables: Mapping[str, ir.Table], scope: dora.Scope, release: date, *, tz: str = "UTC",
                 verify_days: int = 2, freeze_days: int = 0, now: datetime | None = None,
                 confidences: tuple[float, ...] = CONFIDENCES) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    leads = lead_time_quantiles(tables, scope, confidences)
    pace = cadence(tables, scope)
    release_at = _local_day_start(release, tz)
    # Whole days of verification and freeze are calendar days (midnight to midnight on the local
    # clock); a lead time is elapsed time, counted back in UTC so a DST change cannot stretch it.
    deployed_by = datetime.combine(release - timedelta(days=verify_days), time(0), zone)
    q = leads["quantiles_days"]

    def back(days: float) -> datetime:
        return (deployed_by.astimezone(UTC) - timedelta(days=days)).astimezone(zone)

    if freeze_days:
        freeze_start: datetime | None = datetime.combine(deployed_by.date() - timedelta(days=freeze_days), time(0),
                                                         zone)
    else:
        freeze_start = back(q[FREEZE_AT]) if q.get(FREEZE_AT) is not None else None
    out: dict[str, Any] = {
        "release": release.isoformat(), "timezone": tz,
        "sample": {"since": scope.since.isoformat(), "until": scope.until.isoformat(), **leads},
        "cadence": pace, "verify_days": verify_days,
        "freeze_days": None if freeze_start is None else freeze_days or q[FREEZE_AT],
        "freeze_from": "config" if freeze_days else f"last merge at {FREEZE_AT}% confidence",
        "steps": [
            {"step": "release", "start": release_at, "end": None, "note": "release day"},
            {"step": "verification", "start": deployed_by, "end": release_at,
             "note": f"{verify_days} days in production before the release: every change deployed by the start"},
        ],
        "last_merge": {}, "flags": [], "unknown": None,
    }
    if freeze_start is not None:
        out["steps"].append({"step": "freeze", "start": freeze_start, "end": deployed_by,
                             "note": "only fixes for the release merge"})
    if not leads["changes"]:
        out["unknown"] = "no deployed changes in the window: no lead times to plan from"
        return out
    for label, days in q.items():
        by_lead = back(days)
        # Compared in UTC: Python compares two times of one zone by their wall clocks.
        capped = bool(freeze_days) and freeze_start is not None \
            and freeze_start.astimezone(UTC) < by_lead.astimezone(UTC)
        merge_by = freeze_start if capped and freeze_start is not None else by_lead
        local = merge_by.astimezone(zone)
        out["last_merge"][label] = {
            "confidence": int(label) / 100, "lead_time_days": days, "merge_by": local,
            "last_full_day": _last_full_day(local).isoformat(),
            "bound": "freeze" if capped else "lead time",
            "passed": bool(now is not None and merge_by <= now),
        }
    median = leads["median_days"]
    if median is not None and median > SLOW_DAYS:
        out["flags"].append(f"median lead time {median:.1f} days exceeds two weeks: "
                            "if shipping takes more than two weeks, you are waiting too long")
    if now is not None and all(v["passed"] for v in out["last_merge"].values()):
        out["flags"].append("every last-merge date has passed: move the release or cut its scope")
    return out
