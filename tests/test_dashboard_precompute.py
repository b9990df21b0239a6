"""Dashboard pages are computed in the background per store generation: a request never runs git
(the repositories' working trees may even be gone), pages are those the report code builds directly,
and a page not computed yet is a "computing…" page (or the previous generation's), never a wait on git."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from fireline.config import parse_config
from fireline.debt.report import ScanCache
from fireline.ingest import ingest_git
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.server.dashboard import Reader, Rendered, build_page, page_key
from fireline.server.precompute import GenerationScans, Precompute
from fireline.store import Store

from .gitrepo import GitRepo

SECRETS = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})
PAGES = [("/", {}), ("/", {"team": "Data"}), ("/", {"service": "purger", "since": "2026-01-01", "until": "2026-02-28"}),
         ("/report.html", {}), ("/explain/lead-time", {"team": "Data"}), ("/explain/happiness", {})]


@pytest.fixture
def jobs(tmp_path):
    """A repository with markers, ingested into a DuckDB file; the config fixes "now"."""
    repo = GitRepo.create(tmp_path / "jobs")
    repo.commit("Start", datetime(2026, 1, 10, 12, tzinfo=UTC), {"purger/job.py": "# TODO: schedule\nrun()\n"})
    repo.tag("v1", when=datetime(2026, 1, 11, 12, tzinfo=UTC))
    repo.commit("Sleep", datetime(2026, 2, 10, 12, tzinfo=UTC),
                {"purger/job.py": "# TODO: schedule\nrun()\n# FIXME: sleep\n"})
    repo.tag("v2", when=datetime(2026, 2, 11, 12, tzinfo=UTC))
    config = parse_config({"at": "2026-03-01", "teams": {"Data": {"services": ["purger"]}},
                           "services": {"purger": {"repo": "jobs", "deploy_tags": "v*"}}},
                          source="fireline.toml", base_dir=tmp_path)
    db = str(tmp_path / "fireline.duckdb")
    with Store.open(db) as store:
        ingest_git(store, config, repo.path)
    return repo, config, db


class GitCalls:
    """Every git process started in this test process, with the thread that started it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        real = subprocess.Popen.__init__
        calls = self.calls

        def counted(popen, args, *a, **kw):
            argv = [str(x) for x in (args if isinstance(args, list | tuple) else [args])]
            if argv and argv[0].endswith("git"):
                calls.append((threading.current_thread().name, argv))
            return real(popen, args, *a, **kw)

        monkeypatch.setattr(subprocess.Popen, "__init__", counted)


def test_a_request_never_runs_git_and_the_pages_are_those_built_directly(jobs, monkeypatch):
    repo, config, db = jobs
    with Store.open(db) as store:
        direct = {(path, tuple(sorted(q.items()))): build_page(store, config, page_key(path, q), ScanCache())
                  for path, q in PAGES}
    assert "# FIXME: sleep" in direct[("/", ())].html
    app = create_app(lambda: Store.open(db), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=300)
        for path, q in PAGES:  # asked once: computed, in the background
            client.get(path, params=q)
        assert pages.wait_idle(timeout=300)
        git = GitCalls(monkeypatch)
        # The working tree goes away: a page that read it now would say so ("… is gone").
        repo.path.rename(repo.path.with_name("moved"))
        for path, q in PAGES:
            response = client.get(path, params=q)
            expected = direct[(path, tuple(sorted(q.items())))]
            assert response.status_code == expected.status, path
            assert response.text == expected.html, (path, q)
            assert response.headers["x-fireline-generation"] == str(pages.generation())
        assert git.calls == []


def test_git_runs_only_in_the_background_worker_once_per_generation(jobs, monkeypatch):
    _, config, db = jobs
    git = GitCalls(monkeypatch)
    app = create_app(lambda: Store.open(db), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=300)
        for path, q in PAGES:
            assert client.get(path, params=q).status_code in (200, 400)
        before = len(git.calls)
        # The worker, or the threads it starts each round to scan the markers while it computes the figures
        # (named after it: fireline-prefetch, fireline-prefetch-scans and its threads per repository).
        assert before and all(thread.startswith(("fireline-precompute", "fireline-prefetch"))
                              for thread, _ in git.calls), {thread for thread, _ in git.calls}
        for path, q in PAGES:  # the same pages again: served as they were
            client.get(path, params=q)
        assert len(git.calls) == before


def _worker(db: str, build, wait: float, **options) -> Precompute:
    lock = threading.Lock()
    reader = Reader(lambda: Store.open(db), lambda: None, lock)
    return Precompute(lambda: Store.open(db), lambda: None, lock, reader, build, wait=wait, poll=0.05, **options)


