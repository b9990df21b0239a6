"""The report's and dashboard's debt section: the demo's purger FIXME pile month by month and team
Data over its bug budget, the same figures as `fireline debt/budget --json`, and the filters."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from fireline.app.report import build_context, render, report_page
from fireline.app.report.sections import build_sections
from fireline.config import load_config, parse_config
from fireline.ingest import ingest_git
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.store import Store

from . import report_support as rs
from .gitrepo import GitRepo

NOW = datetime(2026, 7, 5, tzinfo=UTC)  # the demo's "now": the end of its window
SINCE, UNTIL = "2026-01-05T00:00Z", "2026-07-05T00:00Z"
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]


@pytest.fixture(scope="session")
def demo(demo_org):
    return rs.demo(demo_org)


@pytest.fixture(scope="module")
def cli(demo) -> dict:
    """`fireline debt/budget --json` over the demo, run before this process opens the store (DuckDB
    lets one process at a time have the file)."""
    def run(*args: str) -> dict:
        done = rs.cli(*args, "--db", str(demo.db), "--config", str(demo.config), "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return {"debt": run("debt", "--now", UNTIL, "--since", SINCE), "budget": run("budget", "--since", SINCE,
                                                                               "--until", UNTIL),
            "debt_data": run("debt", "--now", UNTIL, "--since", SINCE, "--team", "Data")}


@pytest.fixture(scope="module")
def demo_store(demo, cli):
    store = Store.open(str(demo.db), create=False)
    yield store, load_config(demo.config)
    store.close()


def _debt(store, config, **filters):
    ctx = build_context(store, config, since=filters.pop("since", SINCE), until=filters.pop("until", UNTIL),
                        now=filters.pop("now", NOW), today=NOW.date(), **filters)
    return next((s for s in build_sections(ctx) if s.id == "debt"), None)


def _text(cell) -> str:
    return cell if isinstance(cell, str) else cell.text


def _rows(table) -> list[list[str]]:
    return [[_text(c) for c in row] for row in table.rows]


def _table(section, table_id):
    return next(t for t in section.tables if t.id == table_id)


def test_the_demo_report_shows_the_purger_fixme_pile_and_data_over_its_budget(demo, cli, demo_store):
    html = demo.report.read_text()
    assert 'id="debt"' in html and "Debt ledger and bug budget" in html
    assert 'id="chart-debt-by-month"' in html and 'id="debt-budget"' in html

    section = _debt(*demo_store, team="Data")
    # The FIXME pile in purger/job.py, month by month: one TODO in February, nine markers by July.
    [chart] = section.charts
    assert chart.id == "chart-debt-by-month" and chart.columns[:5] == ["Month", "Technical", "Process",
                                                                        "Knowledge", "Total"]
    assert [row[0] for row in chart.rows] == MONTHS
    assert [int(row[1]) for row in chart.rows] == [0, 1, 2, 3, 6, 9, 9]
    expected = {t["month"]: t for t in cli["debt_data"]["totals"] if t["team"] == "Data"}
    assert [int(row[4]) for row in chart.rows] == [expected[m]["total"] for m in MONTHS]

    # Data budgeted 15% for fixes and spent 21%: over, and the row says so.
    budget = _table(section, "debt-budget")
    assert _rows(budget) == [["Data", "15%", "352", "74", "21%", "5 of 7", "over"]]
    assert budget.row_css == ["overdue"]
    figures = {f.label: f for f in section.figures}
    assert figures["Over their bug budget"].cell.text == "1 of 1"
    assert figures["Over their bug budget"].detail == "Data 21% vs 15%"
    assert "Data spent 21% of its work on fixes (budget 15%)" in section.verdict

    # The figures are `fireline debt --json`'s.
    [data] = cli["debt_data"]["by_team"]
    for kind in ("technical", "process", "knowledge"):
        assert figures[f"{kind.capitalize()} debt"].cell.value == data[kind]
    items = cli["debt_data"]["items"]
    assert figures["Overdue actions"].cell.value == sum(1 for i in items if i["category"] == "action overdue")
    markers = [i for i in items if i["category"] == "marker"]
    assert len(markers) == 9 and all(i["path"] == "purger/job.py" for i in markers)
    assert figures["Oldest marker"].cell.value == max(i["age_days"] for i in markers)
    assert "purger/job.py" in figures["Oldest marker"].detail
    table = _table(section, "debt-items")
    assert len(table.rows) == len(items) and {row[2] for row in _rows(table)} == {"Data"}
    ages = [c.value for c in (row[7] for row in table.rows) if c.value is not None]
    assert ages == sorted(ages, reverse=True)  # the oldest debts first


def test_every_team_and_its_budget_verdict(demo, cli, demo_store):
    section = _debt(*demo_store)
    verdicts = {t["team"]: t["verdict"] for t in cli["budget"]["teams"]}
    assert verdicts == {"C++": "within", "Data": "over", "SRE": "within", "UI": "under"}
    budget = _table(section, "debt-budget")
    assert {row[0]: row[6] for row in _rows(budget)} == verdicts
    assert [css for row, css in zip(_rows(budget), budget.row_css, strict=True) if row[0] == "Data"] == ["overdue"]
    assert {row[0]: css for row, css in zip(_rows(budget), budget.row_css, strict=True)}["UI"] is None
    assert {f.label: f.cell.text for f in section.figures}["Over their bug budget"] == "1 of 4"
    counts = {k: sum(t[k] for t in cli["debt"]["by_team"]) for k in ("technical", "process", "knowledge")}
    assert {k: f.cell.value for k in counts for f in section.figures if f.label == f"{k.capitalize()} debt"} == counts


def test_the_items_table_is_capped_and_points_to_the_command(demo_store):
    store, config = demo_store
    ctx = build_context(store, config, since=SINCE, until=UNTIL, now=NOW, today=NOW.date(), drill_rows=5)
    [section] = [s for s in build_sections(ctx) if s.id == "debt"]
    table = _table(section, "debt-items")
    assert len(table.rows) == 5
    assert "Showing the oldest 5 of 36" in table.note and "fireline debt --json" in table.note


def test_the_team_filter_limits_the_section(demo, demo_store):
    store, config = demo_store
    ui = _debt(store, config, team="UI")
    assert [row[0] for row in _rows(_table(ui, "debt-budget"))] == ["UI"]
    assert {row[2] for row in _rows(_table(ui, "debt-items"))} == {"UI"}
    figures = {f.label: f for f in ui.figures}
    assert figures["Oldest marker"].cell.value is None  # the purger's markers are Data's
    assert figures["Over their bug budget"].cell.text == "0 of 1" and ui.verdict is None
    assert [int(row[1]) for row in ui.charts[0].rows] == [0] * 7

    # A shorter window shows its own months; the ledger itself stays as of "now".
    spring = _debt(store, config, team="Data", since="2026-02-01", until="2026-04-30")
    assert [row[0] for row in spring.charts[0].rows] == ["2026-02", "2026-03", "2026-04"]
    assert [int(row[1]) for row in spring.charts[0].rows] == [1, 2, 3]

    # The dashboard shows the same section for the same filters.
    secrets = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})
    with TestClient(create_app(lambda: Store.open(str(demo.db), create=False), config, secrets=secrets,
                               normaliser=False, page_wait=120), follow_redirects=False) as client:
        page = client.get(f"/?team=Data&since={SINCE}&until={UNTIL}")
    assert page.status_code == 200
    assert 'id="debt"' in page.text and 'id="chart-debt-by-month"' in page.text
    budget_html = page.text.split('<table id="debt-budget">')[1].split("</table>")[0]
    assert '<th scope="row">Data' in budget_html and '<th scope="row">UI' not in budget_html


def test_no_debt_data_no_section(store, tmp_path):
    config = rs.small_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    assert "debt" not in [s.id for s in build_sections(ctx)]
    assert 'id="debt"' not in render(report_page(ctx))


def test_a_repository_ingested_elsewhere_is_scanned_where_the_config_puts_it(store, tmp_path):
    """A store filled on another machine (PostgreSQL, say): the marker scan finds the working copy
    at the config's repo path, and the team filter keeps to the team's markers."""
    when = [datetime(2026, m, 10, 12, tzinfo=UTC) for m in (1, 2, 3)]
    repo = GitRepo.create(tmp_path / "jobs")
    repo.commit("Start", when[0], {"purger/job.py": "# TODO: schedule\nrun()\n", "export/x.py": "x = 1\n"})
    repo.commit("fix: sleep", when[1], {"purger/job.py": "# TODO: schedule\nrun()\n# FIXME: sleep\n"})
    repo.commit("Export", when[2], {"export/x.py": "x = 2  # HACK\n"})
    config = parse_config({"teams": {"Data": {"services": ["purger"]}, "Ops": {"services": ["export"]}},
                           "services": {"purger": {"repo": "jobs", "paths": ["purger/**"]},
                                        "export": {"repo": "jobs", "paths": ["export/**"]}}},
                          source="fireline.toml", base_dir=tmp_path)
    ingest_git(store, config, repo.path)
    [(name, services)] = store.query("SELECT repo, services FROM repos")
    with store.transaction() as tx:  # as if ingested on another machine
        tx.replace_all("repos", {"repo": [name], "path": ["/elsewhere/jobs"], "tips": ["{}"],
                                 "services": [services], "shallow": [False]})
    now = datetime(2026, 4, 1, tzinfo=UTC)

    def section(**filters):
        ctx = build_context(store, config, since="2026-01-01", until="2026-03-31", now=now, today=now.date(),
                            **filters)
        return next(s for s in build_sections(ctx) if s.id == "debt")

    every = section()
    markers = [row for row in _rows(_table(every, "debt-items")) if row[1] == "marker"]
    assert sorted((row[2], row[4]) for row in markers) == [("Data", "# FIXME: sleep"), ("Data", "# TODO: schedule"),
                                                           ("Ops", "x = 2  # HACK")]
    assert [row[1] for row in every.charts[0].rows] == ["1", "2", "3"]
    data = section(team="Data")
    assert {row[2] for row in _rows(_table(data, "debt-items"))} == {"Data"}
    assert [row[1] for row in data.charts[0].rows] == ["1", "2", "2"]
    assert [row[0] for row in _rows(_table(data, "debt-budget"))] == ["Data"]


def test_a_century_long_window_charts_the_months_with_debt(demo_store):
    # Regression: --since 1900-01-01 drew 1500 months of zeros and Vega overflowed its stack (a traceback; a 500
    # on the dashboard). A window of more than ten years charts its last ten years, and says so.
    from fireline.views.charts import to_svg

    store, config = demo_store
    section = _debt(store, config, since="1900-01-01")
    [chart] = section.charts
    months = [row[0] for row in chart.rows]
    assert len(months) == 120 and months[0] == "2016-08" and months[-1] == "2026-07"
    assert "The last 120 months of the window" in chart.description
    assert "<svg" in to_svg(chart)
    assert [row[0] for row in _debt(store, config).charts[0].rows] == MONTHS  # a normal window keeps every month
