"""The demo organisation: deterministic, internally consistent, and telling the talk's story."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import tomllib
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from fireline.demo import World, build_world
from fireline.demo.incidents import TALK_INCIDENT

SHA = re.compile(r"^[0-9a-f]{40}$")


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    # The suite may run inside a git hook, where GIT_DIR and friends point elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, text=True,
                          capture_output=True, check=True).stdout


def is_ancestor(repo: Path, commit: str, of: str) -> bool:
    try:
        git(repo, "merge-base", "--is-ancestor", commit, of)
    except subprocess.CalledProcessError:
        return False
    return True


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def service_repos(world: World) -> dict[str, Path]:
    config = tomllib.loads(world.config_file.read_text())
    base = world.config_file.parent
    return {name: base / spec["repo"] for name, spec in config["services"].items()}


def log(repo: Path, *args: str) -> list[list[str]]:
    """Commits as [sha, parents, author name, author date (ISO), subject, body]."""
    out = git(repo, "log", "--format=%H%x1f%P%x1f%an%x1f%aI%x1f%s%x1f%b%x1e", *args)
    return [entry.strip("\n").split("\x1f") for entry in out.split("\x1e") if entry.strip()]


@pytest.fixture(scope="module")
def world(demo_org) -> World:
    """The world of the session's demo organisation (`fireline demo` builds it, then ingests it)."""
    assert demo_org.world is not None
    return demo_org.world


