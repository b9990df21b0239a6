"""The dashboard in `fireline serve`: filters in the URL, drill-down pages, and read access by token
on a public address (on DuckDB and on a real PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fireline.server.app import create_app
from fireline.server.auth import READ_COOKIE, Secrets
from fireline.store import Store

from . import report_support as rs

WINDOW = "since=2026-03-01&until=2026-03-31"


@pytest.fixture
def small(store, tmp_path):
    return store, rs.small_store(store, tmp_path)


def _client(store, config, **kw) -> TestClient:
    secrets = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})
    open_store = store if callable(store) else (lambda: store)
    # Pages are computed in the background (precompute.py); a test waits for them rather than get the
    # "computing…" placeholder a busy machine might otherwise show.
    return TestClient(create_app(open_store, config, secrets=secrets, normaliser=False, page_wait=120, **kw),
                      follow_redirects=False)


def test_filters_in_the_url_change_the_figures(small):
    store, config = small
    with _client(store, config) as client:
        everything = client.get(f"/?{WINDOW}")
        red = client.get(f"/?{WINDOW}&team=Red")
    assert everything.status_code == red.status_code == 200
    assert "Content-Security-Policy" in everything.text and 'role="search"' in everything.text
    all_rows, red_rows = rs.figures(everything.text).rows, rs.figures(red.text).rows
    assert all_rows["all"]["deployment_frequency"] == pytest.approx(32 / 31)
    assert red_rows["all"]["deployment_frequency"] == pytest.approx(28 / 31)
    assert "team:Blue" in all_rows and "team:Blue" not in red_rows
    # The form shows the filters it was given, so the page can be refined and shared.
    assert '<option value="Red" selected>' in red.text and 'value="2026-03-31"' in red.text
    # Figures link to drill-down pages that keep the window.
    assert f'href="/explain/lead-time?{WINDOW.replace("&", "&amp;")}&amp;team=Red"' in red.text


def test_drill_down_pages_list_the_rows_behind_a_figure(small):
    store, config = small
    with _client(store, config) as client:
        page = client.get(f"/explain/change-failure-rate?{WINDOW}&service=web")
        unknown = client.get("/explain/happiness")
    assert page.status_code == 200
    assert "the 4 rows behind the figure for web" in page.text
    assert "INC-2" in page.text and "INC-1" not in page.text
    assert 'href="/?service=web&amp;since=2026-03-01&amp;until=2026-03-31"' in page.text  # back, same filters
    assert unknown.status_code == 400 and "unknown metric" in unknown.text


def test_bad_filters_show_the_form_and_what_is_wrong(small):
    store, config = small
    with _client(store, config) as client:
        response = client.get("/?team=Green")
    assert response.status_code == 400
    assert "unknown team &#39;Green&#39;" in response.text and 'role="alert"' in response.text


@pytest.fixture
def opener(tmp_path):
    """Each app opens its own connections to one DuckDB file (as `fireline serve` does)."""
    path = str(tmp_path / "fireline.duckdb")
    store = Store.open(path)
    config = rs.small_store(store, tmp_path)
    store.close()
    return (lambda: Store.open(path)), config


def test_a_public_address_needs_the_read_token(opener):
    open_store, config = opener
    with _client(open_store, config, host="0.0.0.0", dashboard_token="read-me") as client:
        assert client.get("/").status_code == 401
        assert client.get("/?token=wrong").status_code == 401
        assert client.get("/", headers={"authorization": "Bearer read-me"}).status_code == 200
        # A shared link with the token trades it for a cookie and drops it from the address.
        first = client.get(f"/?token=read-me&{WINDOW}&team=Red")
        assert first.status_code == 303 and first.headers["location"] == f"/?{WINDOW}&team=Red"
        assert READ_COOKIE in first.cookies
        again = client.get(first.headers["location"])
        assert again.status_code == 200 and "team Red" in again.text
        # The read token is not a write token.
        post = client.post("/events", json={}, headers={"authorization": "Bearer read-me"})
        assert post.status_code == 401
    with _client(open_store, config, host="0.0.0.0") as client:
        off = client.get("/")
        assert off.status_code == 403 and "FIRELINE_READ_TOKEN" in off.text
    with _client(open_store, config) as client:  # loopback: open, as before
        assert client.get(f"/?{WINDOW}").status_code == 200


def test_the_read_token_comes_from_the_environment(opener, monkeypatch):
    open_store, config = opener
    monkeypatch.setenv("FIRELINE_READ_TOKEN", "from-env")
    with _client(open_store, config, host="10.0.0.8") as client:
        assert client.get("/").status_code == 401
        assert client.get("/", headers={"authorization": "Bearer from-env"}).status_code == 200


def test_the_view_downloads_as_one_file(small):
    store, config = small
    with _client(store, config) as client:
        response = client.get(f"/report.html?{WINDOW}&team=Blue")
    assert response.status_code == 200 and "fireline-report.html" in response.headers["content-disposition"]
    assert "#drill-lead-time-team-blue" in response.text and 'role="search"' not in response.text


def test_pages_read_git_for_markers_again_only_after_the_data_changes(store, tmp_path, monkeypatch):
    """The debt section's marker scan (git ls-tree, cat-file, blame) runs in the background once per
    repository and store generation, not on every page; a new commit is on the pages once it is ingested."""
    from datetime import UTC, datetime

    from fireline.config import parse_config
    from fireline.debt import report as debt_report
    from fireline.ingest import ingest_git

    from .gitrepo import GitRepo

    scans: list[str] = []
    real_scan = debt_report.scan_repo

    def counted(path, **kw):
        scans.append(str(path))
        return real_scan(path, **kw)

    monkeypatch.setattr(debt_report, "scan_repo", counted)
    repo = GitRepo.create(tmp_path / "jobs")
    repo.commit("Start", datetime(2026, 1, 10, 12, tzinfo=UTC), {"purger/job.py": "# TODO: schedule\nrun()\n"})
    config = parse_config({"teams": {"Data": {"services": ["purger"]}},
                           "services": {"purger": {"repo": "jobs"}}}, source="fireline.toml", base_dir=tmp_path)
    ingest_git(store, config, repo.path)
    with _client(store, config) as client:
        first, again = client.get("/"), client.get("/?team=Data")
        assert first.status_code == again.status_code == 200
        assert "# TODO: schedule" in first.text and "# TODO: schedule" in again.text
        assert len(scans) == 1
        repo.commit("Sleep", datetime(2026, 2, 10, 12, tzinfo=UTC),
                    {"purger/job.py": "# TODO: schedule\nrun()\n# FIXME: sleep\n"})
        assert "# FIXME: sleep" not in client.get("/").text  # the store has not changed: the page is kept
        ingest_git(store, config, repo.path)
        after = client.get("/")
        assert "# FIXME: sleep" in after.text
        assert len(scans) == 2
        assert "# FIXME: sleep" in client.get("/report.html").text
        assert len(scans) == 2


def test_the_weekly_trend_lists_every_week_and_adds_up_to_the_window(small):
    # Issue 15: a week without deployments is a row in the dashboard's weekly table too, and the weeks'
    # deployments add up to the window's count.
    import re

    store, config = small
    with _client(store, config) as client:
        page = client.get("/?since=2026-03-02&until=2026-04-12").text
    part = page[page.index('id="trend-deployment-frequency"'):]
    part = part[:part.index("</figure>")]
    heads = re.findall(r'<th scope="col">([^<]*)', part)
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', part, re.S)
    assert [week for week, _ in rows] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30",
                                          "2026-04-06"]
    counts = [int(re.findall(r">([^<]*)</td>", cells)[heads.index("Deployments") - 1]) for _, cells in rows]
    assert counts[-2:] == [0, 0]  # the small store deploys until 28 March
    assert sum(counts) == 31 == pytest.approx(rs.figures(page).rows["all"]["deployment_frequency"] * 42)
