"""`fireline report`: one self-contained file, sections only for parts with data, figures equal to
`fireline dora --json`, charts as accessible SVG (and PNG on request)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.app.report import build_context, render, report_page
from fireline.app.report.sections import build_sections
from fireline.cli import app

from . import report_support as rs


@pytest.fixture(scope="session")
def demo(demo_org):
    return rs.demo(demo_org)


def _section_ids(ctx) -> list[str]:
    return [s.id for s in build_sections(ctx)]


def test_sections_appear_only_for_parts_with_data(store, tmp_path):
    config = rs.small_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    ids = _section_ids(ctx)
    assert ids[:2] == ["dora", "trends"]
    assert "detection" in ids  # incidents exist
    for absent in ("alerts", "action-items", "knowledge", "testing"):
        assert absent not in ids, absent  # no alerts, postmortems or git history in this store

    with store.transaction() as tx:
        tx.insert("postmortems", {"id": ["PM-1"], "title": ["Timeouts"], "date": [date(2026, 3, 6)],
                                  "services": ['["api"]'], "status": ["published"]})
        tx.insert("action_items", {
            "postmortem_id": ["PM-1", "PM-1", "PM-1"], "position": [1, 2, 3], "owner": ["Ana", "Bo", "Cy"],
            "team": ["Red", "Red", "Red"], "what": ["Add a timeout alert", "Load test", "Write runbook"],
            "due": [date(2026, 3, 20), date(2026, 5, 1), date(2026, 3, 10)], "term": ["short", "long", "short"],
            "status": ["open", "open", "done"], "done_on": [None, None, date(2026, 3, 9)]})
    ctx = build_context(store, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    [items] = [s for s in build_sections(ctx) if s.id == "action-items"]
    [table] = items.tables
    assert table.row_css[0] == "overdue" and table.rows[0][1] == "Add a timeout alert"
    assert table.rows[0][0].text == "overdue by 12 d"
    assert table.row_css.count("overdue") == 1  # not the future one, not the done one
    assert {f.label: f.cell.value for f in items.figures} == {"Open action items": 2, "Overdue": 1, "Done": 1}

    # Team Blue owns web, which no postmortem names: its report has no action items.
    blue = build_context(store, config, team="Blue", since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    assert "action-items" not in _section_ids(blue)


def test_figures_in_the_page_are_those_of_fireline_dora(store, tmp_path):
    config = rs.small_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    page = figures = rs.figures(render(report_page(ctx)))
    api = figures.rows["service:api"]
    assert api["deployment_frequency"] == pytest.approx(28 / 31)
    assert api["change_failure_rate"] == pytest.approx(1 / 28)
    assert figures.rows["team:Blue"]["rework_rate"] == pytest.approx(1 / 4)
    assert figures.rows["all"]["time_to_restore"] == pytest.approx(3.5)  # median of 1 h and 6 h
    assert "#drill-lead-time-team-red" in page.links and not page.external


def test_the_demo_report_matches_dora_json_and_stands_alone(demo):
    html = demo.report.read_text()
    page = rs.figures(html)
    expected = rs.expected_rows(demo.dora)
    assert set(page.rows) == set(expected)
    for key, metrics in expected.items():
        for metric, value in metrics.items():
            assert page.rows[key][metric] == pytest.approx(value), (key, metric)
    assert not page.external, page.external
    # Every in-page link lands on an element of the page.
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    anchors = [link[1:] for link in page.links if link.startswith("#")]
    assert anchors and all(a in ids for a in anchors)
    # Each chart is one image with a name and a description, and has a table behind it.
    svgs = re.findall(r"<svg\b[^>]*>", html)
    assert len(svgs) >= 5
    assert all('role="img"' in s and "aria-labelledby" in s for s in svgs)
    assert html.count("Data behind this chart") == len(svgs)
    for part in ("Detection gap", "Alert noise", "Knowledge silos", "Fixes without tests"):
        assert f">{part}</h2>" in html


def test_report_cli_writes_the_file_and_pngs(demo, tmp_path):
    out, png = tmp_path / "team.html", tmp_path / "charts"
    result = CliRunner().invoke(app, ["report", "--db", str(demo.db), "--config", str(demo.config), *rs.WINDOW,
                                      "--team", "Data", "--profile", "dora-2024", "--out", str(out),
                                      "--png", str(png), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["out"] == str(out) and data["bytes"] == out.stat().st_size
    assert data["sections"][:2] == ["dora", "trends"]
    assert len(data["png"]) == len(data["charts"]) >= 5
    for path in data["png"]:
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = rs.figures(out.read_text())
    assert page.rows["all"]["lead_time"] == pytest.approx(demo.dora_data["overall"]["lead_time"]["value"])
    assert "team:SRE" not in page.rows and "dora-2024" in out.read_text()


def test_report_with_today_is_as_of_that_day_for_every_part(demo, tmp_path):
    # Regression: --today fixed the action items but the debt ledger still aged markers to the clock.
    args = ["report", "--db", str(demo.db), "--config", str(demo.config), *rs.WINDOW, "--today", "2026-07-05"]
    one, two = tmp_path / "one.html", tmp_path / "two.html"
    for out in (one, two):
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert one.read_bytes() == two.read_bytes()
    debt = CliRunner().invoke(app, ["debt", "--db", str(demo.db), "--config", str(demo.config), "--now",
                                    "2026-07-05T23:59:59", "--json"])
    oldest = max(item["age_days"] for item in json.loads(debt.stdout)["items"] if item["category"] == "marker")
    assert f"{oldest:.0f} days" in one.read_text()


@pytest.mark.parametrize("args, message", [
    (["--team", "Nope"], "unknown team 'Nope'"),
    (["--today", "July"], "--today: not a date"),
    (["--profile", "best"], "unknown profile 'best'"),
])
def test_bad_options_exit_2_and_write_nothing(demo, tmp_path, args, message):
    out = tmp_path / "r.html"
    run = rs.cli("report", "--db", str(demo.db), "--config", str(demo.config), "--out", str(out), *args)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert not out.exists()


def test_an_empty_store_gives_a_page_that_says_so(tmp_path):
    from fireline.config import Config
    from fireline.store import Store

    store = Store.open(str(tmp_path / "empty.duckdb"))
    try:
        html = render(report_page(build_context(store, Config(), today=date(2026, 1, 1))))
    finally:
        store.close()
    assert "No data in this window yet" in html and "<svg" not in html


@pytest.mark.parametrize("option", ["--png", "--out"])
def test_an_output_path_under_a_file_exits_2_and_writes_nothing(demo, tmp_path, option):
    # Regression: --png into an existing file (or --out below one) ended in a FileExistsError traceback.
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    out = tmp_path / "r.html"
    target = str(blocker) if option == "--png" else str(blocker / "r.html")
    args = ["--png", target, "--out", str(out)] if option == "--png" else ["--out", target]
    run = rs.cli("report", "--db", str(demo.db), "--config", str(demo.config), *rs.WINDOW, *args)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert str(blocker) in run.stderr and "not a folder" in run.stderr
    assert not out.exists() and blocker.read_text() == "keep me"


# ---- trends keep their empty weeks; charts share the window's time axis (issue 15) -------------------

def _sparse_store(store, tmp_path):
    """One service deploying about once a week, with no deployment in the week of 16 March, and one
    incident caused by the deployment of 3 March: a sparse series whose weekly failure rate jumps to 100%."""
    from fireline.config import Config, TeamConfig
    from fireline.ingest import ingest_deployments, ingest_incidents

    config = Config(timezone="UTC", teams={"Red": TeamConfig(services=["api"])})
    days = [3, 5, 10, 24, 31]  # weeks of 2, 9, 23 and 30 March; none in the week of 16 March
    (tmp_path / "d.csv").write_text("id,time,service,environment,sha,status\n" + "".join(
        f"api-{d},2026-03-{d:02d}T10:00:00Z,api,production,{d:040x},success\n" for d in days))
    (tmp_path / "i.csv").write_text(
        "id,service,title,started,detected,resolved,severity,detected_by,cause\n"
        "INC-1,api,Timeouts,2026-03-03T12:00:00Z,2026-03-03T12:10:00Z,2026-03-03T12:40:00Z,SEV2,monitoring,\n")
    ingest_deployments(store, config, tmp_path / "d.csv")
    ingest_incidents(store, config, tmp_path / "i.csv")
    return config


def _chart(ctx, chart_id):
    return next(ch for s in build_sections(ctx) for ch in s.charts if ch.id == chart_id)


def test_weekly_trends_list_every_week_and_their_deployments_add_up(store, tmp_path):
    config = _sparse_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-02", until="2026-04-05", today=date(2026, 4, 6))
    chart = _chart(ctx, "trend-deployment-frequency")
    weeks = [row[0] for row in chart.rows]
    assert weeks == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    counts = chart.columns.index("Deployments")
    assert [row[counts] for row in chart.rows] == ["2", "1", "0", "1", "1"]
    overall = rs.figures(render(report_page(ctx))).rows["all"]
    assert sum(int(row[counts]) for row in chart.rows) == 5 == round(overall["deployment_frequency"] * 35)


def test_a_line_never_crosses_a_week_without_data(store, tmp_path):
    from fireline.views.charts import to_svg

    config = _sparse_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-02", until="2026-04-05", today=date(2026, 4, 6))
    chart = _chart(ctx, "trend-change-failure-rate")
    svg = to_svg(chart)
    # The weekly "All" line: weeks of 2 and 9 March, a gap, then 23 and 30 March: two strokes, not one.
    lines = re.findall(r'<path aria-label="([^"]*)"[^>]*aria-roledescription="line mark"', svg)
    weekly_all = [label for label in lines if "series: All" in label and "4 weeks" not in label]
    assert len(weekly_all) == 2, lines


def test_a_sparse_series_gets_a_rolling_four_week_line(store, tmp_path):
    config = _sparse_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-02", until="2026-04-05", today=date(2026, 4, 6))
    chart = _chart(ctx, "trend-change-failure-rate")
    rolling = chart.columns.index("All, 4 weeks")
    # The week of 2 March alone reads 50%; four weeks to 23 March: 1 failed of 4 deployments, 25%.
    by_week = {row[0]: row for row in chart.rows}
    assert by_week["2026-03-02"][chart.columns.index("All")] == "50"
    assert by_week["2026-03-23"][rolling] == "25"
    assert by_week["2026-03-30"][rolling] == "0"  # 9-30 March: none of 3 failed


def _demo_charts(demo) -> list:
    """Every chart of the demo's report over its half year."""
    from fireline.config import load_config
    from fireline.store import Store

    config = load_config(demo.config)
    store = Store.open(str(demo.db), create=False)
    try:
        ctx = build_context(store, config, since="2026-01-05T00:00Z", until="2026-07-05T00:00Z",
                            today=date(2026, 7, 5))
        return [ch for s in build_sections(ctx) for ch in s.charts]
    finally:
        store.close()


