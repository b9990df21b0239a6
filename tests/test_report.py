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
