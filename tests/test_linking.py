"""Commit-to-deployment linking on real repositories, with lead times worked out by hand."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from fireline.config import parse_config
from fireline.ingest import ingest_deployments, ingest_git, ingest_incidents
from fireline.metrics.explain import explain
from fireline.metrics.scope import Scope

from .gitrepo import GitRepo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Scope(since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC))


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def write_deployments(path: Path, rows: list[tuple[str, str, str, datetime]], **extra: str) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "time", "service", "environment", "sha", "status", "type"])
        for dep_id, service, sha, when in rows:
            w.writerow([dep_id, when.isoformat(), service, "production", sha, "success", extra.get(dep_id, "")])
    return path


def leads(store, scope: Scope = WINDOW) -> dict[str, float]:
    rows = explain(store.tables(), "lead_time", scope).rows
    return {r["sha"]: r["lead_seconds"] / 3600 for r in rows}


def links(store) -> dict[str, str]:
    return {sha: dep for dep, sha in store.query("SELECT deployment_id, sha FROM deployment_changes")}


def ingest(store, repo: GitRepo, tmp_path: Path, deployments, service="svc", config=None, **types):
    from fireline.config import Config

    cfg = config or Config()
    ingest_git(store, cfg, repo.path, service=service)
    ingest_deployments(store, cfg, write_deployments(tmp_path / "deps.csv", deployments, **types))


def test_linear_history_and_baseline(store, repo, tmp_path):
    c1 = repo.commit("first", h(0))
    c2 = repo.commit("second", h(1))
    c3 = repo.commit("third", h(2))
    c4 = repo.commit("fourth", h(3))
    ingest(store, repo, tmp_path, [("d1", "svc", c2, h(1.5)), ("d2", "svc", c4, h(5))])
    assert links(store) == {c1: "d1", c2: "d1", c3: "d2", c4: "d2"}
    # d1 is the first deployment of the service: a baseline whose commits get no lead time.
    assert leads(store) == {c3: 3.0, c4: 2.0}


def test_true_merge_links_branch_commits_to_the_merge_deployment(store, repo, tmp_path):
    c1 = repo.commit("base", h(0))
    repo.git("checkout", "-q", "-b", "feature")
    f1 = repo.commit("feature one", h(1))
    f2 = repo.commit("feature two", h(2))
    repo.git("checkout", "-q", "main")
    m1 = repo.commit("main work", h(3))
    repo.git("merge", "--no-ff", "-q", "-m", "Merge feature", "feature", when=h(4))
    merge = repo.head()
    ingest(store, repo, tmp_path, [("d1", "svc", c1, h(0.5)), ("d2", "svc", merge, h(6))])
    assert leads(store) == {f1: 5.0, f2: 4.0, m1: 3.0, merge: 2.0}


def test_squash_merge_counts_the_squash_commit_not_the_branch(store, repo, tmp_path):
    c1 = repo.commit("base", h(0))
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("wip 1", h(1), files={"a.txt": "1\n"})
    repo.commit("wip 2", h(2), files={"a.txt": "2\n"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "--squash", "-q", "feature")
    repo.git("commit", "-q", "-m", "Feature (squashed)", when=h(5), author_when=h(1))
    squash = repo.head()
    ingest(store, repo, tmp_path, [("d1", "svc", c1, h(0.5)), ("d2", "svc", squash, h(8))])
    assert leads(store) == {squash: 3.0}
    # On request the clock starts at the author time instead (the first work on the change).
    author_scope = Scope(WINDOW.since, WINDOW.until, time_basis="author")
    assert leads(store, author_scope) == {squash: 7.0}


def test_rebase_merge_uses_the_rebased_commits(store, repo, tmp_path):
    c1 = repo.commit("base", h(0))
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature a", h(1), files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main b", h(2), files={"b.txt": "b\n"})
    repo.git("checkout", "-q", "feature")
    repo.git("rebase", "-q", "main", when=h(3))
    rebased = repo.head()
    repo.git("checkout", "-q", "main")
    repo.git("merge", "--ff-only", "-q", "feature")
    ingest(store, repo, tmp_path, [("d1", "svc", c1, h(0.5)), ("d2", "svc", rebased, h(4))])
    got = leads(store)
    assert got[rebased] == 1.0  # the rebase rewrote the committer time to h(3)
    assert len(got) == 2


def test_batched_deploy_ships_every_commit_since_the_last_one(store, repo, tmp_path):
    c0 = repo.commit("base", h(0))
    shas = [repo.commit(f"change {i}", h(1 + i)) for i in range(5)]
    ingest(store, repo, tmp_path, [("d1", "svc", c0, h(0.5)), ("d2", "svc", shas[-1], h(10))])
    assert leads(store) == {sha: 10.0 - (1 + i) for i, sha in enumerate(shas)}


def test_earliest_deployment_by_time_wins_over_a_later_rollback(store, repo, tmp_path):
    c0 = repo.commit("base", h(0))
    c1 = repo.commit("one", h(1))
    c2 = repo.commit("two", h(2))
    # d3 redeploys an older commit (a rollback) after d2 shipped it: c1 stays with d2.
    ingest(store, repo, tmp_path, [("d1", "svc", c0, h(0.5)), ("d2", "svc", c2, h(3)),
                                   ("d3", "svc", c1, h(4))], d3="rollback")
    assert links(store)[c1] == "d2"
    assert leads(store) == {c1: 2.0, c2: 1.0}


def test_cherry_pick_to_release_branch_ships_the_original_fix(store, repo, tmp_path):
    c1 = repo.commit("base", h(0))
    repo.git("branch", "release/1.0")
    fix = repo.commit("Fix overflow in pricing", h(1), files={"p.cpp": "fixed\n"})
    feature = repo.commit("Add new model", h(2), files={"m.cpp": "model\n"})
    repo.git("checkout", "-q", "release/1.0")
    repo.git("cherry-pick", "-x", fix, when=h(3))
    picked = repo.head()
    repo.git("checkout", "-q", "main")
    ingest(store, repo, tmp_path, [("d1", "svc", c1, h(0.5)), ("d2", "svc", picked, h(4)),
                                   ("d3", "svc", feature, h(10))])
    linked = links(store)
    assert linked[fix] == "d2" and linked[picked] == "d2" and linked[feature] == "d3"
    # The fix reached production with the release-branch deploy, 3 hours after it was committed.
    assert leads(store) == {fix: 3.0, picked: 1.0, feature: 8.0}


def test_revert_is_a_change_and_makes_its_deployment_rework(store, repo, tmp_path):
    c0 = repo.commit("base", h(0))
    bad = repo.commit("Add caching", h(1), files={"cache.py": "x\n"})
    repo.git("revert", "--no-edit", bad, when=h(3))
    revert = repo.head()
    ingest(store, repo, tmp_path, [("d1", "svc", c0, h(0.5)), ("d2", "svc", bad, h(2)),
                                   ("d3", "svc", revert, h(4))])
    assert leads(store) == {bad: 1.0, revert: 1.0}
    rows = {r["deployment_id"]: r for r in explain(store.tables(), "rework_rate", WINDOW).rows}
    assert rows["d3"]["rework"] and rows["d3"]["reason"] == "subject starts with 'revert'"
    assert rows["d3"]["rework_sha"] == revert
    assert not rows["d2"]["rework"]


def test_monorepo_commits_belong_to_the_services_whose_paths_they_touch(store, tmp_path):
    repo = GitRepo.create(tmp_path / "mono")
    c0 = repo.commit("base", h(0), files={"a/x.py": "0\n", "b/y.py": "0\n"})
    ca = repo.commit("a change", h(1), files={"a/x.py": "1\n"})
    cb = repo.commit("b change", h(2), files={"b/y.py": "1\n"})
    cab = repo.commit("both", h(3), files={"a/x.py": "2\n", "b/y.py": "2\n"})
    cdoc = repo.commit("docs only", h(4), files={"README.md": "hi\n"})
    cfg = parse_config({"services": {"svc-a": {"repo": str(repo.path), "paths": ["a/**"]},
                                     "svc-b": {"repo": str(repo.path), "paths": ["b/**"]}}},
                       source="test", base_dir=tmp_path)
    ingest_git(store, cfg, repo.path)
    deps = [("a1", "svc-a", c0, h(0.5)), ("b1", "svc-b", c0, h(0.5)),
            ("a2", "svc-a", cdoc, h(6)), ("b2", "svc-b", cab, h(8))]
    ingest_deployments(store, cfg, write_deployments(tmp_path / "d.csv", deps))
    by_service: dict[str, dict[str, float]] = {}
    for r in explain(store.tables(), "lead_time", WINDOW).rows:
        by_service.setdefault(r["service"], {})[r["sha"]] = r["lead_seconds"] / 3600
    assert by_service == {"svc-a": {ca: 5.0, cab: 3.0}, "svc-b": {cb: 6.0, cab: 5.0}}
    assert cdoc not in {sha for sha, _ in store.query("SELECT sha, 1 FROM deployment_changes WHERE NOT baseline")}


def test_time_zones_and_dst_are_absolute_time(store, repo, tmp_path):
    london_before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 00:30 GMT, before the change at 01:00
    kolkata = timezone(timedelta(hours=5, minutes=30))
    new_york = timezone(timedelta(hours=-4))
    c0 = repo.commit("base", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    c1 = repo.commit("london", london_before)
    c2 = repo.commit("kolkata", datetime(2026, 3, 29, 8, 0, tzinfo=kolkata))  # 02:30 UTC
    deploy = datetime(2026, 3, 29, 2, 30, tzinfo=new_york)  # 06:30 UTC, written as a New York time
    ingest(store, repo, tmp_path, [("d1", "svc", c0, datetime(2026, 3, 28, 13, tzinfo=UTC)),
                                   ("d2", "svc", c2, deploy)])
    assert leads(store) == {c1: 6.0, c2: 4.0}
    offsets = dict(store.query("SELECT sha, committer_offset FROM changes"))
    assert offsets[c2] == 330 and offsets[c1] == 0


def test_negative_lead_times_from_clock_skew_are_excluded_and_counted(store, repo, tmp_path):
    from fireline.metrics.summary import summarise
    from fireline.metrics.tiers import SEED

    c0 = repo.commit("base", h(0))
    skewed = repo.commit("laptop clock ahead", h(10))
    ok = repo.commit("fine", h(1))
    ingest(store, repo, tmp_path, [("d1", "svc", c0, h(0.5)), ("d2", "svc", ok, h(3))])
    lead = summarise(store.tables(), WINDOW, SEED).overall.metrics["lead_time"]
    assert lead.count == 1 and lead.value == 2.0
    assert lead.details["negative_excluded"] == 1
    assert skewed in links(store)


def test_incidents_link_to_named_cause_else_latest_deployment_before(store, repo, tmp_path):
    from fireline.config import Config

    c0 = repo.commit("base", h(0))
    c1 = repo.commit("one", h(1))
    c2 = repo.commit("two", h(2))
    c3 = repo.commit("three", h(3))
    ingest(store, repo, tmp_path, [("d1", "svc", c0, h(0.5)), ("d2", "svc", c1, h(1.5)),
                                   ("d3", "svc", c3, h(4))])
    incidents = tmp_path / "inc.csv"
    incidents.write_text(
        "id,service,started,resolved,detected_by,cause\n"
        f"i1,svc,{h(5).isoformat()},{h(6).isoformat()},monitoring,{c2[:10]}\n"   # commit shipped by d3
        f"i2,svc,{h(5).isoformat()},{h(7).isoformat()},customer,d2\n"            # a deployment id
        f"i3,svc,{h(2).isoformat()},{h(2.5).isoformat()},monitoring,\n"           # latest before: d2
        f"i4,svc,{h(0.1).isoformat()},{h(0.2).isoformat()},monitoring,\n"         # before any deployment
    )
    ingest_incidents(store, Config(), incidents)
    got = {i: (d, via) for i, d, via in store.query("SELECT incident_id, deployment_id, via FROM "
                                                     "incident_deployments")}
    assert got == {"i1": ("d3", "cause-commit"), "i2": ("d2", "cause-deployment"), "i3": ("d2", "latest-before")}


def test_tags_are_deployments_annotated_by_tagger_date_lightweight_by_commit_date(store, repo, tmp_path):
    from fireline.config import Config

    c0 = repo.commit("base", h(0))
    repo.tag("v1.0", when=h(1))
    c1 = repo.commit("next", h(2))
    repo.tag("v1.1", annotated=False)
    repo.commit("unreleased", h(3))
    repo.tag("not-a-release", when=h(4))
    ingest_git(store, Config(), repo.path, service="svc", deploy_tags="v*")
    deps = {i: (sha, t) for i, sha, t in store.query("SELECT id, sha, time FROM deployments")}
    assert deps == {"tag:repo:v1.0": (c0, h(1)), "tag:repo:v1.1": (c1, h(2))}
