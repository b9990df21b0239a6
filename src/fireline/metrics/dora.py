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
ROLLOUT_STEPS = ("canary", "partial")  # stages before full; a NULL stage is a plain (full) deployment


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


def _successful_production(deployments: ir.Table, scope: Scope) -> ir.Table:
    envs = [e.lower() for e in scope.production]
    return deployments.filter(
        (deployments.status.lower() == "success") & deployments.environment.lower().isin(envs)
    )


def _is_step(t: ir.Table) -> ir.BooleanValue:
    return t.stage.lower().isin(list(ROLLOUT_STEPS)).fill_null(False)


def production_deployments(deployments: ir.Table, scope: Scope) -> ir.Table:
    """Successful production deployments in the window, every rollout stage included.

    A canary serves production traffic, so a change first reaches users at its canary: lead
    time runs to it. Counting rollouts is `counted_deployments`.
    """
    return _in_scope(_successful_production(deployments, scope), "time", scope)


def counted_deployments(deployments: ir.Table, scope: Scope) -> ir.Table:
    """One row per rollout: plain and full deployments, plus canary/partial deployments of a
    service and commit that never went full (a rollout stopped there, e.g. caught in canary).

    The canary and partial steps of a rollout that went full are not counted again: a
    deployment frequency of three for one change reaching production would flatter the team.
    """
    every = _successful_production(deployments, scope)
    full = every.filter(~_is_step(every)).select(f_service=every.service, f_sha=every.sha).distinct()
    t = production_deployments(deployments, scope)
    j = t.left_join(full, [t.service == full.f_service, t.sha == full.f_sha])
    return j.filter(~_is_step(j) | j.f_sha.isnull()).drop("f_service", "f_sha")


def deployment_rows(deployments: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment (rollout), with its UTC day and epoch seconds."""
    t = counted_deployments(deployments, scope)
    return t.select(
        deployment_id=t.id, service=t.service, time=t.time, sha=t.sha, type=t.type, ref=t.ref, stage=t.stage,
        aliases=t.aliases, day=t.time.truncate("D"), epoch=t.time.epoch_seconds().cast("int64"),
    )


def lead_time_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table,
                   scope: Scope) -> ir.Table:
    """One row per change shipped by a counted deployment in the window (baselines excluded).

    `lead_seconds` may be negative when clocks were skewed; summary.py excludes and counts those.
    `inferred`: the change is the commit of a deployment whose time is that commit's own (a
    lightweight tag), so its lead time is 0 by construction, not measured; excluded and counted too.
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
        inferred=deps.time_inferred.fill_null(False) & (links.sha == deps.sha),
    )


def _rollout_has(deps: ir.Table, deployments: ir.Table, scope: Scope, ids: ir.Column) -> ir.BooleanValue:
    """Is the counted deployment, or an earlier canary/partial step of the same service and commit
    (its rollout), among `ids`?"""
    every = _successful_production(deployments, scope)
    steps = every.filter(_is_step(every))
    marked = steps.filter(steps.id.isin(ids)).select(s_service=steps.service, s_sha=steps.sha, s_time=steps.time)
    inherited = deps.join(marked, [deps.service == marked.s_service, deps.sha == marked.s_sha,
                                   marked.s_time <= deps.time]).select(i_id=deps.deployment_id).distinct()
    return deps.deployment_id.isin(ids) | deps.deployment_id.isin(inherited.i_id)