def test_every_chart_of_a_report_shares_the_window(demo):
    charts = _demo_charts(demo)
    trends = [ch for ch in charts if ch.id.startswith("trend-")]
    assert len(trends) == 5
    for ch in trends:
        x = ch.spec["layer"][0]["encoding"]["x"]
        assert x["scale"]["domain"] == ["2026-01-05T00:00:00+00:00", "2026-07-05T00:00:00+00:00"], ch.id
    months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
    for ch in charts:
        if ch.columns[0] == "Month":
            assert [row[0] for row in ch.rows] == months, ch.id


def test_times_under_an_hour_read_in_minutes(demo):
    html = demo.report.read_text()
    detection = html[html.index('id="detection"'):html.index("</section>", html.index('id="detection"'))]
    # Regression: the median time to detect by month read "0.5 h", "0.28 h".
    assert not re.search(r"\b0\.\d+ ?h\b", detection), re.findall(r".{40}\b0\.\d+ ?h\b", detection)
    assert re.search(r"\b\d+m\b", detection)


def test_a_chart_without_any_value_is_an_empty_frame_not_an_endless_one(duck, tmp_path):
    # Regression: with deployments but no incidents (flask, prometheus), the failure-rate and restore
    # charts had no point at all and came out 1.8e308 px tall in the page, and --png failed on them.
    from fireline.app.report import write_report
    from fireline.config import Config
    from fireline.ingest import ingest_deployments

    config = Config(timezone="UTC")
    (tmp_path / "d.csv").write_text("id,time,service,environment,sha,status\n"
                                    "a,2026-03-03T10:00:00Z,api,production,{},success\n".format("a" * 40))
    ingest_deployments(duck, config, tmp_path / "d.csv")
    ctx = build_context(duck, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    result = write_report(ctx, tmp_path / "r.html", png_dir=tmp_path / "png")
    assert "trend-time-to-restore" in result.charts and len(result.pngs) == len(result.charts)
    sizes = re.findall(r'<svg\b[^>]*\bheight="([^"]+)"', (tmp_path / "r.html").read_text())
    assert sizes and all(float(h) < 2000 for h in sizes), sizes


def test_every_chart_of_the_demo_report_is_valid_vega_lite(demo):
    # Altair no longer validates each spec as it is made (views/charts.py, _fit): this does, for every
    # chart a report draws (trends with rolling lines, bars, stacked columns).
    import jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    charts = _demo_charts(demo)
    assert {ch.id.split("-")[0] for ch in charts} >= {"trend", "chart"}
    schema = load_schema()
    for ch in charts:
        jsonschema.validate(ch.spec, schema)
