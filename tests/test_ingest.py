"""Ingestion into a real store (DuckDB and PostgreSQL): incremental, idempotent, all or nothing."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline.config import parse_config
from fireline.errors import UserError
from fireline.ingest import ingest_deployments, ingest_git, ingest_incidents, rebuild
from fireline.metrics.explain import explain
from fireline.metrics.scope import Scope
from fireline.store import TABLES

from .gitrepo import GitRepo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Scope(since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC))
DEP_HEADER = ["id", "time", "service", "environment", "sha", "status", "type"]
INC_HEADER = ["id", "service", "title", "started", "detected", "resolved", "severity", "detected_by", "cause"]


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in row])
    return path


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table, so 'nothing changed' can be checked exactly."""
    return {t: sorted(store.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def count(store, table: str) -> int:
    return store.query(f"SELECT count(*) FROM {table}")[0][0]


def duplicates(store) -> list[tuple]:
    return store.query("SELECT repo, sha, count(*) FROM changes GROUP BY repo, sha HAVING count(*) > 1")


def linear(repo: GitRepo, n: int, start: float = 0, prefix: str = "c") -> list[str]:
    return [repo.commit(f"{prefix}{i}", h(start + i), files={f"{prefix}{i}.txt": f"{prefix}{i}\n"})
            for i in range(n)]


# ---- git: incremental ----------------------------------------------------------------------

def test_git_reingest_reads_only_new_commits(store, repo, config):
    linear(repo, 3)
    first = ingest_git(store, config, repo.path)
    assert first.new_changes == 3
    assert not first.unchanged

    linear(repo, 2, start=10, prefix="more")
    second = ingest_git(store, config, repo.path)
    assert second.new_changes == 2
    assert count(store, "changes") == 5

    third = ingest_git(store, config, repo.path)
    assert third.unchanged is True
    assert third.new_changes == 0
    assert count(store, "changes") == 5
    assert duplicates(store) == []


def test_git_unchanged_rerun_writes_nothing(store, repo, config):
    linear(repo, 3)
    repo.tag("v1", when=h(5))
    ingest_git(store, config, repo.path, deploy_tags="v*")
    before = snapshot(store)
    again = ingest_git(store, config, repo.path, deploy_tags="v*")
    assert again.unchanged is True
    assert again.new_changes == 0 and again.new_deployments == 0
    assert snapshot(store) == before


def test_git_new_branch_commits_are_read(store, repo, config):
    linear(repo, 2)
    ingest_git(store, config, repo.path)
    repo.git("checkout", "-q", "-b", "feature")
    linear(repo, 3, start=5, prefix="feat")
    result = ingest_git(store, config, repo.path)
    assert result.new_changes == 3
    assert count(store, "changes") == 5


@pytest.mark.parametrize("gc", [False, True], ids=["old-commits-kept", "old-commits-pruned"])
def test_force_push_does_not_duplicate_rows(store, repo, config, gc):
    base = linear(repo, 2)
    old = linear(repo, 2, start=2, prefix="old")
    ingest_git(store, config, repo.path)
    assert count(store, "changes") == 4

    # Rewrite the branch: drop the last two commits, make two different ones.
    repo.git("reset", "-q", "--hard", base[-1])
    linear(repo, 2, start=3, prefix="new")
    if gc:
        repo.git("reflog", "expire", "--expire=now", "--all")
        repo.git("gc", "-q", "--prune=now")
        with pytest.raises(RuntimeError):  # the rewritten-away commits are really gone
            repo.git("cat-file", "-e", old[-1])

    result = ingest_git(store, config, repo.path)
    assert result.new_changes == 2
    assert duplicates(store) == []
    shas = {r[0] for r in store.query("SELECT sha FROM changes")}
    assert set(repo.git("rev-list", "HEAD").split()) <= shas
    assert count(store, "changes") == 6  # the two rewritten-away commits stay as history

    assert ingest_git(store, config, repo.path).unchanged is True


def test_new_tag_on_known_commits_adds_a_deployment(store, repo, config):
    linear(repo, 3)
    repo.tag("v1", "HEAD~1", when=h(4))
    first = ingest_git(store, config, repo.path, deploy_tags="v*")
    assert (first.new_changes, first.new_deployments) == (3, 1)
    repo.tag("v2", when=h(6))
    second = ingest_git(store, config, repo.path, deploy_tags="v*")
    assert not second.unchanged
    assert (second.new_changes, second.new_deployments) == (0, 1)
    assert count(store, "deployments") == 2
    assert count(store, "changes") == 3


def test_shallow_clone_ingests_with_a_warning(duck, tmp_path, config):
    source = GitRepo.create(tmp_path / "upstream")
    linear(source, 8)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "5", f"file://{source.path}", str(clone)],
                   check=True, capture_output=True)
    result = ingest_git(duck, config, clone)
    assert result.new_changes == 5
    assert any("shallow" in w.lower() for w in result.warnings), result.warnings
    assert count(duck, "changes") == 5
    assert duck.query("SELECT shallow FROM repos")[0][0] is True


