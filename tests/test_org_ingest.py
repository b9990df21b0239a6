"""Organisation ingestion: many repositories read in parallel worker processes, written by one process,
linked once and only for the services whose data changed, with the same links as a full rebuild."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline import normalise
from fireline.config import Config
from fireline.ingest import ingest_git, ingest_incidents, ingest_paths, rebuild
from fireline.store import Store, pending_raw_event

from .gitrepo import GitRepo
from .test_cli import fireline
from .test_ingest import INC_HEADER, write_csv

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = Config(deploy_tags=["v*"])


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def make(path: Path, commits: int, tag_every: int = 2, offset: float = 0) -> GitRepo:
    repo = GitRepo.create(path)
    for i in range(1, commits + 1):
        repo.commit(f"{path.name} {i}", h(offset + i), files={f"f{i % 3}.txt": f"{path.name} {i}\n"})
        if i % tag_every == 0:
            repo.tag(f"v{i}", when=h(offset + i + 0.5))
    return repo


def links(store: Store) -> list[tuple]:
    return sorted(store.query("SELECT deployment_id, service, repo, sha, baseline, via FROM deployment_changes"))


def incident_links(store: Store) -> list[tuple]:
    return sorted(store.query("SELECT incident_id, deployment_id, via FROM incident_deployments"))


def mark_links(store: Store, repo: str) -> None:
    """Stamp a repository's links, so a later relink that rewrote them would show."""
    with store.transaction() as tx:
        tx.execute("UPDATE deployment_changes SET via = 'untouched' WHERE repo = ?", [repo])


def vias(store: Store, repo: str) -> set[str]:
    return {r[0] for r in store.query("SELECT DISTINCT via FROM deployment_changes WHERE repo = ?", [repo])}


@pytest.fixture
def org(tmp_path) -> list[Path]:
    return [make(tmp_path / f"repo{n}", 6 + n, offset=n * 0.1).path for n in range(4)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_many_repositories_in_parallel_link_as_a_full_rebuild(store, org, jobs):
    outcomes = ingest_paths(store, CONFIG, org, jobs=jobs)
    assert [o.error for o in outcomes] == [None] * 4
    assert [o.result.new_changes for o in outcomes if o.result] == [6, 7, 8, 9]
    assert {r[0]: r[1] for r in store.query("SELECT repo, count(*) FROM deployment_changes GROUP BY repo")} == {
        "repo0": 6, "repo1": 6, "repo2": 8, "repo3": 8}
    before = links(store)
    rebuild(store, CONFIG)
    assert links(store) == before
    # Again: nothing new, nothing written.
    assert all(o.result and o.result.unchanged for o in ingest_paths(store, CONFIG, org, jobs=jobs))


def test_an_ingest_of_one_repository_leaves_the_others_links_alone(store, org, tmp_path):
    ingest_paths(store, CONFIG, org)
    mark_links(store, "repo1")
    repo0 = GitRepo(org[0])
    repo0.commit("more", h(50))
    repo0.tag("v50", when=h(50.5))
    ingest_git(store, CONFIG, org[0])
    assert vias(store, "repo1") == {"untouched"}  # not rewritten
    assert vias(store, "repo0") == {"ancestry"}
    assert store.query("SELECT deployment_id FROM deployment_changes WHERE sha = ?", [repo0.head()]) == [
        ("tag:repo0:v50",)]
    incremental = [row for row in links(store) if row[2] != "repo1"]
    incidents = incident_links(store)
    rebuild(store, CONFIG)
    assert vias(store, "repo1") == {"ancestry"}
    assert [row for row in links(store) if row[2] != "repo1"] == incremental
    assert incident_links(store) == incidents


def test_incident_links_follow_every_service_after_a_partial_relink(store, org, tmp_path):
    ingest_paths(store, CONFIG, org)
    cause = GitRepo(org[2]).head("v4^{commit}")
    write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["i1", "repo1", "down", h(5), None, h(6), "high", "customer", None],
        ["i2", "repo3", "slow", h(9), None, h(10), "high", "alert", cause[:10]],
    ])
    ingest_incidents(store, CONFIG, tmp_path / "inc.csv")
    assert incident_links(store) == [("i1", "tag:repo1:v4", "latest-before"), ("i2", "tag:repo2:v4", "cause-sha")]
    repo0 = GitRepo(org[0])
    repo0.commit("more", h(50))
    repo0.tag("v50", when=h(50.5))
    ingest_git(store, CONFIG, org[0])
    assert incident_links(store) == [("i1", "tag:repo1:v4", "latest-before"), ("i2", "tag:repo2:v4", "cause-sha")]


