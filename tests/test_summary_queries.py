"""One `summarise` is a handful of queries whatever its grouping levels: on a distributed engine
(Spark) each query is a job, and 27 of them made `fireline dora` on the demo take 34-50 s there.

Counted through a hook on the Ibis backend (every fetch, execute and cached table), not timed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.roundtrips import counted
from fireline.app.dora import group_sets, summary_and_weekly, summary_of_tables
from fireline.config import load_config
from fireline.metrics.scope import Scope
from fireline.metrics.summary import Sources, summarise
from fireline.metrics.tiers import SEED
from fireline.scope import team_map, team_map_of
from fireline.store import Store

# Before: 3 counts, 21 fetches and 3 cached tables (27) for the default grouping (team, team + service).
MAX_QUERIES = 3
SCOPE = Scope(since=datetime(2026, 1, 5, tzinfo=UTC), until=datetime(2026, 7, 5, tzinfo=UTC))


@pytest.fixture(scope="module")
def demo(demo_org):
    config = load_config(demo_org.db.parent / "world" / "fireline.toml")
    store = Store.open(str(demo_org.db), create=False)
    yield store, config
    store.close()


@pytest.mark.parametrize("by", [None, "week", "month"])
def test_one_summary_of_the_demo_is_a_handful_of_queries(demo, by):
    store, config = demo
    tables, team_of = store.tables(), team_map(config, store)
    with counted(store.con) as calls:
        summary = summarise(tables, SCOPE, SEED, team_of=team_of, group_sets=group_sets(config, by), period=by)
    assert summary.groups and summary.overall.metrics["lead_time"].count > 0  # the demo has every source
    assert len(calls) <= MAX_QUERIES, calls


def test_more_grouping_levels_need_no_more_queries(demo):
    store, config = demo
    tables, team_of = store.tables(), team_map(config, store)
    sets = (("team",), ("service",), ("team", "service"), ("period",), ("team", "period"))
    with counted(store.con) as calls:
        summary = summarise(tables, SCOPE, SEED, team_of=team_of, group_sets=sets, period="week")
    assert {tuple(g.keys) for g in summary.groups} == set(sets)
    assert len(calls) <= MAX_QUERIES, calls


def test_the_report_s_summary_and_its_weeks_are_one_summary_s_queries_and_the_same_figures(demo):
    """The overview's figures and its weekly trends were two summaries (two rounds of queries); now one."""
    store, config = demo
    tables, team_of = store.tables(), team_map(config, store)
    with counted(store.con) as calls:
        summary, weekly = summary_and_weekly(tables, config, SCOPE, SEED, team_of)
    assert len(calls) <= MAX_QUERIES + 1, calls  # one summary's queries, and the empty-window hint's
    alone = summary_of_tables(tables, config, SCOPE, SEED, team_of)
    by = ("team", "period") if config.team_names else ("service", "period")
    weeks = summarise(tables, SCOPE, SEED, team_of=team_of, group_sets=(("period",), by), period="week")
    assert summary.as_dict() == alone.as_dict() and summary.hint == alone.hint
    assert weekly.as_dict() == weeks.as_dict()
    assert {tuple(g.keys) for g in weekly.groups} == {("period",), by}


def test_the_source_check_finds_what_the_team_map_reads_in_one_query(demo):
    """`fireline dora` reads the team map with the source check (on Spark, three queries fewer)."""
    store, config = demo
    with counted(store.con) as calls:
        sources = Sources.survey(store.tables())
    assert len(calls) == 1, calls
    assert (sources.deployments, sources.changes, sources.incidents) == (True, True, True)
    assert sources.services == store.service_names()
    repos = Store.services_of_repos(sources.repo_services)
    assert repos == store.repo_services() and any(repos.values())
    assert team_map_of(config, sources.services, repos) == team_map(config, store)
