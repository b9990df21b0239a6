"""The DORA definitions (docs/metrics.md) written plainly, to check fireline.metrics against.

Two references live here:

- `World` and `expected`: the whole chain from the definitions, in plain Python, from the
  records a source would produce (commits with their parents, deployments, incidents):
  which deployment shipped each commit by git ancestry (the first one observed per
  service is a baseline), which deployment each incident hit (named cause, else the
  latest production deployment of its service at or before its start), then every
  figure of `fireline dora`. tests/test_definitions.py checks the store against it.
- `summarise`: the baseline of the metrics benchmark (bench/pandas_dora.py imports it),
  what a team would write by hand over the store's derived tables in pandas. It reads
  the link tables Fireline wrote and has no rollout stages (the benchmark store has none):

  - deployments: successful, production, time in [since, until);
  - lead time: non-baseline deployment_changes of those deployments, deployment time -
    committer time, negatives excluded; median and p90 (linear interpolation, as
    percentile_cont);
  - change failure rate: deployments with any incident_deployments row / deployments;
  - time to restore: incidents started in the window, resolved - started;
  - rework: deployment type in REWORK_TYPES, or ships a revert/hotfix commit, or made
    while an incident of its service was open.

  Groups are (team, week of the row's time), weeks starting Monday 00:00 UTC.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fireline.metrics.dora import REWORK_TYPES

NO_TEAM = "(no team)"
WEEK = 7 * 86400
MONDAY = 4 * 86400  # 1970-01-05 00:00 UTC was a Monday
EPOCH = pd.Timestamp(0, tz="UTC")


def _secs(s: pd.Series) -> pd.Series:
    """Epoch seconds; float so that missing times stay NaN."""
    return (s - EPOCH) / pd.Timedelta(seconds=1)


def _week(secs: pd.Series) -> pd.Series:
    return ((secs - MONDAY) // WEEK * WEEK + MONDAY).astype("int64")


def _value(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _during_incident(deps: pd.DataFrame, incidents: pd.DataFrame) -> pd.Series:
    """Was an incident of the deployment's service open at its time?

    For each service, sort incidents by start and carry the latest end seen so far
    (open = +inf); a deployment is covered when the carried end of the last incident
    that started at or before it reaches its time. Exact, and O(n log n) instead of the
    services x deployments x incidents cross join.
    """
    inc = incidents[["service", "s", "r"]].copy()
    inc["r"] = inc["r"].fillna(np.inf)
    inc = inc.sort_values(["service", "s"], kind="stable")
    inc["reach"] = inc.groupby("service")["r"].cummax()
    left = deps[["service", "t"]].reset_index().sort_values("t", kind="stable")
    hit = pd.merge_asof(left, inc.sort_values("s", kind="stable")[["service", "s", "reach"]],
                        left_on="t", right_on="s", by="service", direction="backward")
    return (hit.set_index("index")["reach"] >= hit.set_index("index")["t"]).reindex(deps.index).fillna(False)


def summarise(con: Any, since: datetime, until: datetime, team_of: dict[str, str],
              production: tuple[str, ...] = ("production",)) -> dict[str, Any]:
    con.execute("SET TimeZone = 'UTC'")
    deps = con.sql("SELECT id, service, environment, status, type, time FROM deployments").df()
    links = con.sql("SELECT deployment_id, repo, sha, baseline FROM deployment_changes").df()
    changes = con.sql("SELECT repo, sha, committer_time, subject FROM changes").df()
    incidents = con.sql("SELECT id, service, started, resolved FROM incidents").df()
    failed_ids = con.sql("SELECT deployment_id FROM incident_deployments").df()["deployment_id"]
    lo, hi = since.timestamp(), until.timestamp()

    deps["t"] = _secs(deps["time"])
    keep = (deps["status"].str.lower().eq("success") & deps["environment"].str.lower().isin(production)
            & (deps["t"] >= lo) & (deps["t"] < hi))
    deps = deps[keep].copy()
    deps["team"] = deps["service"].map(team_of).astype(object).fillna(NO_TEAM)
    deps["week"] = _week(deps["t"])
    deps["day"] = deps["t"] // 86400

    # Lead time: link -> deployment -> commit.
    links = links[~links["baseline"]]
    changes["ct"] = _secs(changes["committer_time"])
    lead = (links.merge(deps[["id", "t", "team", "week"]], left_on="deployment_id", right_on="id")
            .merge(changes[["repo", "sha", "ct"]], on=["repo", "sha"]))
    lead["lead"] = lead["t"] - lead["ct"]
    lead = lead[lead["lead"] >= 0]

    # Change failure and rework flags, one per deployment.
    deps["failed"] = deps["id"].isin(failed_ids)
    subject = changes["subject"].str.lower()
    is_fix = (subject.str.startswith("revert") | subject.str.contains("hotfix", regex=False)
              | subject.str.startswith("hot fix"))
    fix_ids = links.merge(changes.loc[is_fix, ["repo", "sha"]], on=["repo", "sha"])["deployment_id"]
    incidents["s"] = _secs(incidents["started"])
    incidents["r"] = _secs(incidents["resolved"])
    by_type = deps["type"].str.lower().isin(REWORK_TYPES).fillna(False).astype(bool)
    deps["rework"] = by_type | deps["id"].isin(fix_ids) | _during_incident(deps, incidents)

    # Time to restore: incidents that started in the window.
    inc = incidents[(incidents["s"] >= lo) & (incidents["s"] < hi)].copy()
    inc["restore"] = inc["r"] - inc["s"]
    inc["team"] = inc["service"].map(team_of).astype(object).fillna(NO_TEAM)
    inc["week"] = _week(inc["s"])

    overall = {
        "deployment_frequency": len(deps) / ((hi - lo) / 86400),
        "lead_time": _value(lead["lead"].median() / 3600) if len(lead) else None,
        "lead_time_p90": _value(lead["lead"].quantile(0.9) / 3600) if len(lead) else None,
        "change_failure_rate": _value(deps["failed"].mean()) if len(deps) else None,
        "time_to_restore": _value(inc["restore"].median() / 3600),
        "time_to_restore_p90": _value(inc["restore"].quantile(0.9) / 3600),
        "rework_rate": _value(deps["rework"].mean()) if len(deps) else None,
    }

    keys = ["team", "week"]
    g = deps.groupby(keys).agg(n=("id", "size"), failed=("failed", "mean"), rework=("rework", "mean"))
    by_lead, by_restore = lead.groupby(keys)["lead"], inc.groupby(keys)["restore"]
    lg = pd.DataFrame({"median": by_lead.median(), "p90": by_lead.quantile(0.9)})
    ig = pd.DataFrame({"median": by_restore.median(), "p90": by_restore.quantile(0.9)})
    groups: dict[str, dict[str, float | None]] = {}

    def put(team: str, week: int, metric: str, value: Any) -> None:
        day = datetime.fromtimestamp(week, UTC).date().isoformat()
        groups.setdefault(f"{team}|{day}", {})[metric] = _value(value)

    for (team, week), row in g.iterrows():
        days = (min(week + WEEK, hi) - max(week, lo)) / 86400
        put(team, week, "deployment_frequency", row["n"] / days)
        put(team, week, "change_failure_rate", row["failed"])
        put(team, week, "rework_rate", row["rework"])
    for (team, week), row in lg.iterrows():
        put(team, week, "lead_time", row["median"] / 3600)
        put(team, week, "lead_time_p90", row["p90"] / 3600)
    for (team, week), row in ig.iterrows():
        put(team, week, "time_to_restore", row["median"] / 3600)
        put(team, week, "time_to_restore_p90", row["p90"] / 3600)
    return {"overall": overall, "groups": groups}


# ---------------------------------------------------------------------------------------------
# From the records to the figures, in plain Python.

REWORK_SUBJECT_STARTS = ("revert", "hot fix")
ROLLOUT_STEPS = ("canary", "partial")


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    time: datetime  # committer time
    subject: str


@dataclass(frozen=True)
class Dep:
    id: str
    service: str
    sha: str  # as the source gave it: full or a unique abbreviation
    time: datetime
    environment: str = "production"
    status: str = "success"
    type: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Inc:
    id: str
    service: str
    started: datetime
    resolved: datetime | None = None
    cause: str | None = None


@dataclass
class World:
    """Commits per repository (each service deploys from the repository named after it),
    deployments and incidents."""

    commits: dict[str, dict[str, Commit]] = field(default_factory=dict)
    deployments: list[Dep] = field(default_factory=list)
    incidents: list[Inc] = field(default_factory=list)


def percentile_cont(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks, as SQL's percentile_cont."""
    xs = sorted(values)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def _resolve(world: World, sha: str, repos: list[str] | None = None) -> tuple[str, str] | None:
    """(repo, full sha) for a full or uniquely abbreviated sha, case-insensitive."""
    sha = sha.strip().lower()
    hits = [(repo, full) for repo, commits in world.commits.items() if repos is None or repo in repos
            for full in commits if full.startswith(sha)]
    return hits[0] if len(hits) == 1 else None


