"""The DORA measures as Ibis expressions: tables in, expressions out.

Pure: no I/O, no clock (the window is a parameter), no backend-specific SQL, so the
same code runs on DuckDB, PostgreSQL, Spark or a warehouse. Every expression here is
row-level (one row per deployment, change or incident) so that `fireline explain`
can list exactly what stands behind a figure; `summary.py` aggregates them.
Definitions: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from .paths import path_matches_expr
from .scope import Scope

REWORK_TYPES = ("hotfix", "rollback", "revert", "fix", "patch")
ROLLOUT_STEPS = ("canary", "partial")  # stages before full; a NULL stage is a plain (full) deployment


def _in_scope(t: ir.Table, time_col: str, scope: Scope, service_col: str = "service") -> ir.Table:
    cond = (t[time_col] >= ibis.literal(scope.since)) & (t[time_col] < ibis.literal(scope.until))
    if scope.services is not None:
        cond &= t[service_col].isin(list(scope.services))
    return t.filter(cond)


def _successful_production(deployments: ir.Table, scope: Scope) -> ir.Table:
    # The store keeps status and environment lower-cased (store.schema.NORMALISED): comparing plain
    # columns lets a planner use their statistics (lower(column) made PostgreSQL guess one row).
    envs = [e.lower() for e in scope.production]
    return deployments.filter((deployments.status == "success") & deployments.environment.isin(envs))


def _is_step(t: ir.Table) -> ir.BooleanValue:
    return t.stage.isin(list(ROLLOUT_STEPS)).fill_null(False)


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


def lead_time_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table | None,
                   scope: Scope, keyed: Callable[[ir.Table], ir.Table] | None = None) -> ir.Table:
    """One row per change shipped by a counted deployment in the window (baselines excluded).

    `lead_seconds` may be negative when clocks were skewed; summary.py excludes and counts those.
    `inferred`: the change is the commit of a deployment whose time is that commit's own (a
    lightweight tag), so its lead time is 0 by construction, not measured; excluded and counted too.
    Each link carries its commit's times (the store copies them when it links), so the figures need
    no join with `changes`; `changes` adds each commit's subject and author (None: without them,
    which is all `summarise` needs and spares it the join of every link with every commit).
    `keyed`: adds columns to the deployments (a summary's keys, computed once per deployment rather
    than per link), which each row carries too.
    """
    deps = production_deployments(deployments, scope)
    carry: list[str] = []
    deploy_epoch = deps.time.epoch_seconds().cast("int64")
    if keyed is not None:
        # The deployment's epoch with the keys, once per deployment (PostgreSQL's EXTRACT is numeric).
        columns = ["id", "service", "time", "sha", "time_inferred", "time_epoch"]
        deps = keyed(deps.select(*columns[:-1], time_epoch=deploy_epoch))
        carry = [c for c in deps.columns if c not in columns]
        deploy_epoch = deps.time_epoch
    links = deployment_changes.filter(~deployment_changes.baseline)
    commit_time = links.author_time if scope.time_basis == "author" else links.committer_time
    j = links.join(deps, links.deployment_id == deps.id)
    if changes is None:
        subject, author = ibis.null("string"), ibis.null("string")
    else:
        ch = changes.select(c_repo=changes.repo, c_sha=changes.sha, subject=changes.subject,
                            author=changes.author_name)
        j = j.join(ch, [links.repo == ch.c_repo, links.sha == ch.c_sha])
        subject, author = ch.subject, ch.author
    return j.select(
        deployment_id=links.deployment_id, service=deps.service, repo=links.repo, sha=links.sha,
        subject=subject, author=author, commit_time=commit_time, time=deps.time, via=links.via,
        lead_seconds=(deploy_epoch - commit_time.epoch_seconds().cast("int64")),
        inferred=deps.time_inferred.fill_null(False) & (links.sha == deps.sha),
        **{c: deps[c] for c in carry},
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
    off = t.join(f, [f.service == t.service, f.state == "off", f.time >= t.started,
                     t.resolved.isnull() | (f.time <= t.resolved)]).select(f_incident=t.id, f_time=f.time,
                                                                           f_flag=f.flag)
    flips = named.union(off)
    # The first flips of each incident by a window, not a join with their first times: the grouping
    # after it keeps the window's partitions, so a distributed engine shuffles the flips once.
    flips = flips.mutate(first_time=flips.f_time.min().over(ibis.window(group_by=flips.f_incident)))
    cand = flips.filter(flips.f_time == flips.first_time)
    which = cand.group_by(g_incident=cand.f_incident).agg(g_time=cand.f_time.min(), g_flag=cand.f_flag.min())
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


def _rework_commits(changes: ir.Table, change_files: ir.Table | None, ignore: tuple[str, ...]) -> ir.Table:
    """Revert and hotfix commits with the rule that matched, less those whose known files all match
    `ignore` (a revert of a docs, CI or dependency-manifest change is no unplanned fix of the service).

    The store sets each commit's `rework_rule` when it writes it (`store.schema.REWORK_RULES`: subject
    starts with "revert" or "hot fix", or contains "hotfix"), so this reads the few flagged commits
    instead of testing every subject."""
    flagged = changes.filter(changes.rework_rule.notnull())
    fixes = flagged.select(c_repo=flagged.repo, c_sha=flagged.sha, c_subject=flagged.subject,
                           c_rule=flagged.rework_rule, c_time=flagged.committer_time)
    if change_files is None or not ignore:
        return fixes
    # The files of the flagged commits, counted once per commit: how many, and how many `ignore` spares.
    cf = change_files.join(fixes, [change_files.repo == fixes.c_repo, change_files.sha == fixes.c_sha])
    files = cf.group_by(f_repo=change_files.repo, f_sha=change_files.sha).agg(
        f_kept=(~path_matches_expr(change_files.path, ignore)).ifelse(1, 0).cast("int64").sum())
    j = fixes.left_join(files, [fixes.c_repo == files.f_repo, fixes.c_sha == files.f_sha])
    # A commit without a file list (webhook-only) stays rework: what it touched is unknown.
    return j.filter(j.f_sha.isnull() | (j.f_kept > 0)).select(*fixes.columns)


def rework_rows(deployments: ir.Table, deployment_changes: ir.Table, changes: ir.Table,
                incidents: ir.Table, scope: Scope, change_files: ir.Table | None = None) -> ir.Table:
    """One row per counted deployment with `rework`, the first rule that applies (`reason`) and the
    commit that made it rework (`rework_sha`, `rework_subject`).

    Unplanned work: a deployment typed hotfix/rollback/revert, one that ships a revert or
    hotfix commit (itself or an earlier canary/partial step of its rollout, which is where the
    commit first reached production), or one made while an incident of its service was open
    (the fix). A revert or hotfix whose files all match `scope.rework_ignore` (docs, CI,
    dependency manifests) does not count; `change_files` tells the files (None: not known).
    """
    deps = deployment_rows(deployments, scope)
    # Each link carries its commit's rework rule (the store copies it), so only the few flagged links
    # meet the flagged commits: no join of every link with every commit.
    links = deployment_changes.filter(~deployment_changes.baseline & deployment_changes.rework_rule.notnull())
    fixes = _rework_commits(changes, change_files, scope.rework_ignore)
    by_dep = links.join(fixes, [links.repo == fixes.c_repo, links.sha == fixes.c_sha]).select(
        b_id=links.deployment_id, b_sha=fixes.c_sha, b_subject=fixes.c_subject, b_rule=fixes.c_rule,
        b_time=fixes.c_time)
    # The rollout: the counted deployment itself and its earlier canary/partial steps.
    every = _successful_production(deployments, scope)
    steps = every.filter(_is_step(every)).select(s_id=every.id, s_service=every.service, s_sha=every.sha,
                                                 s_time=every.time)
    own = deps.select(r_id=deps.deployment_id, r_src=deps.deployment_id)
    inherited = deps.join(steps, [deps.service == steps.s_service, deps.sha == steps.s_sha,
                                  steps.s_time <= deps.time]).select(r_id=deps.deployment_id, r_src=steps.s_id)
    rollout = own.union(inherited, distinct=True)
    cand = rollout.join(by_dep, rollout.r_src == by_dep.b_id).select(
        "r_id", "b_sha", "b_subject", "b_rule", "b_time")
    # The earliest such commit names the rework (the smallest sha when two share a time). One window,
    # so the join of every link with the flagged commits runs once (a min/join chain ran it three times).
    rank = ibis.row_number().over(group_by=cand.r_id, order_by=[cand.b_time, cand.b_sha, cand.b_subject,
                                                                 cand.b_rule])
    ranked = cand.mutate(x_rank=rank)
    chosen = ranked.filter(ranked.x_rank == 0).select(x_id=ranked.r_id, x_sha=ranked.b_sha,
                                                      x_subject=ranked.b_subject, x_rule=ranked.b_rule)
    during = deps.join(
        incidents,
        [deps.service == incidents.service, deps.time >= incidents.started,
         incidents.resolved.isnull() | (deps.time <= incidents.resolved)],
    ).group_by(i_id=deps.deployment_id).agg(i_incident=incidents.id.min())
    j = deps.left_join(chosen, deps.deployment_id == chosen.x_id).left_join(
        during, deps.deployment_id == during.i_id)
    by_type = j.type.lower().isin(list(REWORK_TYPES)).fill_null(False)
    by_commit = j.x_id.notnull()
    by_incident = j.i_id.notnull()
    reason = ibis.cases((by_type, "deployment type " + j.type.lower()), (by_commit, j.x_rule),
                        (by_incident, "during open incident " + j.i_incident), else_=ibis.null("string"))
    return j.select(
        deployment_id=j.deployment_id, service=j.service, time=j.time, sha=j.sha,
        rework=by_type | by_commit | by_incident, reason=reason,
        rework_sha=by_commit.ifelse(j.x_sha, ibis.null("string")),
        rework_subject=by_commit.ifelse(j.x_subject, ibis.null("string")),
    )


def _union(*tables: ir.Table) -> ir.Table:
    """UNION ALL of tables whose columns agree but for nullability (a key column is NOT NULL)."""
    return ibis.union(*(t.select(**{c: t[c].cast(t[c].type().copy(nullable=True)) for c in t.columns})
                        for t in tables), distinct=False)


def _fix_link_ids(deployment_changes: ir.Table, change_files: ir.Table | None, ignore: tuple[str, ...]) -> ir.Column:
    """The deployments that ship a revert or hotfix commit that counts (`_rework_commits`): each link
    carries its commit's rework rule, and the files of the flagged commits meet their links in one
    window over (repo, commit) instead of joins."""
    links = deployment_changes.filter(~deployment_changes.baseline & deployment_changes.rework_rule.notnull())
    if change_files is None or not ignore:
        return links.deployment_id
    files = change_files.semi_join(links, [change_files.repo == links.repo, change_files.sha == links.sha])
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    u = _union(
        links.select(f_id=links.deployment_id, f_repo=links.repo, f_sha=links.sha, f_file=zero, f_kept=zero),
        files.select(f_id=ibis.null("string"), f_repo=files.repo, f_sha=files.sha, f_file=one,
                     f_kept=(~path_matches_expr(files.path, ignore)).ifelse(one, zero)))
    commit = ibis.window(group_by=[u.f_repo, u.f_sha])
    u = u.mutate(f_files=u.f_file.max().over(commit), f_any_kept=u.f_kept.max().over(commit))
    # A commit without a file list (webhook-only) stays rework: what it touched is unknown.
    return u.filter((u.f_file == 0) & ((u.f_files == 0) | (u.f_any_kept == 1))).f_id


def _made_during_incidents(deps: ir.Table, incidents: ir.Table) -> ir.Column:
    """The ids of `deps` made while an incident of their service was open (`started <= time`, and
    `time <= resolved` or not resolved), as the join `deployment_flags` otherwise makes, by one sweep
    over each service's events in time order: at a deployment, the incidents started so far less those
    resolved before it are the open ones. A starting incident sorts before a deployment at the same
    instant and a resolved one after it (both count as open then). An incident resolved before it
    started can contain no deployment and is left out of both counts; a NULL service or time joins nothing.

    For PostgreSQL, which can only hash such a join on the service and test every pair (at 10M changes,
    196,000 deployments against each of their service's 250 incidents: 49M pairs, 2.5 s); the sweep
    sorts 206,000 rows (0.3 s)."""
    one, zero = ibis.literal(1, "int32"), ibis.literal(0, "int32")
    inc = incidents.filter(incidents.service.notnull() & incidents.started.notnull()
                           & (incidents.resolved.isnull() | (incidents.resolved >= incidents.started)))
    ended = inc.filter(inc.resolved.notnull())
    d = deps.filter(deps.service.notnull() & deps.time.notnull())
    no_id = ibis.null("string")
    ev = _union(
        inc.select(e_id=no_id, service=inc.service, time=inc.started, kind=zero, s=one, e=zero),
        d.select(e_id=d.id, service=d.service, time=d.time, kind=one, s=zero, e=zero),
        ended.select(e_id=no_id, service=ended.service, time=ended.resolved, kind=ibis.literal(2, "int32"),
                     s=zero, e=one))
    so_far = ibis.window(group_by=ev.service, order_by=[ev.time, ev.kind], preceding=None, following=0)
    ev = ev.mutate(open=ev.s.sum().over(so_far) - ev.e.sum().over(so_far))
    return ev.filter(ev.e_id.notnull() & (ev.open > 0)).e_id


def deployment_flags(deployments: ir.Table, incident_deployments: ir.Table, deployment_changes: ir.Table,
                     incidents: ir.Table, scope: Scope, change_files: ir.Table | None = None, *,
                     sweep_incidents: bool = False) -> ir.Table:
    """One row per counted deployment (as `deployment_rows`) with `failed` and `caught_in_canary` (as
    `failure_rows`) and `rework` (as `rework_rows`): the flags alone, for `summarise`, in few joins.

    On a distributed engine every join or grouping is a job or two; the row sets above join the
    deployments with their rollout steps once per question. Here the deployments and what marks
    them (an incident links to one, it ships a fix commit, it was made while an incident of its
    service was open) are one union, each mark carrying its deployment's service and commit; the marks
    spread onto their deployment, what a rollout inherits from its earlier (or simultaneous)
    canary/partial steps, and whether it went full are windows over (service, commit).
    `sweep_incidents`: the deployments made during an open incident by a sweep over time
    (`_made_during_incidents`) rather than a join.
    """
    every = _successful_production(deployments, scope)
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    deps = production_deployments(deployments, scope)
    if sweep_incidents:
        during_ids = _made_during_incidents(deps, incidents)
    else:
        during = deps.join(incidents, [deps.service == incidents.service, deps.time >= incidents.started,
                                       incidents.resolved.isnull() | (deps.time <= incidents.resolved)])
        during_ids = during.select(d_id=deps.id).d_id

    def marks(ids: ir.Column, incident: ir.IntegerValue, fix: ir.IntegerValue, open_: ir.IntegerValue) -> ir.Table:
        return ids.as_table().select(k_id=ids.get_name(), m_incident=incident, m_fix=fix, m_during=open_)

    marked = _union(marks(incident_deployments.deployment_id, one, zero, zero),
                    marks(_fix_link_ids(deployment_changes, change_files, scope.rework_ignore), zero, one, zero),
                    marks(during_ids, zero, zero, one))
    # Each mark carries its deployment's service and commit, so that every window below is over
    # (service, commit): on a distributed engine one exchange serves them all (a window over the
    # deployment id first was one more shuffle on the path a call waits for).
    marked = marked.join(every, marked.k_id == every.id).select(
        m_id=every.id, service=every.service, sha=every.sha, time=ibis.null(every.time.type()),
        type=ibis.null("string"), stage=ibis.null("string"), m_dep=zero, m_incident=marked.m_incident,
        m_fix=marked.m_fix, m_during=marked.m_during)
    u = _union(
        every.select(m_id=every.id, service=every.service, sha=every.sha, time=every.time, type=every.type,
                     stage=every.stage, m_dep=one, m_incident=zero, m_fix=zero, m_during=zero),
        marked)
    # The rows of one deployment: its peers in the order of ids, inside its (service, commit).
    same_id = ibis.range_window(preceding=0, following=0, group_by=[u.service, u.sha], order_by=u.m_id)
    u = u.mutate(m_incident=u.m_incident.max().over(same_id), m_fix=u.m_fix.max().over(same_id),
                 m_during=u.m_during.max().over(same_id))
    t = u.filter(u.m_dep == 1)
    step = _is_step(t)
    own_incident, own_fix = t.m_incident == 1, t.m_fix == 1
    # A NULL service or commit joins no rollout (the row sets' equality joins): no window for it.
    keyed = t.service.notnull() & t.sha.notnull()
    rollout = ibis.window(group_by=[t.service, t.sha])
    so_far = ibis.range_window(preceding=None, following=0, group_by=[t.service, t.sha], order_by=t.time)
    t = t.mutate(
        x_full=keyed & ((~step).ifelse(one, zero).max().over(rollout) == 1),
        x_step_incident=keyed & ((step & own_incident).ifelse(one, zero).max().over(so_far) == 1),
        x_step_fix=keyed & ((step & own_fix).ifelse(one, zero).max().over(so_far) == 1),
        x_own_incident=own_incident, x_own_fix=own_fix, x_during=t.m_during == 1, x_step=step,
    )
    t = _in_scope(t, "time", scope)
    t = t.filter(~t.x_step | ~t.x_full)
    failed = t.x_own_incident | t.x_step_incident
    by_type = t.type.lower().isin(list(REWORK_TYPES)).fill_null(False)
    return t.select(
        deployment_id=t.m_id, service=t.service, time=t.time, sha=t.sha, day=t.time.truncate("D"),
        failed=failed, caught_in_canary=failed & t.x_step,
        rework=by_type | t.x_own_fix | t.x_step_fix | t.x_during,
    )
