"""`dora.deployment_flags` (the one row set `summarise` counts, built in few joins for distributed
engines) says of every counted deployment what the row sets `fireline explain` lists say: `failed`
and `caught_in_canary` as `failure_rows`, `rework` as `rework_rows`. On the demo (incidents, fix
commits, deployments during open incidents) and on the rework repository of test_rework_explain.py
(reverts of docs, CI and manifests), with and without ignore paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fireline import Workspace
from fireline.config import Config
from fireline.ingest import ingest_git
from fireline.metrics import dora
from fireline.metrics.scope import DEFAULT_REWORK_IGNORE

from .test_rework_explain import SCOPE, build, t

DEMO = dora.Scope(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 7, 5, tzinfo=UTC))


def _by_id(expr) -> dict[str, dict]:
    return {r["deployment_id"]: r for r in expr.to_pyarrow().to_pylist()}


def _compare(tables: dict, scope: dora.Scope) -> dict[str, dict]:
    flags = _by_id(dora.deployment_flags(tables["deployments"], tables["incident_deployments"],
                                         tables["deployment_changes"], tables["incidents"], scope,
                                         tables["change_files"]))
    failures = _by_id(dora.failure_rows(tables["deployments"], tables["incident_deployments"], scope))
    rework = _by_id(dora.rework_rows(tables["deployments"], tables["deployment_changes"], tables["changes"],
                                     tables["incidents"], scope, tables["change_files"]))
    counted = _by_id(dora.deployment_rows(tables["deployments"], scope))
    assert set(flags) == set(failures) == set(rework) == set(counted)
    for dep, row in flags.items():
        assert (row["failed"], row["caught_in_canary"]) == (failures[dep]["failed"],
                                                            failures[dep]["caught_in_canary"]), dep
        assert row["rework"] == rework[dep]["rework"], dep
        assert row["day"] == counted[dep]["day"], dep
    return flags


def test_the_flags_of_the_demo_are_those_explain_lists(demo_org):
    with Workspace(str(demo_org.db)) as ws:
        flags = _compare(ws.tables(), DEMO)
    assert any(r["failed"] for r in flags.values()) and any(r["rework"] for r in flags.values())
    assert not all(r["rework"] for r in flags.values())


@pytest.mark.parametrize("ignore", [DEFAULT_REWORK_IGNORE, (), ("docs/**", "*.md")])
def test_the_flags_follow_the_ignore_paths_as_rework_rows_does(tmp_path, duck, ignore):
    build(tmp_path)
    ingest_git(duck, Config(), tmp_path / "svc", deploy_tags="v*")
    flags = _compare(duck.tables(), dora.Scope(since=SCOPE.since, until=t(28), rework_ignore=ignore))
    assert any(r["rework"] for r in flags.values())


def test_teams_from_a_case_or_from_a_join_give_the_same_summary(demo_org, monkeypatch):
    """Up to `CASE_TEAMS` services a row's team is a CASE over them (no join: a job fewer on Spark),
    past it a join with a table of them; both give the same figures."""
    from fireline.metrics import summary_levels as summary_module

    def figures() -> dict:
        with Workspace(str(demo_org.db), demo_org.directory / "world" / "fireline.toml") as ws:
            return ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z").to_dict()

    by_case = figures()
    monkeypatch.setattr(summary_module, "CASE_TEAMS", 0)
    assert figures() == by_case
    assert any(g.get("team") for g in by_case["groups"])


def _sweep_world():
    """Deployments at, just before and just after incidents' starts and ends; an open incident; one
    resolved before it started; incidents of one service overlapping; a service without incidents."""
    from datetime import timedelta

    from .reference_dora import Commit, Dep, Inc, World
    from .test_definitions import MONDAY, sha_of

    world = World()
    h = timedelta(hours=1)
    s = timedelta(seconds=1)
    for service in ("A", "B", "C"):
        world.commits[service] = {sha_of(service, i): Commit(sha_of(service, i), (), MONDAY - h, "Add it")
                                  for i in range(12)}
    at = [MONDAY + h - s, MONDAY + h, MONDAY + h + s, MONDAY + 2 * h, MONDAY + 3 * h, MONDAY + 3 * h + s,
          MONDAY + 5 * h, MONDAY + 6 * h, MONDAY + 8 * h, MONDAY + 30 * h]
    for service in ("A", "B", "C"):
        world.deployments += [Dep(f"{service}-{i}", service, sha_of(service, i), t) for i, t in enumerate(at)]
    world.incidents += [
        Inc("A-1", "A", MONDAY + h, MONDAY + 3 * h),  # a deployment at its start and one at its end
        Inc("A-2", "A", MONDAY + 2 * h, MONDAY + 6 * h),  # overlapping A-1
        Inc("A-3", "A", MONDAY + 8 * h, MONDAY + 8 * h),  # resolved the instant it started
        Inc("B-1", "B", MONDAY + 5 * h, None),  # still open
        Inc("B-3", "B", MONDAY + 2 * h, MONDAY + 2 * h + s),  # within B-2's backwards span
    ]
    return world


def test_the_sweep_finds_the_deployments_the_join_finds(store):
    """`sweep_incidents` (PostgreSQL's way) and the join agree at every edge: equal instants count
    as open, an unresolved incident stays open, one resolved before it started holds nothing."""
    from datetime import timedelta

    from .test_definitions import MONDAY, write

    write(store, _sweep_world())
    with store.transaction() as tx:  # resolved before it started (ingestion refuses it; a store may hold it)
        tx.insert("incidents", {"id": ["B-2"], "service": ["B"], "started": [MONDAY + timedelta(hours=3)],
                                "resolved": [MONDAY + timedelta(hours=1)]})
    tables = store.tables()
    assert tables["incidents"].count().execute() == 6
    scope = dora.Scope(since=MONDAY, until=MONDAY + timedelta(days=7))
    args = (tables["deployments"], tables["incident_deployments"], tables["deployment_changes"],
            tables["incidents"], scope, tables["change_files"])
    joined = _by_id(dora.deployment_flags(*args))
    swept = _by_id(dora.deployment_flags(*args, sweep_incidents=True))
    assert joined == swept
    rework = {d for d, r in swept.items() if r["rework"]}
    assert rework == {"A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "B-3", "B-6", "B-7", "B-8", "B-9"}