def test_a_normaliser_round_relinks_only_the_services_it_touched(store, org):
    ingest_paths(store, CONFIG, org)
    mark_links(store, "repo1")
    repo0 = GitRepo(org[0])
    sha = repo0.commit("hotfix", h(60))
    event = {"id": "ev-1", "type": "deployment", "service": "repo0", "sha": sha, "time": h(61).isoformat()}
    with store.transaction() as tx:
        tx.insert_values("raw_events", [pending_raw_event("events", "ev-1", "deployment", json.dumps(event),
                                                          datetime.now(UTC), None)])
    # The commit reaches the store from git (the event names a commit the store must know).
    ingest_git(store, CONFIG, org[0])
    mark_links(store, "repo1")
    assert normalise.normalise_pending(store, CONFIG) == 1
    assert vias(store, "repo1") == {"untouched"}
    assert store.query("SELECT deployment_id FROM deployment_changes WHERE sha = ?", [sha]) == [("ev-1",)]
    incremental = [row for row in links(store) if row[2] != "repo1"]
    rebuild(store, CONFIG)
    assert [row for row in links(store) if row[2] != "repo1"] == incremental


def broken(path: Path) -> Path:
    """A repository whose history cannot be read: a file's content is missing from its objects."""
    repo = make(path, 3)
    blob = repo.git("rev-parse", "HEAD~1:f2.txt")
    (path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return path


def test_one_broken_repository_does_not_lose_the_others(tmp_path, org):
    bad = broken(tmp_path / "bad")
    run = fireline(tmp_path, "ingest", "git", str(org[0]), str(bad), str(tmp_path / "nothing"), str(org[1]),
                   "--jobs", "2", "--deploy-tags", "v*")
    assert run.code == 1, run.stderr
    assert f"error: {bad}: git log failed" in " ".join(run.stderr.split())
    assert f"{tmp_path / 'nothing'}: no such directory" in " ".join(run.stderr.split())
    assert [line.split(":")[0] for line in run.stdout.splitlines()] == [str(org[0]), str(org[1])]
    with Store.open(str(tmp_path / "store" / "fireline.duckdb")) as store:
        assert sorted(r[0] for r in store.query("SELECT DISTINCT repo FROM changes")) == ["repo0", "repo1"]
        assert store.count("deployment_changes") == 6 + 6


def test_json_and_quiet(tmp_path, org):
    run = fireline(tmp_path, "ingest", "git", *map(str, org[:2]), "--json", "--deploy-tags", "v*")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)  # the whole of stdout is the JSON
    assert [(r["repo"], r["new_changes"]) for r in data["repositories"]] == [("repo0", 6), ("repo1", 7)]
    # Without a terminal, one plain progress line per repository on stderr; --quiet silences them.
    run = fireline(tmp_path, "ingest", "git", *map(str, org))
    assert sorted(run.stderr.splitlines()) == sorted(
        [f"unchanged: {org[0]}", f"unchanged: {org[1]}", f"read: {org[2]}", f"read: {org[3]}"])
    assert fireline(tmp_path, "ingest", "git", *map(str, org), "--quiet").stderr == ""


def test_the_same_repository_twice_in_one_run_is_named(tmp_path, org):
    other = make(tmp_path / "elsewhere" / "repo0", 2).path
    run = fireline(tmp_path, "ingest", "git", str(org[0]), str(other))
    assert run.code == 1
    assert "another repository named 'repo0' is in this run" in run.stderr


def test_service_needs_exactly_one_path(tmp_path, org):
    run = fireline(tmp_path, "ingest", "git", str(org[0]), str(org[1]), "--service", "x")
    assert run.code == 2 and "--service: applies to one repository" in run.stderr


def test_one_repository_says_when_it_starts_and_ends_reading_unless_quiet(tmp_path, org):
    run = fireline(tmp_path, "ingest", "git", str(org[0]), "--json")
    assert run.code == 0, run.stderr
    json.loads(run.stdout)  # the progress lines never reach stdout
    lines = run.stderr.splitlines()
    assert lines[0] == "reading commits (6) ..." and lines[1].startswith("reading commits: done in ")
    assert fireline(tmp_path, "ingest", "git", str(org[1]), "--quiet").stderr == ""
