"""`fireline serve` keeps `[repos.<name>]` current: fetch and ingest every `[server] sync_interval`, at once
on a push webhook naming the repository; a failing fetch is shown on /healthz and retried, never fatal."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fireline.app.settings import load_config
from fireline.server.jobs import Job, Jobs
from fireline.server.sync import RepoSync, payload_keys, repo_key

from .gitrepo import GitRepo
from .serving import Server, fireline

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
WINDOW = ["--since", "2026-03-01", "--until", "2026-04-30", "--json"]
PUSH = Path(__file__).resolve().parent / "data" / "webhooks" / "github" / "push" / "payload.json"
REMOTE = "https://github.com/acme/shop.git"


def _git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


def _team(tmp_path: Path, interval: str) -> tuple[GitRepo, Path, Path]:
    """A developer's repository, the shared remote it pushes to (reached as github.com/acme/shop through
    `insteadOf`), and the server's clone of it named in fireline.toml."""
    dev = GitRepo.create(tmp_path / "dev")
    dev.commit("first", T0)
    dev.tag("v1", when=T0 + timedelta(hours=1))
    origin = tmp_path / "origin.git"
    _git("clone", "-q", "--bare", str(dev.path), str(origin))
    world = tmp_path / "world"
    _git("clone", "-q", str(origin), str(world / "shop"))
    _git("-C", str(world / "shop"), "remote", "set-url", "origin", REMOTE)
    _git("-C", str(world / "shop"), "config", f"url.{origin}.insteadOf", REMOTE)
    (world / "fireline.toml").write_text(f'[repos.shop]\npath = "shop"\ndeploy_tags = "v*"\n'
                                         f'[server]\nsync_interval = "{interval}"\n')
    return dev, origin, world


def _release(dev: GitRepo, origin: Path, n: int) -> None:
    dev.commit(f"change {n}", T0 + timedelta(days=n))
    dev.tag(f"v{n}", when=T0 + timedelta(days=n, hours=1))
    dev.git("push", "-q", str(origin), "main", "--tags")


def _deployments(world: Path) -> int:
    run = fireline("dora", *WINDOW, cwd=world)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["overall"]["deployment_frequency"]["count"]


def _until(check, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_served_figures_follow_new_commits_and_tags(tmp_path):
    dev, origin, world = _team(tmp_path, "1")
    with Server(world / ".fireline" / "fireline.duckdb", world) as server:
        _until(lambda: _deployments(world) == 1, "the first sync never came")
        _release(dev, origin, 2)
        _release(dev, origin, 3)
        _until(lambda: _deployments(world) == 3, "the new tags were never fetched")
        shop = server.health()["repositories"]["shop"]
        assert shop["last_success"] and shop["last_error"] is None and shop["next_attempt"]


def test_a_push_webhook_syncs_its_repository_at_once(tmp_path):
    dev, origin, world = _team(tmp_path, "1h")
    with Server(world / ".fireline" / "fireline.duckdb", world) as server:
        _until(lambda: server.health()["repositories"]["shop"]["runs"] >= 1, "the first sync never came")
        _release(dev, origin, 2)
        assert _deployments(world) == 1  # the next timed sync is an hour away
        payload = json.loads(PUSH.read_text())
        payload["repository"]["full_name"] = "acme/shop"
        payload["repository"]["clone_url"] = REMOTE
        payload["ref"] = "refs/tags/v2"
        response = httpx.post(f"{server.url}/webhooks/github", json=payload, timeout=30, headers={
            "x-github-event": "push", "x-github-delivery": "push-v2"})
        assert response.status_code == 202, response.text
        _until(lambda: _deployments(world) == 2, "the push did not start a sync")
        assert server.health()["repositories"]["shop"]["runs"] == 2


def test_a_failing_fetch_is_shown_and_retried_and_the_server_goes_on(tmp_path):
    _dev, origin, world = _team(tmp_path, "1")
    _git("-C", str(world / "shop"), "config", "--remove-section", f"url.{origin}")
    _git("-C", str(world / "shop"), "config", f"url.{tmp_path / 'gone.git'}.insteadOf", REMOTE)
    with Server(world / ".fireline" / "fireline.duckdb", world) as server:
        _until(lambda: server.health()["repositories"]["shop"]["failures"] >= 2, "the fetch was not retried")
        health = server.health()
        shop = health["repositories"]["shop"]
        assert "git fetch failed" in shop["last_error"] and shop["next_attempt"] and shop["last_success"] is None
        assert health["status"] == "ok"
        assert _deployments(world) == 1  # what was already cloned is read all the same
    assert "job sync shop failed" in server.log.read_text()


def test_remote_urls_and_webhook_payloads_name_a_repository_the_same_way():
    for url in ("https://github.com/Acme/Shop.git", "git@github.com:acme/shop.git", "ssh://git@github.com/acme/shop"):
        assert repo_key(url) == "acme/shop"
    assert repo_key("https://gitlab.example.com:8443/group/sub/app.git") == "group/sub/app"
    gitlab = {"project": {"path_with_namespace": "group/sub/app",
                          "git_ssh_url": "git@gitlab.example.com:group/sub/app.git"}}
    assert payload_keys("gitlab", gitlab) == {"group/sub/app"}


def test_a_gitlab_push_or_tag_push_names_the_repository_by_its_path(tmp_path):
    repo = GitRepo.create(tmp_path / "app")
    repo.git("remote", "add", "origin", "git@gitlab.example.com:group/sub/app.git")
    (tmp_path / "fireline.toml").write_text('[repos.app]\npath = "app"\n')
    jobs = Jobs()
    sync = RepoSync(jobs, load_config(tmp_path / "fireline.toml"), lambda: "unused", contextlib.nullcontext)
    project = {"project": {"path_with_namespace": "group/sub/app"}}
    assert sync.on_push("gitlab", "tag_push", project) == ["app"]
    assert sync.on_push("gitlab", "push", {"project": {"path_with_namespace": "group/other"}}) == []
    assert sync.on_push("gitlab", "merge_request", project) == []
    assert jobs.status("repository")["app"]["runs"] == 0  # never started here


@pytest.mark.parametrize(("interval", "failures", "delay"), [
    (600, 0, 600), (600, 1, 30), (600, 2, 60), (600, 20, 3600), (1, 1, 1), (1, 3, 4), (7200, 30, 7200)])
def test_a_failing_job_backs_off(interval, failures, delay):
    job = Job(name="j", interval=interval, work=lambda: None, failures=failures)
    assert job.delay() == delay