def test_bare_repository_is_ingested(duck, tmp_path, config):
    """`fireline ingest git` takes a work tree or a bare repository (a CI mirror, a server-side clone)."""
    source = GitRepo.create(tmp_path / "upstream")
    linear(source, 3)
    source.tag("v1", when=h(4))
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source.path), str(bare)], check=True,
                   capture_output=True)
    result = ingest_git(duck, config, bare, deploy_tags="v*")
    assert (result.new_changes, result.new_deployments) == (3, 1)
    assert duck.query("SELECT repo FROM repos") == [("mirror",)]


# ---- files: idempotent ---------------------------------------------------------------------

def test_same_deployments_file_twice_adds_nothing(store, repo, tmp_path, config):
    c = linear(repo, 3)
    ingest_git(store, config, repo.path, service="svc")
    path = write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", h(1.5), "svc", "production", c[1], "success", ""],
        ["d2", h(5), "svc", "production", c[2], "success", ""],
    ])
    first = ingest_deployments(store, config, path)
    assert first.new_deployments == 2
    before = {t: count(store, t) for t in ("deployments", "raw_events", "deployment_changes")}
    second = ingest_deployments(store, config, path)
    assert second.new_deployments == 0
    assert {t: count(store, t) for t in before} == before


def test_same_deployments_file_without_ids_twice_adds_nothing(store, repo, tmp_path, config):
    c = linear(repo, 2)
    ingest_git(store, config, repo.path, service="svc")
    path = tmp_path / "deps.csv"
    path.write_text(f"time,service,sha\n{h(3).isoformat()},svc,{c[0]}\n{h(4).isoformat()},svc,{c[1]}\n")
    assert ingest_deployments(store, config, path).new_deployments == 2
    copy = tmp_path / "copy-of-deps.csv"
    copy.write_bytes(path.read_bytes())
    assert ingest_deployments(store, config, copy).new_deployments == 0
    assert count(store, "deployments") == 2
    assert count(store, "raw_events") == 2


def test_same_incidents_file_twice_adds_nothing(store, tmp_path, config):
    path = write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["INC-1", "svc", "Disk full", h(2), h(2.5), h(4), "sev1", "customer", ""],
        ["INC-2", "svc", "Slow", h(30), None, None, "sev3", "alert", ""],
    ])
    assert ingest_incidents(store, config, path).new_incidents == 2
    before = {t: count(store, t) for t in ("incidents", "raw_events", "incident_deployments")}
    again = ingest_incidents(store, config, path)
    assert again.new_incidents == 0
    assert {t: count(store, t) for t in before} == before


def test_github_issues_from_two_repositories_are_both_kept(store, tmp_path, config):
    """Issue numbers are per repository: issue #1 of `shop` and issue #1 of `billing` are two incidents."""
    for repo_name in ("shop", "billing"):
        issues = [{
            "number": 1, "title": f"{repo_name} is down", "labels": [{"name": "incident"}],
            "created_at": h(1).isoformat(), "closed_at": h(2).isoformat(), "body": "",
            "url": f"https://api.github.com/repos/octo-org/{repo_name}/issues/1",
            "repository_url": f"https://api.github.com/repos/octo-org/{repo_name}",
        }]
        (tmp_path / f"{repo_name}.json").write_text(json.dumps(issues))
        result = ingest_incidents(store, config, tmp_path / f"{repo_name}.json")
        assert result.new_incidents == 1, repo_name
    assert sorted(r[0] for r in store.query("SELECT service FROM incidents")) == ["billing", "shop"]


def test_naive_times_are_stored_in_utc_from_the_configured_zone(store, repo, tmp_path):
    c = linear(repo, 1)
    config = parse_config({"timezone": "Asia/Kolkata"}, source="test", base_dir=tmp_path)
    ingest_git(store, config, repo.path, service="svc")
    path = tmp_path / "deps.csv"
    path.write_text(f"id,time,service,sha\nd1,2026-03-02T15:30:00,svc,{c[0]}\n"
                    f"d2,2026-03-02T15:30:00+00:00,svc,{c[0]}\n")
    ingest_deployments(store, config, path)
    times = dict(store.query("SELECT id, time FROM deployments"))
    assert times["d1"] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 15:30 IST
    assert times["d2"] == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # an explicit offset wins


# ---- one transaction per ingest -----------------------------------------------------------

