"""The DORA measures as Ibis expressions: tables in, expressions out.

Pure: no I/O, no clock (the window is a parameter), no backend-specific SQL, so the
same code runs on DuckDB, PostgreSQL, Spark or a warehouse. Every expression here is
row-level (one row per deployment, change or incident) so that `fireline explain`
can list exactly what stands behind a figure; `summary.py` aggregates them.
Definitions: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

REWORK_TYPES = ("hotfix", "rollback", "revert", "fix", "patch")


@dataclass(frozen=True)
class Scope:
    """What to measure: a half-open window [since, until) in UTC and optional services."""

    since: datetime
    until: datetime
    services: tuple[str, ...] | None = None
    production: tuple[str, ...] = ("production",)
    time_basis: str = "committer"

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400


def _in_scope(t: ir.Table, time_col: str, scope: Scope, service_col: str = "service") -> ir.Table:
    cond = (t[time_col] >= ibis.literal(scope.since)) & (t[time_col] < ibis.literal(scope.until))
    if scope.services is not None:
        cond &= t[service_col].isin(list(scope.services))
    return t.filter(cond)


def production_deployments(deployments: ir.Table, scope: Scope) -> ir.Table:
    """Successful production deployments in the window."""
    envs = [e.lower() for e in scope.production]
    t = deployments.filter(
        (deployments.status.lower() == "success") & deployments.environment.lower().isin(envs)
    )
    return _in_scope(t, "time", scope)


def deployment_rows(deployments: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment, with its UTC day and epoch seconds."""
    t = production_deployments(deployments, scope)
    return t.select(
        deployment_id=t.id, service=t.service, time=t.time, sha=t.sha, type=t.type, ref=t.ref,
        day=t.time.truncate("D"), epoch=t.time.epoch_seconds().cast("int64"),
    )


def lead_time_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table,
                   scope: Scope) -> ir.Table:
    """One row per change shipped by a counted deployment in the window (baselines excluded).

    `lead_seconds` may be negative when clocks were skewed; summary.py excludes and counts those.
    """
    deps = production_deployments(deployments, scope)
    links = deployment_changes.filter(~deployment_changes.baseline)
    commit_time = changes.author_time if scope.time_basis == "author" else changes.committer_time
    ch = changes.select(repo=changes.repo, sha=changes.sha, commit_time=commit_time, subject=changes.subject,
                        author=changes.author_name)
    j = links.join(deps, links.deployment_id == deps.id).join(
        ch, [links.repo == ch.repo, links.sha == ch.sha])
    return j.select(
        deployment_id=links.deployment_id, service=deps.service, repo=links.repo, sha=links.sha,
        subject=ch.subject, author=ch.author, commit_time=ch.commit_time, time=deps.time, via=links.via,
        lead_seconds=(deps.time.epoch_seconds().cast("int64") - ch.commit_time.epoch_seconds().cast("int64")),
    )


def failure_rows(deployments: ir.Table, incident_deployments: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment with `failed` (linked to at least one incident)."""
    deps = deployment_rows(deployments, scope)
    failed_ids = incident_deployments.select("deployment_id").distinct()
    incident_count = incident_deployments.group_by("deployment_id").agg(incidents=ibis._.count())
    j = deps.left_join(incident_count, deps.deployment_id == incident_count.deployment_id)
    return j.select(
        deployment_id=deps.deployment_id, service=deps.service, time=deps.time, sha=deps.sha,
        incidents=j.incidents.fill_null(0), failed=deps.deployment_id.isin(failed_ids.deployment_id),
    )


def restore_rows(incidents: ir.Table, scope: Scope) -> ir.Table:
    """One row per incident that started in the window; `restore_seconds` null while open."""
    t = _in_scope(incidents, "started", scope)
    return t.select(
        incident_id=t.id, service=t.service, title=t.title, time=t.started, resolved=t.resolved,
        detected_by=t.detected_by, severity=t.severity,
        restore_seconds=(t.resolved.epoch_seconds().cast("int64") - t.started.epoch_seconds().cast("int64")),
    )


def rework_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table,
                incidents: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment with `rework` and the first reason that applies.

    Unplanned work: a deployment typed hotfix/rollback/revert, one that ships a revert or
    hotfix commit, or one made while an incident of its service was open (the fix).
    """
    deps = deployment_rows(deployments, scope)
    subjects = changes.select(repo=changes.repo, sha=changes.sha, subject=changes.subject.lower())
    links = deployment_changes.filter(~deployment_changes.baseline)
    # Plain string tests, not regular expressions: word boundaries differ between engines.
    is_fix = (subjects.subject.startswith("revert") | subjects.subject.contains("hotfix")
              | subjects.subject.startswith("hot fix"))
    fix_links = links.join(subjects, [links.repo == subjects.repo, links.sha == subjects.sha]).filter(is_fix)
    fix_ids = fix_links.select(deployment_id=links.deployment_id).distinct()
    during = deps.join(
        incidents,
        [deps.service == incidents.service, deps.time >= incidents.started,
         incidents.resolved.isnull() | (deps.time <= incidents.resolved)],
    ).select(deployment_id=deps.deployment_id).distinct()
    by_type = deps.type.lower().isin(list(REWORK_TYPES)).fill_null(False)
    by_commit = deps.deployment_id.isin(fix_ids.deployment_id)
    by_incident = deps.deployment_id.isin(during.deployment_id)
    reason = (
        ibis.cases((by_type, "deployment type " + deps.type.lower()), (by_commit, "revert or hotfix commit"),
                   (by_incident, "during an open incident"), else_=ibis.null("string"))
    )
    return deps.select(
        deployment_id=deps.deployment_id, service=deps.service, time=deps.time, sha=deps.sha,
        rework=by_type | by_commit | by_incident, reason=reason,
    )
