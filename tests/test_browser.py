"""End to end in a real browser (Debian's chromium through Playwright): the demo's report and the
served dashboard load without errors or failed requests, show the figures `fireline dora --json`
gives, filter, drill down, work offline, and read well at laptop and phone widths in light and dark.

Screenshots go to $PYTEST_ARTIFACTS (default tests/artifacts/). Without chromium these tests are
skipped, except under CI=true, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from . import report_support as rs

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("FIRELINE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WINDOW_QUERY = "since=2026-01-05T00:00Z&until=2026-07-05T00:00Z"  # the demo window, as `fireline demo` prints it


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"chromium and Playwright are required in CI: {reason}")
    pytest.skip(f"no browser: {reason} (make test installs Debian's chromium as root)")


# Module scope: Playwright's sync API keeps an event loop running on this thread while it is
# open, and later tests that call asyncio.run() (the intake fault test) must not find it.
@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def demo(demo_org):
    return rs.demo(demo_org)


class Watched:
    """A page whose errors, failed requests and requests are recorded for the test to check."""

    def __init__(self, browser, **context_options) -> None:
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def figures(self) -> dict[str, dict[str, float | None]]:
        cells = self.page.eval_on_selector_all(
            "tr[data-key] [data-metric]",
            "els => els.map(e => [e.closest('tr').dataset.key, e.dataset.metric, e.dataset.value ?? null])")
        rows: dict[str, dict[str, float | None]] = {}
        for key, metric, value in cells:
            rows.setdefault(key, {})[metric] = float(value) if value is not None else None
        return rows

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser):
    opened: list[Watched] = []

    def open_(**options) -> Watched:
        w = Watched(browser, **options)
        opened.append(w)
        return w

    yield open_
    problems = [p for w in opened for p in w.problems]
    for w in opened:
        w.close()
    assert not problems, problems


def _same(page_rows: dict, expected: dict) -> None:
    assert set(page_rows) == set(expected)
    for key, metrics in expected.items():
        for metric, value in metrics.items():
            assert page_rows[key][metric] == pytest.approx(value), (key, metric)


def _contrast_failures(page) -> list[str]:
    """WCAG contrast of every tier badge and figure against its own background (AA: 4.5)."""
    return page.evaluate("""() => {
      const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
        if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; } return 'rgb(255,255,255)'; };
      const out = [];
      for (const el of document.querySelectorAll('.tier, .figure dt, .lead, .note, .verdict, th, td a')) {
        const a = lum(getComputedStyle(el).color), b = lum(bg(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(el.className + ' ' + el.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
      }
      return out; }""")


def test_report_opens_offline_and_shows_the_demo_figures(demo, watched, artifacts):
    w = watched(viewport=LAPTOP)
    w.context.set_offline(True)
    w.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                    else route.abort())
    w.page.goto(demo.report.as_uri())
    assert all(url.startswith(("file:", "data:")) for url in w.requests), w.requests
    _same(w.figures(), rs.expected_rows(demo.dora))
    assert w.page.locator("h1").inner_text() == "Fireline report: the demo organisation"
    assert w.page.locator("main section h2").count() >= 6
    # Every chart is an image with a name, and drew something.
    charts = w.page.locator("svg[role=img]")
    assert charts.count() >= 5
    for i in range(charts.count()):
        svg = charts.nth(i)
        assert (svg.locator("title").text_content() or "").strip()
        assert svg.bounding_box()["width"] > 200
    # The accessible name is the chart's title and its description (what assistive technology reads).
    assert w.page.get_by_role("img", name="Deployment frequency by week").count() == 1
    assert not _contrast_failures(w.page)
    w.page.screenshot(path=str(artifacts / "report-laptop-light.png"), full_page=True)


def test_report_drill_down_links_open_the_rows(demo, watched):
    from playwright.sync_api import expect

    w = watched(viewport=LAPTOP)
    w.page.goto(demo.report.as_uri())
    link = w.page.locator("tr[data-key='team:Data'] [data-metric='lead_time'] a")
    link.click()
    target = w.page.locator("details#drill-lead-time-team-data")
    # The page opens it on `hashchange`, which fires after the click returns: wait for it.
    expect(target).to_have_attribute("open", "")
    rows = target.locator("tbody tr")
    assert rows.count() > 0 and rows.first.is_visible()
    services = set(target.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert services <= {"purger", "export-pipeline"}


def test_report_tables_and_charts_fit_their_place(demo, watched, artifacts):
    # Regression (issue 15): the action-item table's Source column was clipped behind a scroll bar, and
    # bar charts sat narrower than their card.
    w = watched(viewport=LAPTOP)
    w.page.goto(demo.report.as_uri())
    wrap = w.page.locator("#action-items-table").locator("xpath=..")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
    clipped = w.page.evaluate("""() => [...document.querySelectorAll('#action-items-table td:last-child')]
        .filter(td => td.scrollWidth > td.clientWidth).map(td => td.textContent)""")
    assert not clipped, clipped
    narrow = w.page.evaluate("""() => [...document.querySelectorAll('figure.chart')].map(f => {
        const s = getComputedStyle(f), inner = f.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        return [f.id, f.querySelector('svg').getBoundingClientRect().width, inner]; })
        .filter(([id, svg, inner]) => svg < 0.95 * inner)""")
    assert not narrow, narrow
    w.page.locator("#action-items").screenshot(path=str(artifacts / "report-action-items.png"))


def test_report_reads_on_a_phone_in_dark_mode(demo, watched, artifacts):
    w = watched(viewport=PHONE, color_scheme="dark", is_mobile=True, has_touch=True)
    w.page.goto(demo.report.as_uri())
    # Nothing wider than the screen but the tables, which scroll inside their own region.
    overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    background = w.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 23, 42)"
    assert not _contrast_failures(w.page)
    w.page.screenshot(path=str(artifacts / "report-phone-dark.png"))
    w.page.screenshot(path=str(artifacts / "report-phone-dark-full.png"), full_page=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(demo, tmp_path_factory):
    """`fireline serve` on a copy of the demo store (the server holds its DuckDB file's lock)."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "fireline.duckdb"
    shutil.copy(demo.db, db)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "fireline.cli", "serve", "--port", str(port), "--db", str(db),
                             "--config", str(demo.config)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait for it to answer (not a timed assertion: it just has to come up)
            if proc.poll() is not None:
                pytest.fail(f"fireline serve exited: {(folder / 'serve.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        # Pages are computed in the background (server/precompute.py); one not ready yet is a "computing…"
        # page that refreshes itself. Ask for the pages the tests open until they are ready.
        team = f"team=Data&{WINDOW_QUERY}"
        for path in (f"/?{WINDOW_QUERY}", f"/?{team}", f"/?{team}&profile=seed", f"/explain/time-to-restore?{team}",
                     f"/explain/time-to-restore?{team}&profile=seed"):  # the form sends the profile too
            for _ in range(600):
                try:
                    with urllib.request.urlopen(f"{base}{path}", timeout=60) as answer:
                        if answer.status == 200 and not answer.headers.get("X-Fireline-Stale"):
                            break
                except OSError:  # 503 while it is computed
                    time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_dashboard_filters_and_drills_down(served, demo, watched, artifacts):
    w = watched(viewport=LAPTOP)
    w.page.goto(f"{served}/?{WINDOW_QUERY}")
    _same(w.figures(), rs.expected_rows(demo.dora))
    w.page.screenshot(path=str(artifacts / "dashboard-laptop.png"), full_page=True)

    w.page.select_option("#f-team", "Data")
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="Apply").click()
    assert "team=Data" in w.page.url and "since=2026-01-05T00%3A00Z" in w.page.url
    _same(w.figures(), rs.expected_rows(demo.dora_data))
    shared = w.page.url

    with w.page.expect_navigation():
        w.page.locator("tr[data-key='all'] [data-metric='time_to_restore'] a").click()
    assert "/explain/time-to-restore" in w.page.url and "team=Data" in w.page.url
    assert w.page.locator("h2").first.inner_text() == "Time to restore"
    restored = demo.dora_data["overall"]["time_to_restore"]
    assert w.page.locator("tbody tr").count() == restored["count"] + restored.get("open", 0)
    w.page.screenshot(path=str(artifacts / "dashboard-drilldown.png"), full_page=True)

    with w.page.expect_navigation():
        w.page.get_by_role("link", name="Back to the overview").click()
    _same(w.figures(), rs.expected_rows(demo.dora_data))

    # A shared link shows the same view in a fresh browser, on a phone, in dark mode.
    phone = watched(viewport=PHONE, color_scheme="dark", is_mobile=True)
    phone.page.goto(shared)
    _same(phone.figures(), rs.expected_rows(demo.dora_data))
    assert phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    phone.page.screenshot(path=str(artifacts / "dashboard-phone-dark.png"))