def _ancestors(commits: dict[str, Commit], head: str) -> set[str]:
    seen: set[str] = set()
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in commits:
            continue
        seen.add(sha)
        stack.extend(commits[sha].parents)
    return seen


def _is_step(d: Dep) -> bool:
    return (d.stage or "").lower() in ROLLOUT_STEPS


@dataclass
class Links:
    production: list[Dep]  # successful production deployments with a known commit, in (time, id) order
    head: dict[str, str]  # deployment id -> full sha of its commit
    shipped: dict[str, tuple[str, bool]]  # commit -> (deployment that first contained it, baseline?)
    incident: dict[str, str]  # incident id -> deployment id


def link(world: World, production: tuple[str, ...] = ("production",)) -> Links:
    envs = {e.lower() for e in production}
    prod = sorted((d for d in world.deployments if d.status.lower() == "success" and d.environment.lower() in envs),
                  key=lambda d: (d.time, d.id))
    head: dict[str, str] = {}
    for d in prod:
        found = _resolve(world, d.sha, [d.service])
        if found:
            head[d.id] = found[1]
    prod = [d for d in prod if d.id in head]
    # A commit belongs to the earliest deployment of its service whose commit contains it;
    # the first deployment of a service is a baseline.
    shipped: dict[str, tuple[str, bool]] = {}
    for service in {d.service for d in prod}:
        deps = [d for d in prod if d.service == service]
        for index, d in enumerate(deps):
            for sha in _ancestors(world.commits[service], head[d.id]):
                shipped.setdefault(sha, (d.id, index == 0))
    by_id = {d.id: d for d in prod}
    incident: dict[str, str] = {}
    for inc in world.incidents:
        target = None
        cause = (inc.cause or "").strip()
        if cause in by_id:
            target = cause  # a deployment id
        elif cause and (found := _resolve(world, cause)):
            full = found[1]
            direct = [d.id for d in prod if head[d.id] == full]
            if direct:
                target = direct[0]  # a deployment's commit: the first deployment of it
            elif full in shipped:
                target = shipped[full][0]  # a commit a deployment shipped
        if target is None:
            before = [d for d in prod if d.service == inc.service and d.time <= inc.started]
            target = before[-1].id if before else None
        if target is not None:
            incident[inc.id] = target
    return Links(prod, head, shipped, incident)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _week_starts(since: datetime, until: datetime) -> list[datetime]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC) - timedelta(days=since.weekday())
    weeks = []
    while start < until:
        weeks.append(start)
        start += timedelta(days=7)
    return weeks


