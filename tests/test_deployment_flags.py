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