def _snapshot(world: World) -> dict[str, bytes | str]:
    snap: dict[str, bytes | str] = {}
    for path in sorted(world.root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(world.root).parts:
            snap[str(path.relative_to(world.root))] = path.read_bytes()
    for name, repo in world.repos.items():
        snap[f"refs:{name}"] = git(repo, "for-each-ref")
        snap[f"rev-parse:{name}"] = git(repo, "rev-parse", "--all")
    return snap


def test_two_builds_are_identical_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()  # an existing empty folder is accepted
    first, second = build_world(tmp_path / "a"), build_world(tmp_path / "b")
    assert _snapshot(first) == _snapshot(second)
    assert first.notable == second.notable


def test_refuses_a_non_empty_root(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_world(tmp_path)


def test_world_layout(world: World) -> None:
    assert set(world.repos) == {"platform-infra", "data-platform", "web-ui", "pricing-engine"}
    for name, repo in world.repos.items():
        assert repo == world.root / "repos" / name
        assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
        assert git(repo, "status", "--porcelain") == ""  # checked out, like a clone
    assert world.window_start == datetime.fromisoformat("2026-01-05T00:00:00+00:00")
    assert world.window_end == datetime.fromisoformat("2026-07-05T00:00:00+00:00")
    assert world.window_start.utcoffset() is not None


def test_commit_counts_and_dates_stay_in_the_window(world: World) -> None:
    expected = {"platform-infra": 400, "data-platform": 350, "web-ui": 600, "pricing-engine": 250}
    for name, repo in world.repos.items():
        commits = log(repo, "--all")
        assert abs(len(commits) - expected[name]) <= expected[name] * 0.1, name
        for entry in commits:
            assert world.window_start <= datetime.fromisoformat(entry[3]) < world.window_end


def test_config_parses_and_points_at_the_repos(world: World) -> None:
    config = tomllib.loads(world.config_file.read_text())
    assert config["timezone"] == "Europe/London"
    assert config["production_environments"] == ["production"]
    assert config["teams"]["C++"]["services"] == ["pricing-engine"]
    assert config["teams"]["Data"]["services"] == ["purger", "export-pipeline"]
    assert config["services"]["purger"]["paths"] == ["purger/**"]
    assert config["services"]["platform-infra"]["deploy_tags"] == "v*"
    assert config["services"]["web-ui"]["deploy_tags"] == "release-*"
    for repo in service_repos(world).values():
        assert (repo / ".git").is_dir()
    people = config["people"]
    assert len(people) == 12
    assert people["Priya Raman"]["team"] == "UI"
    assert {p["timezone"] for p in people.values()} == {
        "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"}


def test_deployments_file(world: World) -> None:
    text = world.deployments_file.read_text()
    assert text.splitlines()[0] == "id,time,service,environment,sha,status,type"
    deploys = rows(world.deployments_file)
    assert [d["id"] for d in deploys] == [f"dep-{i:04d}" for i in range(1, len(deploys) + 1)]
    times = [datetime.fromisoformat(d["time"]) for d in deploys]
    assert all(t.utcoffset() is not None for t in times)
    assert times == sorted(times)
    assert any(d["time"].endswith("Z") for d in deploys)
    assert any(d["time"].endswith("+01:00") for d in deploys)
    assert {d["status"] for d in deploys} == {"success", "failure"}
    assert {d["environment"] for d in deploys} == {"production", "staging"}
    assert {d["type"] for d in deploys} == {"", "hotfix", "rollback"}
    prod = Counter(d["service"] for d in deploys
                   if d["environment"] == "production" and d["status"] == "success")
    assert prod["purger"] >= 10 and prod["export-pipeline"] >= 15
    assert 5 <= prod["pricing-engine"] <= 9  # every 3-5 weeks
    failed = [d for d in deploys if d["status"] == "failure"]
    assert failed and all(d["environment"] == "production" for d in failed)


def test_every_sha_exists_in_its_services_repo(world: World) -> None:
    repos = service_repos(world)
    deploys = rows(world.deployments_file)
    wanted: dict[str, set[str]] = {}
    for d in deploys:
        assert SHA.match(d["sha"]), d
        wanted.setdefault(d["service"], set()).add(d["sha"])
    ids = {d["id"] for d in deploys}
    for inc in rows(world.incidents_file):
        if SHA.match(inc["cause"]):
            wanted.setdefault(inc["service"], set()).add(inc["cause"])
        else:
            assert inc["cause"] in ids | {""}, inc
    for service, shas in wanted.items():
        for sha in shas:
            git(repos[service], "cat-file", "-e", f"{sha}^{{commit}}")


def test_incidents_file_and_the_talks_incident(world: World) -> None:
    text = world.incidents_file.read_text()
    header = "id,service,title,started,detected,resolved,severity,detected_by,cause"
    assert text.splitlines()[0] == header
    incidents = rows(world.incidents_file)
    assert 15 <= len(incidents) <= 25
    assert len({i["id"] for i in incidents}) == len(incidents)
    for inc in incidents:
        started, detected, resolved = (datetime.fromisoformat(inc[k])
                                       for k in ("started", "detected", "resolved"))
        assert started <= detected <= resolved
        assert inc["detected_by"] in {"monitoring", "customer"}
    linked = [i for i in incidents if i["cause"]]
    assert 0 < len(linked) < len(incidents)
    assert any(i["cause"].startswith("dep-") for i in linked)

    talk = next(i for i in incidents if i["id"] == TALK_INCIDENT)
    assert talk["service"] == "purger"
    assert talk["detected_by"] == "customer"
    assert talk["severity"].upper() == "SEV1"
    assert "Disk full" in talk["title"]
    started = datetime.fromisoformat(talk["started"])
    resolved = datetime.fromisoformat(talk["resolved"])
    assert (started.year, started.month) == (2026, 5)
    assert (resolved.date() - started.date()).days == 1
    repo = world.repos["data-platform"]
    assert talk["cause"] == world.notable[f"{TALK_INCIDENT}/cause"]
    author, files = git(repo, "show", "--format=%an", "--name-only", talk["cause"]).split("\n", 1)
    assert author == "Priya Raman"
    assert all(f.startswith("purger/") for f in files.split())


def test_restore_times_differ_by_team(world: World) -> None:
    hours: dict[str, list[float]] = {}
    for inc in rows(world.incidents_file):
        span = (datetime.fromisoformat(inc["resolved"]) - datetime.fromisoformat(inc["started"]))
        hours.setdefault(inc["service"], []).append(span.total_seconds() / 3600)
    assert max(hours["platform-infra"]) < 1
    assert all(1 <= h < 24 for h in hours["web-ui"])
    assert min(hours["pricing-engine"]) > 24


def test_merge_commits_and_squashes_in_web_ui(world: World) -> None:
    repo = world.repos["web-ui"]
    merges = log(repo, "--merges", "main")
    assert len(merges) >= 30
    assert all(len(m[1].split()) == 2 for m in merges)
    assert any(re.search(r"\(#\d+\)$", c[4]) for c in log(repo, "--no-merges", "main"))
    assert git(repo, "branch", "--format=%(refname:short)").split() == ["main"]


def test_tags_annotated_for_sre_lightweight_for_ui(world: World) -> None:
    fmt = "--format=%(refname:short) %(objecttype)"
    infra = git(world.repos["platform-infra"], "for-each-ref", fmt, "refs/tags").split("\n")[:-1]
    assert len(infra) >= 50
    assert all(re.fullmatch(r"v1\.0\.\d+ tag", t) for t in infra)
    ui = git(world.repos["web-ui"], "for-each-ref", fmt, "refs/tags").split("\n")[:-1]
    assert len(ui) >= 40
    assert all(re.fullmatch(r"release-2026\.\d\d\.\d\d(\.\d)? commit", t) for t in ui)


def test_cherry_pick_on_the_release_branch_ships_before_main(world: World) -> None:
    repo = world.repos["pricing-engine"]
    picks = [c for c in log(repo, "main..release/2026.03") if "cherry picked from" in c[5]]
    assert len(picks) == 1
    pick = picks[0]
    original = re.search(r"^\(cherry picked from commit ([0-9a-f]{40})\)$", pick[5], re.M)
    assert original and original.group(1) == world.notable["pricing-engine/act365-fix"]
    assert is_ancestor(repo, original.group(1), "main")
    assert not is_ancestor(repo, original.group(1), "release/2026.03")
    assert git(repo, "log", "-1", "--format=%s", original.group(1)).strip() == pick[4]
    deploys = [d for d in rows(world.deployments_file) if d["service"] == "pricing-engine"
               and d["environment"] == "production" and d["status"] == "success"]
    shipped_pick = next(d for d in deploys if d["sha"] == pick[0])
    assert shipped_pick["type"] == "hotfix"
    first_with_original = next(d for d in deploys if is_ancestor(repo, original.group(1), d["sha"]))
    assert (datetime.fromisoformat(shipped_pick["time"])
            < datetime.fromisoformat(first_with_original["time"]))


def test_reverts_made_the_git_way(world: World) -> None:
    reverts = []
    for repo in world.repos.values():
        for sha, _, _, _, subject, body in log(repo, "--all"):
            if subject.startswith('Revert "'):
                target = re.search(r"This reverts commit ([0-9a-f]{40})\.", body)
                assert target, subject
                original = git(repo, "log", "-1", "--format=%s", target.group(1)).strip()
                assert subject == f'Revert "{original}"'
                reverts.append(sha)
    assert len(reverts) >= 2


def test_offsets_follow_each_persons_zone_and_dst(world: World) -> None:
    offsets: dict[str, set[str]] = {}
    for repo in world.repos.values():
        for line in git(repo, "log", "--all", "--format=%an %ad", "--date=format:%z").splitlines():
            name, offset = line.rsplit(" ", 1)
            offsets.setdefault(name, set()).add(offset)
    assert offsets["Hannah Clarke"] == {"+0000", "+0100"}  # London, DST from 29 March
    assert offsets["Emily Chen"] == {"-0500", "-0400"}  # New York, DST from 8 March
    assert offsets["Priya Raman"] == {"+0530"}
    assert offsets["Kenji Watanabe"] == {"+0900"}


def test_working_hours_with_some_late_nights_and_weekends(world: World) -> None:
    stamps = [datetime.fromisoformat(c[3]) for r in world.repos.values() for c in log(r, "--all")]
    office = sum(8 <= s.hour < 19 and s.weekday() < 5 for s in stamps)
    assert office / len(stamps) > 0.8
    assert any(s.hour >= 21 for s in stamps)
    assert any(s.weekday() >= 5 for s in stamps)


def test_purger_is_a_silo_whose_author_moves_to_ui(world: World) -> None:
    data, ui = world.repos["data-platform"], world.repos["web-ui"]
    before = log(data, "--until=2026-05-01", "--", "purger/")
    assert len(before) >= 30
    assert {c[2] for c in before[:-1]} == {"Priya Raman"}  # the last one is the initial import
    priya_data = log(data, "--author=Priya Raman")
    assert max(datetime.fromisoformat(c[3]) for c in priya_data).month <= 4
    priya_ui = log(ui, "--author=Priya Raman")
    assert priya_ui and min(datetime.fromisoformat(c[3]) for c in priya_ui).month >= 5


def test_fixes_sometimes_bring_tests_and_hotfixes_exist(world: World) -> None:
    with_tests = without_tests = hotfixes = 0
    for repo in world.repos.values():
        out = git(repo, "log", "--all", "--no-merges", "--format=\x1e%s", "--name-only")
        for entry in out.split("\x1e")[1:]:
            subject, *files = entry.strip().split("\n")
            hotfixes += subject.startswith("hotfix:")
            if re.match(r"(Fix |fix: )", subject):
                if any("test" in f for f in files):
                    with_tests += 1
                else:
                    without_tests += 1
    assert with_tests >= 20 and without_tests >= 20
    assert hotfixes >= 3


def test_numstat_shows_added_and_removed_lines(world: World) -> None:
    out = git(world.repos["pricing-engine"], "log", "--numstat", "--format=", "-50", "main")
    stats = [line.split("\t")[:2] for line in out.splitlines() if line]
    assert any(int(a) > 0 for a, _ in stats) and any(int(d) > 0 for _, d in stats)
