"""Lead time in stages: where the time of a change that came through a pull request goes.

For each pull/merge request merged in the window (docs/metrics.md "Lead time in stages"):

- coding: first commit's author time -> opened (or marked ready, when opened as a draft);
- pickup: ready -> first review, approval or review comment by someone other than the author;
- review: first review -> merge;
- deploy: merge -> the first production deployment that shipped the merge commit (or, in a
  monorepo whose merge commits touch no service path, any of its commits), by ancestry, as
  lead time links them (`deployment_changes`).

A stage that cannot be measured is empty, never 0: no first commit known (coding), merged
without a review before the merge (pickup, review), not deployed by the end of the window or
first seen in a service's baseline deployment (deploy). Empty stages are counted. Commits
shipped in the window that came through no pull request are counted beside them.

Pure: tables and a scope in, Ibis expressions and plain figures out; `quantile` (exact, and it
compiles on DuckDB, PostgreSQL and Spark), epoch arithmetic for durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from . import dora
from .arrow_times import python_rows
from .memtables import memtable
from .summary_levels import _with_keys

STAGES = ("coding", "pickup", "review", "deploy")
STAGE_COLUMNS = {s: f"{s}_seconds" for s in STAGES}


def _seconds(end: ir.TimestampValue, start: ir.TimestampValue) -> ir.IntegerValue:
    return end.epoch_seconds().cast("int64") - start.epoch_seconds().cast("int64")


def _non_negative(value: ir.IntegerValue) -> ir.IntegerValue:
    # Not greatest(): it skips NULLs on DuckDB and PostgreSQL, and an empty stage must stay empty.
    return (value < 0).ifelse(ibis.literal(0, "int64"), value)


def _deployed(tables: dict[str, ir.Table], scope: dora.Scope) -> ir.Table:
    """Per pull request: its first production deployment in the window (time, id, service, baseline)."""
    pc = tables["pull_request_commits"]
    dc = tables["deployment_changes"]
    deps = dora.production_deployments(tables["deployments"], scope)
    shipped = pc.join(dc, [pc.repo == dc.repo, pc.sha == dc.sha]).join(deps, dc.deployment_id == deps.id).select(
        x_pr=pc.pull_request_id, x_time=deps.time, x_dep=deps.id, x_service=deps.service, x_base=dc.baseline)
    first = shipped.group_by("x_pr").agg(f_time=shipped.x_time.min())
    best = shipped.join(first, [shipped.x_pr == first.x_pr, shipped.x_time == first.f_time])
    # Two services deploying one merge at the same instant: the smallest id decides, on every engine.
    return best.group_by(d_pr=best.x_pr).agg(d_time=best.x_time.min(), d_dep=best.x_dep.min(),
                                             d_service=best.x_service.min(), d_base=best.x_base.max())


def pull_request_rows(tables: dict[str, ir.Table], scope: dora.Scope, *,
                      service_of_repo: dict[str, str] | None = None) -> ir.Table:
    """One row per pull request merged in the window, with the time of each stage in seconds."""
    pr = tables["pull_requests"]
    merged = pr.filter(pr.merged_at.notnull() & (pr.merged_at >= ibis.literal(scope.since))
                       & (pr.merged_at < ibis.literal(scope.until)))
    pc = tables["pull_request_commits"]
    branch = pc.filter(pc.role == "branch")
    git_first = branch.group_by(g_pr=branch.pull_request_id).agg(g_first=branch.author_time.min())
    deployed = _deployed(tables, scope)
    repos = service_of_repo or {}
    mapping = memtable({"m_repo": list(repos), "m_service": list(repos.values())},
                       schema={"m_repo": "string", "m_service": "string"})
    j = merged.left_join(git_first, merged.id == git_first.g_pr).left_join(
        deployed, merged.id == deployed.d_pr).left_join(mapping, merged.repo == mapping.m_repo)
    ready = (j.draft == False).fill_null(False).ifelse(j.created_at, j.ready_at.fill_null(j.created_at))  # noqa: E712
    first_commit = j.first_commit_at.fill_null(j.g_first)
    reviewed = j.first_review_at.notnull() & (j.first_review_at <= j.merged_at)
    review_at = reviewed.ifelse(j.first_review_at, ibis.null("timestamp('UTC')"))
    baseline = j.d_base.fill_null(False)
    deployed_at = (j.d_time.notnull() & ~baseline).ifelse(j.d_time, ibis.null("timestamp('UTC')"))
    service = j.d_service.fill_null(j.m_service).fill_null(j.repo)
    t = j.select(
        pull_request=j.id, source=j.source, repo=j.repo, number=j.number, title=j.title, author=j.author,
        url=j.url, service=service, time=j.merged_at, first_commit=first_commit, opened=j.created_at,
        ready=ready, first_review=review_at, reviewer=reviewed.ifelse(j.first_reviewer, ibis.null("string")),
        merged=j.merged_at, merge_commit=j.merge_commit, deployed=deployed_at, deployment_id=j.d_dep,
        draft=j.draft.fill_null(False) | j.ready_at.notnull(), reopened=j.reopened.fill_null(0),
        baseline=baseline,
    )
    if scope.services is not None:
        t = t.filter(t.service.isin(list(scope.services)))
    return t.mutate(
        coding_seconds=_non_negative(_seconds(t.ready, t.first_commit)),
        pickup_seconds=_non_negative(_seconds(t.first_review, t.ready)),
        review_seconds=_non_negative(_seconds(t.merged, t.first_review)),
        deploy_seconds=_non_negative(_seconds(t.deployed, t.merged)),
    )


def outside_rows(tables: dict[str, ir.Table], scope: dora.Scope) -> ir.Table:
    """One row per change shipped in the window (as lead time counts them), with `in_pr`."""
    leads = dora.lead_time_rows(tables["deployments"], tables["deployment_changes"], tables["changes"], scope)
    leads = leads.filter((leads.lead_seconds >= 0) & ~leads.inferred)
    pc = tables["pull_request_commits"]
    known = pc.select(k_repo=pc.repo, k_sha=pc.sha).distinct()
    j = leads.left_join(known, [leads.repo == known.k_repo, leads.sha == known.k_sha])
    return j.select(service=j.service, time=j.time, in_pr=j.k_sha.notnull())


@dataclass(frozen=True)
class StageFigures:
    """The stages of one group: median and p90 in hours and the sample of each, and the counts."""

    stages: dict[str, dict[str, float | int | None]]
    pull_requests: int
    unreviewed: int  # merged without a review before the merge: pickup and review empty
    undeployed: int  # merge not deployed by the end of the window: deploy empty
    baseline: int  # merge first seen in a service's baseline deployment: deploy empty
    first_commit_unknown: int
    drafts: int
    reopened: int
    changes: int  # shipped in the window (lead time's sample)
    outside_pull_requests: int

    def as_dict(self) -> dict[str, Any]:
        share = self.outside_pull_requests / self.changes if self.changes else None
        return {**self.stages, "pull_requests": self.pull_requests, "unreviewed": self.unreviewed,
                "undeployed": self.undeployed, "baseline": self.baseline,
                "first_commit_unknown": self.first_commit_unknown, "drafts": self.drafts, "reopened": self.reopened,
                "changes": self.changes, "outside_pull_requests": self.outside_pull_requests,
                "outside_share": share}


EMPTY = StageFigures({s: {"median": None, "p90": None, "count": 0} for s in STAGES}, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def _name(value: Any) -> Any:
    """A group key as the summary names it (a period is its first day, ISO)."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).date().isoformat()
    return value


