"""The rows behind each figure: what `fireline explain` lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from .. import registry
from . import dora
from .arrow_times import query_rows


@dataclass(frozen=True)
class Explanation:
    metric: str
    columns: list[str]
    rows: list[dict[str, Any]]
    note: str


ALIASES = {m.slug: m.name for m in registry.METRICS}


def explain(tables: dict[str, ir.Table], metric: str, scope: dora.Scope) -> Explanation:
    t = tables
    if metric == "deployment_frequency":
        expr = dora.deployment_rows(t["deployments"], scope).order_by("time")
        return Explanation(metric, ["deployment_id", "service", "time", "sha", "ref", "aliases", "type"],
                           query_rows(expr),
                           "Counted: successful deployments to production in the window. Several matching tags "
                           "on one commit are one deployment; the others are its aliases.")
    if metric == "lead_time":
        e = dora.lead_time_rows(t["deployments"], t["deployment_changes"], t["changes"], scope)
        e = e.mutate(lead_hours=e.lead_seconds.cast("float64") / 3600.0).order_by([e.time, e.commit_time])
        return Explanation(metric, ["sha", "service", "subject", "commit_time", "deployment_id", "time", "via",
                                    "lead_hours"], query_rows(e),
                           "Each change's deployment is the earliest production deployment of its service "
                           "that contains it; negative lead times (clock skew) and inferred ones (a lightweight "
                           "tag's own commit: 0 by construction) are excluded from the median.")
    if metric == "change_failure_rate":
        f = dora.failure_rows(t["deployments"], t["incident_deployments"], scope)
        links = t["incident_deployments"]
        agg = links.group_by("deployment_id").agg(incident_ids=links.incident_id.group_concat(", "),
                                                  how=links.via.group_concat(", "))
        j = f.left_join(agg, f.deployment_id == agg.deployment_id)
        e = j.select(f.deployment_id, f.service, f.time, f.sha, f.stage, f.failed, f.caught_in_canary,
                     j.incident_ids, j.how).order_by("time")
        return Explanation(metric, ["deployment_id", "service", "time", "sha", "stage", "failed", "caught_in_canary",
                                    "incident_ids", "how"], query_rows(e),
                           "A deployment failed when at least one incident links to it (or to an earlier "
                           "canary/partial step of the same commit); caught_in_canary: it never went full.")
    if metric == "time_to_restore":
        e = dora.restore_rows(t["incidents"], scope, t.get("feature_flags"))
        e = e.mutate(restore_hours=e.restore_seconds.cast("float64") / 3600.0).order_by(e.time)
        return Explanation(metric, ["incident_id", "service", "title", "time", "resolved", "restored_by",
                                    "detected_by", "restore_hours"], query_rows(e),
                           "Incidents that started in the window; open ones have no restore time yet. A flag "
                           "flip that ends an incident is its restore time (restored_by).")
    if metric == "rework_rate":
        e = dora.rework_rows(t["deployments"], t["deployment_changes"], t["changes"], t["incidents"], scope,
                             t.get("change_files"))
        e = e.order_by(e.time)
        return Explanation(metric, ["deployment_id", "service", "time", "sha", "rework", "reason", "rework_sha",
                                    "rework_subject"], query_rows(e),
                           "Unplanned deployments: hotfix/rollback types, revert or hotfix commits (rework_sha, "
                           "the earliest; not when every file it touched is docs, CI or a dependency manifest: "
                           "the rework.ignore_paths setting), or made while an incident of the service was open.")
    raise KeyError(metric)