def _seed(store, repo, tmp_path, config) -> list[str]:
    c = linear(repo, 4)
    ingest_git(store, config, repo.path, service="svc")
    ingest_deployments(store, config, write_csv(tmp_path / "first.csv", DEP_HEADER, [
        ["d0", h(0.5), "svc", "production", c[0], "success", ""],
    ]))
    ingest_incidents(store, config, write_csv(tmp_path / "first-inc.csv", INC_HEADER, [
        ["INC-0", "svc", "old", h(0.7), None, h(0.9), "", "", ""],
    ]))
    return c


def test_bad_deployments_line_leaves_store_untouched(store, repo, tmp_path, config):
    c = _seed(store, repo, tmp_path, config)
    before = snapshot(store)
    path = write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", h(1.5), "svc", "production", c[1], "success", ""],
        ["d2", "not a time", "svc", "production", c[2], "success", ""],
        ["d3", h(5), "svc", "production", c[3], "success", ""],
    ])
    with pytest.raises(UserError) as info:
        ingest_deployments(store, config, path)
    assert f"{path}:3" in str(info.value)
    assert snapshot(store) == before


def test_bad_incidents_line_leaves_store_untouched(store, repo, tmp_path, config):
    _seed(store, repo, tmp_path, config)
    before = snapshot(store)
    path = write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["INC-1", "svc", "fine", h(2), None, h(3), "", "", ""],
        ["INC-2", "svc", "backwards", h(5), None, h(4), "", "", ""],
    ])
    with pytest.raises(UserError) as info:
        ingest_incidents(store, config, path)
    assert f"{path}:3" in str(info.value)
    assert snapshot(store) == before


def _mixed_zone_incidents(tmp_path: Path) -> Path:
    # Started at 10:00 UTC; resolved at 12:00 *local* time, which in Kolkata is 06:30 UTC: before it started.
    return write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["INC-1", "svc", "fine", "2026-03-02T08:00:00+00:00", None, "2026-03-02T09:00:00+00:00", "", "", ""],
        ["INC-2", "svc", "backwards", "2026-03-02T10:00:00+00:00", None, "2026-03-02T12:00:00", "", "", ""],
    ])


def test_resolved_before_started_in_configured_zone_leaves_store_untouched(store, repo, tmp_path):
    config = parse_config({"timezone": "Asia/Kolkata"}, source="test", base_dir=tmp_path)
    _seed(store, repo, tmp_path, config)
    before = snapshot(store)
    with pytest.raises(UserError):
        ingest_incidents(store, config, _mixed_zone_incidents(tmp_path))
    assert snapshot(store) == before


def test_resolved_before_started_in_configured_zone_names_the_line(duck, tmp_path):
    config = parse_config({"timezone": "Asia/Kolkata"}, source="test", base_dir=tmp_path)
    path = _mixed_zone_incidents(tmp_path)
    with pytest.raises(UserError) as info:
        ingest_incidents(duck, config, path)
    message = str(info.value)
    assert "resolved" in message
    assert f"{path}:3" in message, message


# ---- which deployments count ----------------------------------------------------------------

def _linked(store) -> dict[str, str]:
    return {sha: dep for dep, sha in store.query("SELECT deployment_id, sha FROM deployment_changes")}


def test_only_successful_production_deployments_count(store, repo, tmp_path, config):
    c = linear(repo, 5)
    ingest_git(store, config, repo.path, service="svc")
    ingest_deployments(store, config, write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", h(1.5), "svc", "production", c[1], "success", ""],
        ["d2", h(2.5), "svc", "production", c[2], "failed", ""],
        ["d3", h(3.5), "svc", "staging", c[3], "success", ""],
        ["d4", h(5), "svc", "production", c[4], "success", ""],
    ]))
    # Every deployment is kept ...
    assert {r[0] for r in store.query("SELECT id FROM deployments")} == {"d1", "d2", "d3", "d4"}
    # ... but commits ship with d1 and d4 only.
    assert _linked(store) == {c[0]: "d1", c[1]: "d1", c[2]: "d4", c[3]: "d4", c[4]: "d4"}
    counted = [r["deployment_id"] for r in explain(store.tables(), "deployment_frequency", WINDOW).rows]
    assert counted == ["d1", "d4"]
    # An incident after the failed and the staging deployment hits the last one that counted.
    ingest_incidents(store, config, write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["INC-1", "svc", "down", h(4), None, h(4.5), "", "", ""],
    ]))
    assert store.query("SELECT incident_id, deployment_id FROM incident_deployments") == [("INC-1", "d1")]
    leads = {r["sha"]: r["lead_seconds"] / 3600 for r in explain(store.tables(), "lead_time", WINDOW).rows}
    assert leads == {c[2]: 3.0, c[3]: 2.0, c[4]: 1.0}


