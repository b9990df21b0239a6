"""Many writers on one PostgreSQL store lose no commit links.

Regression: ten `fireline ingest git` runs at once into one PostgreSQL store all exited 0
while a fifth of the commit-to-deployment links were missing: each ingest rewrote the link
tables from its own snapshot and the last writer won. The same held for the intake
server's normaliser running beside a CLI ingest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline import ingest, normalise
from fireline.config import Config
from fireline.store import Store, pending_raw_event

pytestmark = pytest.mark.postgres

REPOS = 10
COMMITS = 1200
TAG_EVERY = 100
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def make_repo(path: Path, seed: int) -> None:
    """A real repository written by `git fast-import`: a linear history tagged v1, v2, … every TAG_EVERY."""
    lines: list[str] = []
    for i in range(1, COMMITS + 1):
        when = int((START + timedelta(hours=i, minutes=seed)).timestamp())
        message = f"change {i} of repository {seed}\n"
        content = f"line {i}\n"
        lines += ["commit refs/heads/main", f"mark :{i}",
                  f"author Dev {seed} <dev{seed}@example.com> {when} +0000",
                  f"committer Dev {seed} <dev{seed}@example.com> {when} +0000",
                  f"data {len(message.encode())}", message.rstrip("\n"),
                  *([f"from :{i - 1}"] if i > 1 else []),
                  f"M 644 inline file{i % 7}.txt", f"data {len(content.encode())}", content.rstrip("\n"), ""]
        if i % TAG_EVERY == 0:
            lines += [f"reset refs/tags/v{i // TAG_EVERY}", f"from :{i}", ""]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    subprocess.run(["git", "fast-import", "--quiet"], input="\n".join(lines) + "\n", text=True, cwd=path,
                   check=True, env=env)


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("org")
    paths = []
    for n in range(REPOS):
        path = base / f"service{n}"
        make_repo(path, n)
        paths.append(path)
    return paths


def start_ingest(path: Path, db: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_CONFIG", "FIRELINE_DB")}
    return subprocess.Popen([sys.executable, "-m", "fireline.cli", "ingest", "git", str(path), "--deploy-tags", "v*",
                             "--db", db], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def links_by_repo(store: Store) -> dict[str, int]:
    return dict(store.query("SELECT repo, count(*) FROM deployment_changes GROUP BY repo ORDER BY repo"))


def test_ten_concurrent_git_ingests_keep_every_link(repos, pg_url, tmp_path):
    procs = [start_ingest(path, pg_url, tmp_path) for path in repos]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    store = Store.open(pg_url)
    try:
        # Every commit sits below its repository's last tag, so every commit is linked exactly once.
        assert links_by_repo(store) == {f"service{n}": COMMITS for n in range(REPOS)}
        before = sorted(store.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes"))
        ingest.rebuild(store, Config())
        assert sorted(store.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes")) == before
    finally:
        store.close()


def test_the_normaliser_beside_cli_ingests_keeps_every_link(repos, pg_url, tmp_path):
    """Deployments arrive as /events while the repositories are ingested: all of them end up linked."""
    config = Config()
    store = Store.open(pg_url)
    heads = [subprocess.run(["git", "rev-parse", f"v{COMMITS // TAG_EVERY}"], cwd=path, capture_output=True,
                            text=True, check=True).stdout.strip() for path in repos[:5]]
    # Each /events deployment ships its repository's last tagged commit, a day after the tag.
    events = [{"id": f"ev-{n}", "type": "deployment", "service": f"service{n}", "sha": sha,
               "time": (START + timedelta(hours=COMMITS + 24)).isoformat()} for n, sha in enumerate(heads)]
    stop = threading.Event()
    failures: list[BaseException] = []

    def normaliser() -> None:
        own = Store.open(pg_url)
        try:
            while not stop.is_set():
                if not normalise.normalise_pending(own, config):
                    stop.wait(0.05)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            own.close()

    worker = threading.Thread(target=normaliser)
    worker.start()
    try:
        procs = [start_ingest(path, pg_url, tmp_path) for path in repos[:5]]
        for event in events:
            with store.transaction() as tx:
                tx.insert_values("raw_events", [pending_raw_event("events", event["id"], "deployment",
                                                                  json.dumps(event), datetime.now(UTC), None)])
        for proc in procs:
            _out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
        while normalise.pending_count(store)[0]:
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=120)
    assert not failures, failures
    assert links_by_repo(store) == {f"service{n}": COMMITS for n in range(5)}
    linked = dict(store.query("SELECT deployment_id, count(*) FROM deployment_changes "
                              "WHERE deployment_id LIKE 'ev-%' GROUP BY deployment_id"))
    before = sorted(store.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes"))
    ingest.rebuild(store, config)
    after = sorted(store.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes"))
    store.close()
    assert before == after
    # The events deployed commits already shipped by tags: they bring nothing new, and say so.
    assert linked == {}


def test_organisation_ingests_from_several_processes_at_once_keep_every_link(repos, pg_url, pg_server, tmp_path):
    """Several hosts each ingest some of an organisation's repositories (`ingest git A B --jobs 2`) into one
    PostgreSQL store at once: the links equal a clean sequential ingest followed by a rebuild."""
    import uuid

    import psycopg

    from fireline.metrics.explain import explain
    from fireline.metrics.scope import Scope

    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_CONFIG", "FIRELINE_DB")}
    groups = [repos[i:i + 2] for i in range(0, REPOS, 2)]
    procs = [subprocess.Popen([sys.executable, "-m", "fireline.cli", "ingest", "git", *map(str, group),
                               "--jobs", "2", "--deploy-tags", "v*", "--db", pg_url], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for group in groups]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err

    clean = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {clean}")
    sequential = Store.open(pg_server.rsplit("/", 1)[0] + f"/{clean}")
    try:
        for path in repos:
            ingest.ingest_git(sequential, Config(), path, deploy_tags="v*")
        ingest.rebuild(sequential, Config())
        expected = sorted(sequential.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes"))
    finally:
        sequential.close()

    store = Store.open(pg_url)
    try:
        assert links_by_repo(store) == {f"service{n}": COMMITS for n in range(REPOS)}
        assert sorted(store.query("SELECT deployment_id, repo, sha, baseline FROM deployment_changes")) == expected
        scope = Scope(since=START, until=START + timedelta(days=365))
        rows = explain(store.tables(), "lead_time", scope).rows
        with_lead = {r["service"] for r in rows if r["lead_hours"] is not None}
        assert with_lead == {f"service{n}" for n in range(REPOS)}  # lead time n > 0 for every repository
    finally:
        store.close()
