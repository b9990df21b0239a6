"""`fireline sync` as a user runs it: a subprocess against the local provider stand-in, exit codes,
messages, --json on stdout alone, and the figures `fireline dora --json` shows afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .sync_server import FakeAPI
from .test_cli import Run, fireline, user_error
from .test_sync import REPO, github_world


@pytest.fixture
def api():
    server = FakeAPI()
    yield server
    server.close()


def configured(tmp_path: Path, api: FakeAPI, extra: str = "") -> Path:
    (tmp_path / "fireline.toml").write_text(f'[sync.github]\nbase_url = "{api.url}"\ntoken_env = "GH_PAT"\n{extra}')
    return tmp_path


def sync(tmp_path: Path, *args: str, token: str = "secret") -> Run:
    return fireline(tmp_path, "sync", "github", *args, env={"GH_PAT": token})


def test_sync_json_then_dora_shows_the_figures(tmp_path, api):
    github_world(api)
    run = sync(configured(tmp_path, api), REPO, "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)  # nothing but the JSON on stdout, no progress lines on stderr
    assert "page" not in run.stderr
    assert data["events"]["deployment_status"] == {"fetched": 2, "new": 2}
    assert {"requests", "pages", "not_modified", "retries"} <= set(data)
    # The token variable named in config is the one sent.
    assert {h.get("authorization") for _, _, h in api.requests} == {"Bearer secret"}
    dora = fireline(tmp_path, "dora", "--json", "--since", "2019-05-01", "--until", "2019-05-31")
    overall = json.loads(dora.stdout)["overall"]
    assert overall["deployment_frequency"]["count"] == 2
    assert overall["change_failure_rate"]["value"] == 0.5


def test_sync_without_a_terminal_prints_plain_lines_and_a_summary(tmp_path, api):
    github_world(api)
    (tmp_path / "hello").mkdir()
    run = sync(configured(tmp_path, api, f'[repos.hello]\npath = "hello"\ngithub = "{REPO}"\n'))
    assert run.code == 0, run.stderr
    assert "github: deployments: page 1" in run.stderr  # plain lines, no progress bar, when piped
    assert f"github: {REPO}: 2 new of 2 deployment_status" in run.stdout
    again = sync(tmp_path)
    assert "unchanged (304)" in again.stdout and "nothing new" not in again.stdout


def test_wrong_token_missing_repository_and_nothing_to_sync_exit_2(tmp_path, api):
    github_world(api)
    configured(tmp_path, api)
    api.refuse_token = True
    user_error(sync(tmp_path, REPO, token="wrong"), "HTTP 401", "Bad credentials")
    api.refuse_token = False
    user_error(sync(tmp_path, "Codertocat/missing"), "HTTP 404", "Not Found")
    user_error(sync(tmp_path), "nothing to sync", "[repos.<name>] github")


def test_an_expired_token_mid_sync_exits_2_and_keeps_what_was_synced(tmp_path, api):
    github_world(api)
    api.expire_after = 3
    run = sync(configured(tmp_path, api), REPO)
    user_error(run, "Bad credentials")
    deployments = fireline(tmp_path, "dora", "--json", "--since", "2019-05-01", "--until", "2019-05-31")
    assert json.loads(deployments.stdout)["overall"]["deployment_frequency"]["count"] == 1


def test_bad_sync_config_names_the_key(tmp_path, api):
    (tmp_path / "fireline.toml").write_text('[sync.github]\nbase_url = "ftp://example.com"\n')
    user_error(sync(tmp_path, REPO), "sync.github.base_url", "not an http(s) URL")
    (tmp_path / "fireline.toml").write_text('[sync.gitlub]\nbase_url = "https://example.com"\n')
    user_error(sync(tmp_path, REPO), "sync.gitlub")
    (tmp_path / "fireline.toml").write_text('[repos.x]\npath = "."\ngithub = "not a repo"\n')
    user_error(sync(tmp_path), "repos.x.github", "owner/repo")