def test_production_environment_name_is_configurable(store, repo, tmp_path):
    config = parse_config({"production_environments": ["prod"]}, source="test", base_dir=tmp_path)
    c = linear(repo, 3)
    ingest_git(store, config, repo.path, service="svc")
    ingest_deployments(store, config, write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", h(0.5), "svc", "prod", c[0], "success", ""],
        ["d2", h(1.5), "svc", "production", c[1], "success", ""],
        ["d3", h(3), "svc", "PROD", c[2], "success", ""],
    ]))
    assert _linked(store) == {c[0]: "d1", c[1]: "d3", c[2]: "d3"}
    scope = Scope(since=WINDOW.since, until=WINDOW.until, production=("prod",))
    counted = [r["deployment_id"] for r in explain(store.tables(), "deployment_frequency", scope).rows]
    assert counted == ["d1", "d3"]


def test_deployment_of_unknown_commit_is_reported(store, repo, tmp_path, config):
    c = linear(repo, 2)
    ingest_git(store, config, repo.path, service="svc")
    result = ingest_deployments(store, config, write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", h(1.5), "svc", "production", c[1], "success", ""],
        ["ghost", h(3), "svc", "production", "f" * 40, "success", ""],
    ]))
    assert result.new_deployments == 2
    assert result.unresolved_deployments == ["ghost"]


# ---- rebuild -------------------------------------------------------------------------------

def test_rebuild_rederives_the_same_links(store, repo, tmp_path):
    config = parse_config({"timezone": "Europe/Berlin"}, source="test", base_dir=tmp_path)
    c = linear(repo, 6)
    repo.tag("v1", c[0], when=h(0.5))
    ingest_git(store, config, repo.path, service="svc", deploy_tags="v*")
    # Naive local times (Berlin, UTC+1 in March), so rebuild must read them in the same zone.
    local = lambda hours: (h(hours) + timedelta(hours=1)).replace(tzinfo=None).isoformat()  # noqa: E731
    ingest_deployments(store, config, write_csv(tmp_path / "deps.csv", DEP_HEADER, [
        ["d1", local(1.5), "svc", "production", c[1], "success", ""],
        ["d2", local(2.5), "svc", "staging", c[2], "success", ""],
        ["d3", local(3.5), "svc", "production", c[3], "success", "hotfix"],
        ["d4", local(6), "svc", "production", c[5], "success", ""],
    ]))
    issues = [{
        "number": 7, "title": "Broken", "labels": [{"name": "incident"}, {"name": "service:svc"}],
        "created_at": h(5).isoformat(), "closed_at": h(5.5).isoformat(),
        "body": f"root cause: {c[2][:10]}", "repository_url": "https://api.github.com/repos/o/svc",
    }]
    (tmp_path / "issues.json").write_text(json.dumps(issues))
    ingest_incidents(store, config, tmp_path / "issues.json")
    ingest_incidents(store, config, write_csv(tmp_path / "inc.csv", INC_HEADER, [
        ["INC-1", "svc", "down", local(4), None, local(4.5), "", "", ""],
    ]))

    before = snapshot(store)
    assert before["incident_deployments"]  # there is something to re-derive
    assert len(before["deployment_changes"]) == 6

    # A parser fix would change these tables; wipe them to prove rebuild brings them back.
    with store.transaction() as tx:
        tx.execute("DELETE FROM deployments WHERE source <> 'tag'")
        tx.delete_all("incidents")
        tx.delete_all("deployment_changes")
        tx.delete_all("incident_deployments")

    counts = rebuild(store, config)
    after = snapshot(store)
    assert after["deployment_changes"] == before["deployment_changes"]
    assert after["incident_deployments"] == before["incident_deployments"]
    assert after["deployments"] == before["deployments"]
    assert after["incidents"] == before["incidents"]
    assert counts["deployments"] == 4 and counts["incidents"] == 2
    assert counts["deployment_changes"] == 6

    # And rebuilding a store that is already right changes nothing.
    rebuild(store, config)
    assert snapshot(store) == after


def test_rebuild_of_empty_store_is_harmless(store, config):
    counts = rebuild(store, config)
    assert counts["deployments"] == 0 and counts["incidents"] == 0
    assert count(store, "deployments") == 0


def test_git_repo_folder_name_clash_is_refused(duck, tmp_path, config):
    one = GitRepo.create(tmp_path / "a" / "api")
    two = GitRepo.create(tmp_path / "b" / "api")
    linear(one, 1)
    linear(two, 1, prefix="x")
    ingest_git(duck, config, one.path)
    before = snapshot(duck)
    with pytest.raises(UserError) as info:
        ingest_git(duck, config, two.path)
    assert str(two.path) in str(info.value)
    assert snapshot(duck) == before