def test_a_page_not_computed_yet_is_a_computing_page_then_the_previous_generation(jobs):
    _, _, db = jobs
    gate = threading.Event()

    def build(store, key, scans) -> Rendered:
        assert gate.wait(60)
        return Rendered(200, f"page of generation {store.generation()}")

    worker = _worker(db, build, wait=0.05)
    g = worker.generation()  # the ingest above already moved it
    worker.start()
    try:
        first = worker.serve(("/", ()))  # the worker is still on its first page
        assert first.status_code == 503 and first.headers["retry-after"] == "2"
        assert b'http-equiv="refresh"' in first.body
        gate.set()
        assert worker.wait_for(g, timeout=60)
        ready = worker.serve(("/", ()))
        assert ready.status_code == 200 and ready.body == f"page of generation {g}".encode()
        gate.clear()
        with Store.open(db) as store, store.transaction() as tx:  # the data changes
            tx.execute("DELETE FROM incidents")
        stale = worker.serve(("/", ()))  # the new generation's page is held up: the last one is served
        assert stale.status_code == 200 and stale.body == f"page of generation {g}".encode()
        assert "x-fireline-stale" in stale.headers
        gate.set()
        assert worker.wait_for(g + 1, timeout=60)
        fresh = worker.serve(("/", ()))
        assert fresh.body == f"page of generation {g + 1}".encode() and "x-fireline-stale" not in fresh.headers
    finally:
        gate.set()
        worker.stop()


def _serve_once(config, db: str) -> str:
    """Start the server, let it compute its pages (kept in the store as it goes), stop it; the overview."""
    app = create_app(lambda: Store.open(db), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=300) and pages.wait_idle(timeout=300)
        return client.get("/").text


def test_a_restart_on_an_unchanged_store_serves_the_kept_pages_at_once_without_git(jobs, monkeypatch):
    repo, config, db = jobs
    with Store.open(db) as store:
        direct = {(path, tuple(sorted(q.items()))): build_page(store, config, page_key(path, q), ScanCache())
                  for path, q in [("/", {}), ("/", {"team": "Data"}), ("/explain/lead-time", {})]}
    assert _serve_once(config, db) == direct[("/", ())].html
    # The working tree goes away: a page computed now would say so ("… is gone") instead of its markers.
    repo.path.rename(repo.path.with_name("moved"))
    git = GitCalls(monkeypatch)
    app = create_app(lambda: Store.open(db), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        first = client.get("/")  # the very first request: the overview itself, not "computing…"
        assert first.status_code == 200 and first.text == direct[("/", ())].html
        assert "# FIXME: sleep" in first.text
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=300) and pages.wait_idle(timeout=300)
        for (path, items), expected in direct.items():  # each team's overview and the drill-downs too
            response = client.get(path, params=dict(items))
            assert response.text == expected.html and "x-fireline-stale" not in response.headers, path
        assert pages.computed == 0 and pages.loaded >= 3
    assert git.calls == []


