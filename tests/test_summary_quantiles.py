"""The medians and p90s of a grouped summary are, to the last bit, the engine's own `percentile_cont`
over each group's rows: on PostgreSQL the summary picks them from each group's sorted values (a hash
aggregation, not a sort of every row by group) and interpolates as percentile_cont does, with each
deployment's keys computed once per deployment, so these figures pin that path to the engine's own
on small hand-made data with awkward values (seconds that interpolate to long binary fractions)."""

from __future__ import annotations

import random
from datetime import timedelta

import ibis
import pytest

from fireline.metrics import dora
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.summary_levels import CASE_TEAMS
from fireline.metrics.tiers import SEED
from fireline.store import Store

from .reference_dora import Commit, Dep, Inc, World
from .test_definitions import MONDAY, sha_of, write

TEAMS = {"A": "one", "B": "one", "C": "two"}
SINCE, UNTIL = MONDAY, MONDAY + timedelta(days=21)


def _world() -> World:
    """Three services over three weeks: linear histories deployed a few commits at a time (group
    sizes from one to a dozen links), and incidents of every length."""
    rnd = random.Random(7)
    world = World()
    for service in TEAMS:
        commits: dict[str, Commit] = {}
        parent: tuple[str, ...] = ()
        at = SINCE - timedelta(days=2)
        deployed = 0
        for i in range(60):
            at += timedelta(seconds=rnd.randint(1, 9 * 3600))
            sha = sha_of(service, i)
            commits[sha] = Commit(sha, parent, at, "Add the export step")
            parent = (sha,)
            if i == 0 or rnd.random() < 0.25:
                deployed += 1
                world.deployments.append(Dep(f"{service}-{deployed}", service, sha,
                                             at + timedelta(seconds=rnd.randint(1, 5 * 86400))))
        world.commits[service] = commits
        for i in range(rnd.randint(5, 12)):
            started = SINCE + timedelta(seconds=rnd.randint(0, 20 * 86400))
            world.incidents.append(Inc(f"{service}-inc-{i}", service, started,
                                       started + timedelta(seconds=rnd.randint(1, 3 * 86400))))
    world.deployments.sort(key=lambda d: d.time)
    return world


def _percentiles(store: Store, values: list[int]) -> tuple[float, float]:
    """The engine's own exact percentiles (percentile_cont / quantile_cont) of `values`."""
    t = ibis.memtable({"v": values}, schema={"v": "int64"})
    row = store.con.execute(t.agg(m=t.v.quantile(0.5), p=t.v.quantile(0.9))).iloc[0]
    return float(row["m"]), float(row["p"])


def _week(ts) -> object:
    return (ts - timedelta(days=ts.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


# Past summary_levels.CASE_TEAMS services, a row's team comes from a join with a table of them.
MANY = {**TEAMS, **{f"other-{i}": f"team-{i}" for i in range(CASE_TEAMS)}}


@pytest.mark.parametrize("group_sets, period, team_of", [
    ((("team", "period"),), "week", TEAMS), ((("team",), ("service",)), None, TEAMS),
    ((("team", "period"),), "week", MANY)], ids=["team-week", "team+service", "team-week-joined"])
def test_grouped_medians_and_p90s_are_the_engines_own_percentile_cont(store, group_sets, period, team_of):
    write(store, _world())
    scope = Scope(since=SINCE, until=UNTIL)
    tables = store.tables()
    summary = summarise(tables, scope, SEED, team_of=team_of, group_sets=group_sets, period=period)
    leads = dora.lead_time_rows(tables["deployments"], tables["deployment_changes"], None, scope).execute()
    leads = leads[(leads.lead_seconds >= 0) & ~leads.inferred.fillna(False).astype(bool)]
    restores = dora.restore_rows(tables["incidents"], scope).execute().dropna(subset=["restore_seconds"])
    rows = {"lead_time": (leads, "lead_seconds"), "time_to_restore": (restores, "restore_seconds")}
    checked = 0
    for group in summary.groups:
        for metric, (frame, column) in rows.items():
            mine = frame
            for key, value in group.keys.items():
                if key == "team":
                    mine = mine[mine.service.map(TEAMS) == value]
                elif key == "service":
                    mine = mine[mine.service == value]
                else:
                    mine = mine[mine.time.map(_week) == value]
            mv = group.metrics[metric]
            values = [int(v) for v in mine[column]]
            assert mv.count == len(values), (group.keys, metric)
            if not values:
                continue
            median, p90 = _percentiles(store, values)
            assert (mv.value, mv.details["p90"]) == (median / 3600, p90 / 3600), (group.keys, metric, values)
            checked += 1
    assert checked >= 10
