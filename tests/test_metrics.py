"""DORA figures worked out by hand, checked on DuckDB and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.store import Store

MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
SCOPE = Scope(since=MON, until=MON + timedelta(days=28))


def at(day: int, hour: float = 12) -> datetime:
    return MON + timedelta(days=day, hours=hour)


def _deployment(dep_id, service, when, status="success", env="production", type_=None):
    return {"id": dep_id, "service": service, "environment": env, "sha": dep_id.ljust(40, "0"), "time": when,
            "status": status, "type": type_, "source": "test", "ref": None, "repo": "r"}


def _columns(rows: list[dict]) -> dict[str, list]:
    return {k: [r[k] for r in rows] for k in rows[0]}


def load(store: Store) -> None:
    deps = [
        _deployment("d1", "A", at(0, 9)), _deployment("d2", "A", at(0, 15)), _deployment("d3", "A", at(1)),
        _deployment("d4", "A", at(7), type_="hotfix"), _deployment("d5", "A", at(14)),
        _deployment("d6", "A", at(15)), _deployment("d7", "A", at(16)), _deployment("d8", "A", at(23)),
        _deployment("x1", "A", at(2), status="failure"), _deployment("x2", "A", at(3), env="staging"),
        _deployment("x3", "A", at(40)),  # after the window
        _deployment("b1", "B", at(5)),
    ]
    # (sha, deployment, lead hours, baseline)
    shipped = [("c1", "d2", 1, False), ("c2", "d2", 2, False), ("c3", "d3", 3, False), ("c4", "d3", 10, False),
               ("c0", "d1", 100, True), ("cneg", "d3", -2, False)]
    when = {d["id"]: d["time"] for d in deps}
    changes, links = [], []
    for sha, dep, lead, baseline in shipped:
        t = when[dep] - timedelta(hours=lead)
        changes.append({"repo": "r", "sha": sha, "parents": "", "author_name": "a", "author_email": "a@x",
                        "author_time": t, "author_offset": 0, "committer_name": "a", "committer_email": "a@x",
                        "committer_time": t, "committer_offset": 0, "subject": f"change {sha}",
                        "message": f"change {sha}", "files_changed": 1, "lines_added": 1, "lines_removed": 0})
        links.append({"deployment_id": dep, "service": "A", "repo": "r", "sha": sha, "baseline": baseline,
                      "via": "ancestry"})
    incidents = [
        ("i1", at(1, 13), at(1, 13.5)), ("i2", at(2), at(2, 14)), ("i3", at(14, 13), at(15, 18)),
        ("i4", at(20), None), ("i5", at(50), at(51)),
    ]
    inc_rows = [{"id": i, "service": "A", "title": i, "started": s, "detected": s, "resolved": r,
                 "severity": "sev2", "detected_by": "monitoring", "cause": None, "source": "test"}
                for i, s, r in incidents]
    with store.transaction() as tx:
        tx.insert("deployments", _columns(deps))
        tx.insert("changes", _columns(changes))
        tx.insert("deployment_changes", _columns(links))
        tx.insert("incidents", _columns(inc_rows))
        tx.insert("incident_deployments", {"incident_id": ["i1", "i2", "i3"], "deployment_id": ["d3", "d3", "d5"],
                                           "via": ["test"] * 3})


def test_dora_figures_by_hand(store):
    load(store)
    summary = summarise(store.tables(), SCOPE, SEED, team_of={"A": "T1", "B": "T2"},
                        group_sets=(("team",),))
    by_team = {g.keys["team"]: g.metrics for g in summary.groups}
    a = by_team["T1"]
    df = a["deployment_frequency"]
    assert df.count == 8 and df.value == pytest.approx(8 / 28)
    assert df.details["median_deploy_days_per_week"] == 1.5  # weeks had 2, 1, 3 and 1 deploy days
    lt = a["lead_time"]
    assert lt.count == 4 and lt.value == pytest.approx(2.5)
    assert lt.details["p90"] == pytest.approx(7.9)  # interpolated: 3 + 0.7 * (10 - 3)
    assert lt.details["negative_excluded"] == 1
    cfr = a["change_failure_rate"]
    assert (cfr.count, cfr.details["failed"], cfr.value) == (8, 2, 0.25)
    ttr = a["time_to_restore"]
    assert ttr.count == 3 and ttr.value == pytest.approx(2.0) and ttr.details["open"] == 1
    assert ttr.details["p90"] == pytest.approx(2 + 0.8 * (29 - 2))
    rework = a["rework_rate"]
    # d4 is a hotfix; d6 shipped while i3 was open, d8 while i4 still is.
    assert rework.details["rework"] == 3 and rework.value == 3 / 8
    assert a["change_failure_rate"].tier == "Mid" and a["lead_time"].tier == "High"
    b = by_team["T2"]
    assert b["change_failure_rate"].value == 0.0  # incidents are tracked and none hit B: a real zero
    assert b["lead_time"].value is None and b["lead_time"].unknown
    assert summary.overall.metrics["deployment_frequency"].count == 9


def test_weekly_rows(store):
    load(store)
    summary = summarise(store.tables(), SCOPE, SEED, team_of={"A": "T1"}, group_sets=(("period",),),
                        period="week")
    weeks = {g.keys["period"]: g.metrics for g in summary.groups}
    assert sorted(weeks) == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    first = weeks["2026-03-02"]
    assert first["deployment_frequency"].count == 4  # d1, d2, d3 and b1
    assert first["deployment_frequency"].value == pytest.approx(4 / 7)
    assert first["change_failure_rate"].value == pytest.approx(1 / 4)


def test_unknown_is_never_zero(duck):
    summary = summarise(duck.tables(), SCOPE, SEED)
    for name, mv in summary.overall.metrics.items():
        assert mv.value is None and mv.unknown, name
    assert summary.overall.metrics["change_failure_rate"].unknown == "no deployments ingested"


def test_change_failure_rate_unknown_without_incidents(duck):
    with duck.transaction() as tx:
        tx.insert("deployments", _columns([_deployment("d1", "A", at(1))]))
    cfr = summarise(duck.tables(), SCOPE, SEED).overall.metrics["change_failure_rate"]
    assert cfr.value is None and cfr.unknown == "no incidents ingested"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deploys=st.lists(st.tuples(st.integers(0, 27 * 24), st.booleans()), min_size=1, max_size=25),
    incidents=st.lists(st.tuples(st.integers(0, 27 * 24), st.integers(1, 500), st.integers(0, 30)),
                       max_size=25),
)
def test_invariants(tmp_path_factory, deploys, incidents):
    """0 <= change failure rate <= 1, lead and restore times >= 0, whatever the data."""
    store = Store.open(str(tmp_path_factory.mktemp("h") / "f.duckdb"))
    deps = [_deployment(f"d{i}", "A", MON + timedelta(hours=h)) for i, (h, _) in enumerate(deploys)]
    incs = [{"id": f"i{i}", "service": "A", "title": None, "started": MON + timedelta(hours=h),
             "detected": None, "resolved": MON + timedelta(hours=h, minutes=m), "severity": None,
             "detected_by": None, "cause": None, "source": "t"} for i, (h, m, _) in enumerate(incidents)]
    # Several incidents may hit one deployment: the rate still counts deployments, not incidents.
    links = {"incident_id": [f"i{i}" for i, (_, _, d) in enumerate(incidents)],
             "deployment_id": [f"d{d % len(deps)}" for _, _, d in incidents], "via": ["t"] * len(incidents)}
    with store.transaction() as tx:
        tx.insert("deployments", _columns(deps))
        if incs:
            tx.insert("incidents", _columns(incs))
            tx.insert("incident_deployments", links)
    m = summarise(store.tables(), SCOPE, SEED).overall.metrics
    cfr = m["change_failure_rate"].value
    if incs:
        assert 0 <= cfr <= 1
        assert m["time_to_restore"].value >= 0
    else:
        assert cfr is None
    assert 0 <= m["rework_rate"].value <= 1
    store.close()


@pytest.mark.parametrize("period, expected", [
    ("week", ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30", "2026-04-06", "2026-04-13"]),
    ("month", ["2026-03-01", "2026-04-01"]),
])
def test_periods_without_deployments_are_rows(store, period, expected):
    # Regression: `dora --by week` listed only the weeks that had deployments (7 of 13 on prometheus), so a
    # quiet week vanished and the weekly rate looked higher than the window's. A quiet period is a row:
    # 0 deployments a day, the other figures unknown with the reason; the periods add up to the window.
    load(store)
    scope = Scope(since=MON, until=MON + timedelta(days=49))  # seven weeks: deployments in 1-4 and 6 (x3)
    summary = summarise(store.tables(), scope, SEED, team_of={"A": "T1", "B": "T2"}, group_sets=(("period",),),
                        period=period)
    periods = {g.keys["period"]: g.metrics for g in summary.groups}
    assert sorted(periods) == expected
    total = summary.overall.metrics["deployment_frequency"].count
    assert sum(m["deployment_frequency"].count for m in periods.values()) == total == 10
    if period == "week":
        quiet = periods["2026-03-30"]
        assert quiet["deployment_frequency"].value == 0.0 and quiet["deployment_frequency"].count == 0
        assert quiet["lead_time"].value is None and quiet["lead_time"].unknown
