"""Which sources hold anything (`summary_sources.Sources`): an absent one makes its metrics unknown with
the reason. On PostgreSQL the question reads a row of each table, not a count of all of them (at 10M
changes the count scanned every commit: 2.8 s of a summary), so both ways are pinned here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fireline.metrics.summary_sources import Sources

from .reference_dora import Commit, Dep, Inc, World
from .test_definitions import MONDAY, sha_of, write


def _world(deployments: bool, changes: bool, incidents: bool) -> World:
    world = World()
    if changes or deployments:
        sha = sha_of("A", 0)
        world.commits["A"] = {sha: Commit(sha, (), MONDAY, "Add the export step")}
    if deployments:
        world.deployments.append(Dep("A-1", "A", sha_of("A", 0), MONDAY + timedelta(hours=2)))
    if incidents:
        world.incidents.append(Inc("A-inc", "A", MONDAY, MONDAY + timedelta(hours=1)))
    return world


@pytest.mark.parametrize("held", [(False, False, False), (False, True, False), (False, False, True),
                                  (True, True, False), (True, True, True)])
def test_sources_say_which_tables_hold_rows(store, held):
    deployments, changes, incidents = held
    if not (deployments or changes or incidents):
        assert Sources.of(store.tables()) == Sources(False, False, False)
        return
    write(store, _world(deployments, changes, incidents))
    expected = Sources(deployments=deployments, changes=changes or deployments, incidents=incidents)
    assert Sources.of(store.tables()) == expected
    # The survey `fireline dora` makes (sources and the team map in one query) says the same.
    surveyed = Sources.survey(store.tables())
    assert (surveyed.deployments, surveyed.changes, surveyed.incidents) == (
        expected.deployments, expected.changes, expected.incidents)
    assert surveyed.services == ({"A"} if deployments or incidents else frozenset())