def stage_figures(tables: dict[str, ir.Table], scope: dora.Scope, keys: tuple[str, ...], *,
                  team_of: dict[str, str], period: str | None = None,
                  service_of_repo: dict[str, str] | None = None) -> dict[tuple, StageFigures]:
    """Figures per group of `keys` (team, service, period; () for overall), keyed by named values."""
    rows = _with_keys(pull_request_rows(tables, scope, service_of_repo=service_of_repo), keys, team_of, period)
    aggs: dict[str, Any] = {"n": rows.count(),
                            "unreviewed": rows.first_review.isnull().ifelse(1, 0).sum(),
                            "undeployed": (rows.deployment_id.isnull()).ifelse(1, 0).sum(),
                            "baseline": rows.baseline.ifelse(1, 0).sum(),
                            "unknown_first": rows.first_commit.isnull().ifelse(1, 0).sum(),
                            "drafts": rows.draft.ifelse(1, 0).sum(),
                            "reopened": (rows.reopened > 0).ifelse(1, 0).sum()}
    for stage, column in STAGE_COLUMNS.items():
        aggs[f"{stage}_n"] = rows[column].count()
        aggs[f"{stage}_median"] = rows[column].quantile(0.5)
        aggs[f"{stage}_p90"] = rows[column].quantile(0.9)
    found = python_rows((rows.group_by(list(keys)).agg(**aggs) if keys else rows.agg(**aggs)).to_pyarrow())
    outside = _with_keys(outside_rows(tables, scope), keys, team_of, period)
    o_aggs = {"changes": outside.count(), "outside": (~outside.in_pr).ifelse(1, 0).sum()}
    o_found = python_rows((outside.group_by(list(keys)).agg(**o_aggs) if keys else outside.agg(**o_aggs)).to_pyarrow())
    shipped = {tuple(_name(r[k]) for k in keys): (int(r["changes"] or 0), int(r["outside"] or 0)) for r in o_found}
    out: dict[tuple, StageFigures] = {}
    for r in found:
        key = tuple(_name(r[k]) for k in keys)
        n = int(r["n"] or 0)
        if not n:
            continue
        stages = {s: {"median": _hours(r[f"{s}_median"]) if r[f"{s}_n"] else None,
                      "p90": _hours(r[f"{s}_p90"]) if r[f"{s}_n"] else None, "count": int(r[f"{s}_n"] or 0)}
                  for s in STAGES}
        changes, outside_n = shipped.get(key, (0, 0))
        out[key] = StageFigures(stages, n, int(r["unreviewed"] or 0), int(r["undeployed"] or 0),
                                int(r["baseline"] or 0), int(r["unknown_first"] or 0), int(r["drafts"] or 0),
                                int(r["reopened"] or 0), changes, outside_n)
    for key, (changes, outside_n) in shipped.items():
        if key not in out:
            out[key] = StageFigures(EMPTY.stages, 0, 0, 0, 0, 0, 0, 0, changes, outside_n)
    return out


def slowest(tables: dict[str, ir.Table], scope: dora.Scope, stage: str, *,
            service_of_repo: dict[str, str] | None = None) -> ir.Table:
    """The pull requests behind one stage, slowest first (`fireline explain lead-time --stage`)."""
    if stage not in STAGES:
        raise KeyError(stage)
    t = pull_request_rows(tables, scope, service_of_repo=service_of_repo)
    column = STAGE_COLUMNS[stage]
    t = t.filter(t[column].notnull())
    t = t.mutate(hours=t[column].cast("float64") / 3600.0)
    return t.order_by([ibis.desc(column), t.time, t.pull_request])