def expected(world: World, since: datetime, until: datetime, service: str | None = None,
             production: tuple[str, ...] = ("production",)) -> dict[str, dict[str, Any]]:
    """Every figure of `fireline dora`, overall (service None) or for one service.

    A value is None when it is unknown (no data source, or nothing in the window)."""
    links = link(world, production)
    mine = [d for d in links.production if service is None or d.service == service]

    def in_window(t: datetime) -> bool:
        return since <= t < until

    # Rollouts: a full (or plain) deployment counts once; a canary or partial step counts only
    # when its service and commit never went full. A rollout's steps are the steps of its
    # service and commit at or before it.
    went_full = {(d.service, links.head[d.id]) for d in links.production if not _is_step(d)}
    counted = [d for d in mine if in_window(d.time)
               and (not _is_step(d) or (d.service, links.head[d.id]) not in went_full)]

    def steps_of(d: Dep) -> list[Dep]:
        return [s for s in links.production if _is_step(s) and s.service == d.service
                and links.head[s.id] == links.head[d.id] and s.time <= d.time and s.id != d.id]

    days = (until - since).total_seconds() / 86400
    deploy_days = {d.time.date() for d in counted}
    per_week = [len({d.time.date() for d in counted if w <= d.time < w + timedelta(days=7)})
                for w in _week_starts(since, until)]
    has_deployments = bool(world.deployments)
    frequency = {
        "value": len(counted) / days if has_deployments else None, "count": len(counted),
        "deploy_days": len(deploy_days),
        "median_deploy_days_per_week": statistics.median(per_week) if has_deployments else None,
    }

    by_id = {d.id: d for d in links.production}
    leads = []
    for sha, (dep_id, baseline) in links.shipped.items():
        d = by_id[dep_id]
        if baseline or not in_window(d.time) or (service is not None and d.service != service):
            continue
        leads.append((d.time - world.commits[d.service][sha].time).total_seconds())
    good = [x for x in leads if x >= 0]
    lead = {"value": _hours(percentile_cont(good, 0.5)), "p90": _hours(percentile_cont(good, 0.9)),
            "count": len(good), "negative_excluded": len(leads) - len(good)}
    if not has_deployments:
        lead["value"] = lead["p90"] = None

    hit = set(links.incident.values())
    failed = [d for d in counted if d.id in hit or any(s.id in hit for s in steps_of(d))]
    caught = [d for d in failed if _is_step(d)]
    cfr = {"value": len(failed) / len(counted) if counted else None, "count": len(counted), "failed": len(failed),
           "caught_in_canary": len(caught)}
    if not world.incidents:  # unknown, not 0
        cfr = {"value": None, "count": 0}

    started = [i for i in world.incidents if in_window(i.started) and (service is None or i.service == service)]
    restores = [(i.resolved - i.started).total_seconds() for i in started if i.resolved is not None]
    ttr = {"value": _hours(percentile_cont(restores, 0.5)), "p90": _hours(percentile_cont(restores, 0.9)),
           "count": len(restores), "open": len(started) - len(restores)}

    def subject_is_fix(sha: str, repo: str) -> bool:
        subject = world.commits[repo][sha].subject.lower()
        return subject.startswith(REWORK_SUBJECT_STARTS) or "hotfix" in subject

    def ships_fix(d: Dep) -> bool:
        rollout = {d.id, *(s.id for s in steps_of(d))}
        return any(dep_id in rollout and not baseline and subject_is_fix(sha, d.service)
                   for sha, (dep_id, baseline) in links.shipped.items())

    def during_incident(d: Dep) -> bool:
        return any(i.service == d.service and i.started <= d.time and (i.resolved is None or d.time <= i.resolved)
                   for i in world.incidents)

    rework = [d for d in counted if (d.type or "").lower() in REWORK_TYPES or ships_fix(d) or during_incident(d)]
    rework_rate = {"value": len(rework) / len(counted) if counted else None, "count": len(counted),
                   "rework": len(rework)}
    return {"deployment_frequency": frequency, "lead_time": lead, "change_failure_rate": cfr,
            "time_to_restore": ttr, "rework_rate": rework_rate}
