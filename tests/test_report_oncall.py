"""The report's and dashboard's on-call coverage section: the demo's conference gap and unverified
Sunday hotfix, the same figures as `fireline oncall gaps/load --json`, and the report's filters."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from fireline.app.report import build_context, render, report_page
from fireline.app.report.sections import build_sections
from fireline.config import load_config
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.store import Store

from . import report_support as rs

NOW = datetime(2026, 7, 5, tzinfo=UTC)  # the demo's "now": the end of its window
SINCE, UNTIL = "2026-01-05T00:00Z", "2026-07-05T00:00Z"


@pytest.fixture(scope="session")
def demo(demo_org):
    return rs.demo(demo_org)


@pytest.fixture(scope="module")
def cli(demo) -> dict:
    """`fireline oncall gaps/load --json` over the demo window, run before this process opens the
    store (DuckDB lets one process at a time have the file)."""
    return {command: _cli(demo, command) for command in ("gaps", "load")}


@pytest.fixture(scope="module")
def demo_store(demo, cli):
    store = Store.open(str(demo.db), create=False)
    yield store, load_config(demo.config)
    store.close()


def _oncall(store, config, **filters):
    ctx = build_context(store, config, since=filters.pop("since", SINCE), until=filters.pop("until", UNTIL),
                        now=NOW, today=NOW.date(), **filters)
    return next((s for s in build_sections(ctx) if s.id == "oncall"), None)


def _cli(demo, command: str, *extra: str) -> dict:
    run = rs.cli("oncall", command, "--db", str(demo.db), "--config", str(demo.config), "--from", SINCE, "--to",
                 UNTIL, *extra, "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data.get("unverified_deployments", {}).get("unknown") is None
    return data


def _text(cell) -> str:
    return cell if isinstance(cell, str) else cell.text


def _rows(table) -> list[list[str]]:
    return [[_text(c) for c in row] for row in table.rows]


def test_the_demo_report_shows_the_conference_gap_and_the_unverified_sunday_hotfix(demo, cli, demo_store):
    html = demo.report.read_text()
    assert '<section' in html and 'id="oncall"' in html and "On-call coverage" in html
    assert "Priya Raman: conference (PyCon US)" in html

    section = _oncall(*demo_store)
    gaps, unverified, load = section.tables
    by_team = {row[0]: row for row in _rows(gaps)}
    assert set(by_team) == {"UI", "Data"}
    ui, data = by_team["UI"], by_team["Data"]
    assert ui[1].startswith("Tue 2026-05-12") and ui[2].startswith("Sat 2026-05-16")
    assert "Priya Raman: conference (PyCon US)" in ui[5]
    assert data[1].startswith("Fri 2026-05-15") and data[2].startswith("Mon 2026-05-18")
    assert "Tom Fletcher: pto" in data[5] and "Sun 2026-05-17" in data[5]
    assert gaps.row_css == ["flagged", "flagged"]  # both run into the weekend of 16-17 May

    # The purger hotfix shipped on the Sunday with nobody of Data on call: flagged, and the same
    # deployment `fireline oncall gaps` names.
    gaps_cli = cli["gaps"]
    sunday = [d for d in gaps_cli["unverified_deployments"]["unverified"] if d["team"] == "Data"]
    assert [(d["service"], d["type"], d["weekday"]) for d in sunday] == [("purger", "hotfix", "Sunday")]
    [hotfix] = [(row, css) for row, css in zip(_rows(unverified), unverified.row_css, strict=True)
                if row[4] == sunday[0]["id"]]
    assert hotfix == ([hotfix[0][0], "Sunday", "purger", "Data", sunday[0]["id"], "hotfix", "nobody on call"],
                      "flagged")
    assert len(unverified.rows) == len(gaps_cli["unverified_deployments"]["unverified"])

    figures = {f.label: f for f in section.figures}
    assert figures["Gaps: nobody on call"].cell.value == len(gaps_cli["gaps"]) == 2
    assert figures["Hours nobody on call"].cell.value == pytest.approx(sum(g["hours"] for g in gaps_cli["gaps"]))
    assert figures["Who verifies weekend releases?"].cell.value == \
        len(gaps_cli["unverified_deployments"]["unverified"])
    assert figures["Experts away at once"].cell.value == 1
    assert "purger: Priya Raman" in figures["Experts away at once"].detail
    assert figures["Long days-off stretches"].cell.value == len(gaps_cli["weekend_stretches"])
    assert any("Good Friday" in note for note in section.notes)
    assert "nobody was there to notice" in section.verdict

    # Load per person: the same hours as `fireline oncall load`, fairness at a glance.
    expected = {p["person"]: p for p in cli["load"]["people"]}
    shown = {row[0]: row for row in _rows(load)}
    assert set(shown) == set(expected) and len({p["zone"] for p in expected.values()}) >= 3
    for person, p in expected.items():
        assert shown[person][3:7] == [f"{p[k]:.1f}" for k in ("hours", "business", "off", "sleep")], person
        assert shown[person][7] == str(p["pages"])
    [chart] = section.charts
    assert chart.id == "chart-oncall-load" and {r[0] for r in chart.rows} == set(expected)


def test_the_team_filter_limits_the_section_to_that_rotation(demo, demo_store):
    store, config = demo_store
    data = _oncall(store, config, team="Data")
    gaps, unverified, load = data.tables
    assert [row[0] for row in _rows(gaps)] == ["Data"]
    assert {row[3] for row in _rows(unverified)} == {"Data"}
    assert {row[0] for row in _rows(load)} == {"Tom Fletcher", "Sofia Alvarez", "Priya Raman"}
    assert all(row[2] == "Data" or "Data" in row[2].split(", ") for row in _rows(load))

    sre = _oncall(store, config, team="SRE")
    assert {f.label: f.cell.value for f in sre.figures}["Gaps: nobody on call"] == 0
    assert _rows(sre.tables[0]) == [] and sre.verdict is None
    assert {f.label: f.cell.value for f in sre.figures}["Experts away at once"] == 0  # purger is Data's

    # A window without the May conference has no gaps either.
    spring = _oncall(store, config, since="2026-02-01", until="2026-03-31")
    assert {f.label: f.cell.value for f in spring.figures}["Gaps: nobody on call"] == 0
    assert "Good Friday" not in " ".join(spring.notes)

    # The dashboard shows the same section for the same filters.
    secrets = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})
    with TestClient(create_app(lambda: Store.open(str(demo.db), create=False), config, secrets=secrets,
                               normaliser=False, page_wait=120), follow_redirects=False) as client:
        page = client.get(f"/?team=Data&since={SINCE}&until={UNTIL}")
    assert page.status_code == 200
    assert 'id="oncall"' in page.text and "Tom Fletcher: pto" in page.text
    gaps_html = page.text.split('<table id="oncall-gaps">')[1].split("</table>")[0]
    assert '<th scope="row">Data' in gaps_html and '<th scope="row">UI' not in gaps_html
    assert 'id="chart-oncall-load"' in page.text


def test_no_rotations_no_section(store, tmp_path):
    config = rs.small_store(store, tmp_path)
    ctx = build_context(store, config, since="2026-03-01", until="2026-03-31", today=date(2026, 4, 1))
    assert "oncall" not in [s.id for s in build_sections(ctx)]
    assert 'id="oncall"' not in render(report_page(ctx))


def test_a_small_rotation_with_a_weekend_hole(store, tmp_path):
    """One team on call weekdays only: every weekend is a flagged gap; its Sunday release is unverified."""
    config = rs.small_store(store, tmp_path)
    config = config.model_copy(update={"rotations": {"Blue": {"layers": [{
        "name": "weekdays", "members": ["Ana", "Bo"], "length": "1w", "start": "2026-03-02",
        "restrictions": [{"start": "09:00", "end": "17:00", "days": "mon-fri"}]}]}}})
    ctx = build_context(store, config, since="2026-03-02", until="2026-03-16", today=date(2026, 4, 1),
                        now=datetime(2026, 3, 9, tzinfo=UTC))
    [section] = [s for s in build_sections(ctx) if s.id == "oncall"]
    gaps, unverified, load = section.tables
    weekend = [row for row, css in zip(_rows(gaps), gaps.row_css, strict=True) if css == "flagged"]
    assert [row[1][:14] for row in weekend] == ["Fri 2026-03-06", "Fri 2026-03-13"]
    assert all(row[0] == "Blue" for row in _rows(gaps))
    assert any("still ahead" in row[5] for row in _rows(gaps))  # after the given "now"
    # web deploys on Saturdays 7 and 14 March at 11:00: nobody of Blue was on call. Red's api
    # deployments have no rotation at all, and say so.
    rows = _rows(unverified)
    assert [(row[1], row[2]) for row in rows if row[3] == "Blue"] == [("Saturday", "web"), ("Saturday", "web")]
    assert {row[6] for row in rows if row[3] == "Red"} == {"team Red has no rotation"}
    # --until is inclusive: Ana's second week starts on Monday 16 March, the window's last day.
    assert {row[0]: row[3] for row in _rows(load)} == {"Ana": "48.0", "Bo": "40.0"}
    html = render(report_page(ctx))
    assert re.search(r'<tr class="flagged"[^>]*><th scope="row">Blue', html)

    red = build_context(store, config, team="Red", since="2026-03-02", until="2026-03-16", today=date(2026, 4, 1))
    assert "oncall" not in [s.id for s in build_sections(red)]  # Red has no rotation to speak of