def test_a_store_changed_while_the_server_was_down_is_computed_again_never_served_stale(jobs, tmp_path):
    _, config, db = jobs
    before = _serve_once(config, db)
    # Another process changes the store (as `fireline ingest` does while no server runs): this process's
    # count of writes does not move, only the data does.
    subprocess.run([sys.executable, "-c", "import sys; from fireline.store import Store\n"
                    "with Store.open(sys.argv[1]) as s, s.transaction() as tx:\n"
                    "    tx.execute(\"DELETE FROM deployments WHERE ref LIKE '%v2'\")", db], check=True)
    with Store.open(db) as store:
        assert store.count("deployments") == 1
        changed = build_page(store, config, page_key("/", {}), ScanCache())
    assert changed.html != before
    app = create_app(lambda: Store.open(db), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        first = client.get("/")
        assert first.status_code == 200 and first.text == changed.html
        assert app.state.precompute.loaded == 0


def test_the_metrics_jobs_run_right_after_the_overview_whatever_pages_requests_ask_for(jobs):
    _, _, db = jobs
    gate, order = threading.Event(), []

    def build(store, key, scans) -> Rendered:
        assert gate.wait(60)
        order.append(key)
        return Rendered(200, "page")

    worker = _worker(db, build, wait=0.01, jobs=[lambda store: order.append("jobs")])
    worker.start()
    try:
        worker.serve(("/", ()))  # the overview is being computed...
        for team in ("A", "B", "/"):  # ...while people ask for other pages, and for the overview again
            worker.serve(("/", (("team", team),)) if team != "/" else ("/", ()))
        gate.set()
        assert worker.wait_idle(timeout=60)
        assert order[:2] == [("/", ()), "jobs"], order  # /metrics is not held off by the pages asked for
        assert {("/", (("team", "A"),)), ("/", (("team", "B"),))} <= set(order[2:])
    finally:
        gate.set()
        worker.stop()


def test_a_round_starts_with_the_overview_even_when_requests_came_first(jobs):
    """Regression: on a loaded machine, requests for other pages could reach the queue before the worker
    began its first round, and that round computed them before the overview and the /metrics jobs."""
    _, _, db = jobs
    order: list = []

    def build(store, key, scans) -> Rendered:
        order.append(key)
        return Rendered(200, "page")

    worker = _worker(db, build, wait=0.01, jobs=[lambda store: order.append("jobs")])
    for key in [("/", ()), ("/", (("team", "A"),)), ("/", (("team", "B"),))]:  # before the worker's first round
        worker.serve(key)
    worker.start()
    try:
        assert worker.wait_idle(timeout=60)
        assert order[:2] == [("/", ()), "jobs"], order
        assert order[2:4] == [("/", (("team", "B"),)), ("/", (("team", "A"),))]  # then the requests, newest first
    finally:
        worker.stop()


def test_a_kept_page_as_of_now_is_served_only_while_a_running_server_would_serve_it(tmp_path):
    """Without `at` a page is "as of now": one kept longer ago than the refresh interval is computed again."""
    from datetime import timedelta

    from fireline.server.kept import keeper_for
    from fireline.server.precompute import REFRESH_SECONDS
    from fireline.store import pages as kept_pages

    fixed = keeper_for(parse_config({"at": "2026-03-01"}, source="fireline.toml", base_dir=tmp_path), REFRESH_SECONDS)
    now = keeper_for(parse_config({}, source="fireline.toml", base_dir=tmp_path), REFRESH_SECONDS)
    assert fixed.max_age is None and now.max_age == REFRESH_SECONDS and fixed.context != now.context
    with Store.open(str(tmp_path / "f.duckdb")) as store:
        assert now.open(store)
        version = now.version(store)
        old = datetime.now(UTC) - timedelta(seconds=2 * REFRESH_SECONDS)
        for keeper in (fixed, now):
            kept_pages.keep(store, version, keeper.context, ('["/", []]', old, 200, "[]", "<p>old</p>"))
            loaded = keeper.load(store, version)
            assert [(key, page.html) for key, page, _ in loaded] == ([(("/", ()), "<p>old</p>")]
                                                                     if keeper is fixed else [])
        now.save(store, version, ("/", (("team", "Data"),)), Rendered(200, "<p>fresh</p>", (("X-A", "b"),)))
        assert [(key, page) for key, page, _ in now.load(store, version)] == [
            (("/", (("team", "Data"),)), Rendered(200, "<p>fresh</p>", (("X-A", "b"),)))]


@pytest.mark.postgres
def test_on_postgresql_a_restart_serves_the_kept_pages_and_a_write_elsewhere_is_seen(jobs, pg_url, monkeypatch):
    """PostgreSQL's generation is a sequence every process moves: it is the pages' data version there."""
    repo, config, _ = jobs
    with Store.open(pg_url) as store:
        ingest_git(store, config, repo.path)
        direct = build_page(store, config, page_key("/", {}), ScanCache())
    assert _serve_once(config, pg_url) == direct.html
    git = GitCalls(monkeypatch)
    app = create_app(lambda: Store.open(pg_url), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        assert client.get("/").text == direct.html and app.state.precompute.loaded >= 1
    assert git.calls == []
    subprocess.run([sys.executable, "-c", "import sys; from fireline.store import Store\n"
                    "with Store.open(sys.argv[1]) as s, s.transaction() as tx:\n"
                    "    tx.execute(\"DELETE FROM deployments WHERE ref LIKE '%v2'\")", pg_url], check=True)
    with Store.open(pg_url) as store:
        changed = build_page(store, config, page_key("/", {}), ScanCache())
    app = create_app(lambda: Store.open(pg_url), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        assert client.get("/").text == changed.html != direct.html
        assert app.state.precompute.loaded == 0


def test_the_overview_is_served_while_the_other_pages_are_still_being_computed(jobs):
    _, _, db = jobs
    others, order = threading.Event(), []

    def build(store, key, scans) -> Rendered:
        if key != ("/", ()):
            assert others.wait(60)
        order.append(key)
        return Rendered(200, f"page {key}")

    team, drill = ("/", (("team", "Data"),)), ("/explain/lead-time", ())
    worker = _worker(db, build, wait=0.01, warm=lambda: [team, drill])
    worker.start()
    try:
        assert worker.wait_for(worker.generation(), timeout=60)  # the overview's round, before any other page
        assert order == [("/", ())]
        assert worker.serve(("/", ())).status_code == 200
        assert worker.serve(team).status_code == 503 and worker.serve(drill).status_code == 503
        others.set()
        assert worker.wait_idle(timeout=60)
        assert worker.serve(team).status_code == 200 and worker.serve(drill).status_code == 200
    finally:
        others.set()
        worker.stop()


def test_a_scan_asked_by_two_threads_at_once_reads_git_once(jobs, monkeypatch):
    """The round's marker scans start in a thread beside the overview's figures; the overview, asking for
    the same scan meanwhile, waits for it instead of reading git again."""
    repo, _, _ = jobs
    git = GitCalls(monkeypatch)
    scans = GenerationScans(ScanCache())
    results: list[object] = []

    def scan() -> None:
        results.append(scans.scan(repo.path, repo="jobs", words=["TODO", "FIXME"], max_bytes=1_000_000))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert scans.scans == 1 and git.calls
    assert {m.text for m in results[0].markers} == {"# TODO: schedule", "# FIXME: sleep"}