def failure_rows(deployments: ir.Table, incident_deployments: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment with `failed` (linked to at least one incident, itself or an
    earlier canary/partial step of the same service and commit) and `caught_in_canary` (failed,
    and the rollout never went full: production told us before every user saw it)."""
    deps = deployment_rows(deployments, scope)
    failed_ids = incident_deployments.select("deployment_id").distinct()
    incident_count = incident_deployments.group_by("deployment_id").agg(incidents=ibis._.count())
    j = deps.left_join(incident_count, deps.deployment_id == incident_count.deployment_id)
    failed = _rollout_has(deps, deployments, scope, failed_ids.deployment_id)
    return j.select(
        deployment_id=deps.deployment_id, service=deps.service, time=deps.time, sha=deps.sha, stage=deps.stage,
        incidents=j.incidents.fill_null(0), failed=failed,
        caught_in_canary=failed & _is_step(deps),
    )


def restore_rows(incidents: ir.Table, scope: Scope, feature_flags: ir.Table | None = None) -> ir.Table:
    """One row per incident that started in the window; `restore_seconds` null while open.

    A feature flag flip that ends an incident is its restore time: the first flip at or after
    the start that names the incident (`incident_id`), or that turns off a flag of the
    incident's service before it was resolved; `restored_by` says which ("flag NAME" or
    "resolved").
    """
    t = _in_scope(incidents, "started", scope)
    if feature_flags is None:
        return t.select(
            incident_id=t.id, service=t.service, title=t.title, time=t.started, resolved=t.resolved,
            detected_by=t.detected_by, severity=t.severity,
            restore_seconds=(t.resolved.epoch_seconds().cast("int64") - t.started.epoch_seconds().cast("int64")),
            restored_by=t.resolved.isnull().ifelse(ibis.null("string"), ibis.literal("resolved")),
        )
    f = feature_flags
    named = t.join(f, [f.incident_id == t.id, f.time >= t.started]).select(
        f_incident=t.id, f_time=f.time, f_flag=f.flag)
    off = t.join(f, [f.service == t.service, f.state.lower() == "off", f.time >= t.started,
                     t.resolved.isnull() | (f.time <= t.resolved)]).select(f_incident=t.id, f_time=f.time,
                                                                           f_flag=f.flag)
    flips = named.union(off)
    first = flips.group_by("f_incident").agg(first_time=flips.f_time.min())
    cand = flips.join(first, [flips.f_incident == first.f_incident, flips.f_time == first.first_time]).select(
        g_incident=flips.f_incident, g_time=flips.f_time, g_flag=flips.f_flag)
    which = cand.group_by("g_incident").agg(g_time=cand.g_time.min(), g_flag=cand.g_flag.min())
    j = t.left_join(which, t.id == which.g_incident)
    by_flag = j.g_time.notnull() & (j.resolved.isnull() | (j.g_time < j.resolved))
    end = by_flag.ifelse(j.g_time, j.resolved)
    return j.select(
        incident_id=j.id, service=j.service, title=j.title, time=j.started, resolved=j.resolved,
        detected_by=j.detected_by, severity=j.severity,
        restore_seconds=(end.epoch_seconds().cast("int64") - j.started.epoch_seconds().cast("int64")),
        restored_by=ibis.cases((by_flag, "flag " + j.g_flag), (j.resolved.notnull(), "resolved"),
                               else_=ibis.null("string")),
    )


def rework_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table,
                incidents: ir.Table, scope: Scope) -> ir.Table:
    """One row per counted deployment with `rework` and the first reason that applies.

    Unplanned work: a deployment typed hotfix/rollback/revert, one that ships a revert or
    hotfix commit (itself or an earlier canary/partial step of its rollout, which is where the
    commit first reached production), or one made while an incident of its service was open
    (the fix).
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
    by_commit = _rollout_has(deps, deployments, scope, fix_ids.deployment_id)
    by_incident = deps.deployment_id.isin(during.deployment_id)
    reason = (
        ibis.cases((by_type, "deployment type " + deps.type.lower()), (by_commit, "revert or hotfix commit"),
                   (by_incident, "during an open incident"), else_=ibis.null("string"))
    )
    return deps.select(
        deployment_id=deps.deployment_id, service=deps.service, time=deps.time, sha=deps.sha,
        rework=by_type | by_commit | by_incident, reason=reason,
    )
