"""Repositories in config: `[repos.<name>] path, service or team, deploy_tags`, validated at load, and
`fireline ingest git` with no path reading each of them, all or nothing per repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline.config import parse_config
from fireline.errors import UserError
from fireline.store import Store

from .gitrepo import GitRepo
from .test_cli import fireline, user_error

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def load(tmp_path: Path, toml: str):
    return parse_config(tomllib.loads(toml), source="fireline.toml", base_dir=tmp_path)


@pytest.mark.parametrize(("toml", "message"), [
    ('[repos.api]\nservice = "api"', "fireline.toml: repos.api.path: Field required"),
    ('[repos.api]\npaht = "api"', "repos.api.paht: unknown key"),
    ('[repos.api]\npath = ""', "repos.api.path: must not be empty"),
    ('[repos.api]\npath = 3', "repos.api.path"),
    ('[repos.api]\npath = "api"\nteam = ["UI"]', "repos.api.team"),
    ('[repos.api]\npath = "api"\ndeploy_tags = [1]', "repos.api.deploy_tags"),
    ('[repos.a]\npath = "api"\n[repos.b]\npath = "./api/"', "repos.b.path: the same repository as repos.a"),
])
def test_repos_config_is_validated_at_load(tmp_path, toml, message):
    with pytest.raises(UserError) as err:
        load(tmp_path, toml)
    assert message in str(err.value)


def test_a_configured_repository_names_its_service_and_team(tmp_path):
    config = load(tmp_path, '[repos.shop]\npath = "src/shop"\nteam = "Web"\n'
                            '[repos.pay]\npath = "pay"\nservice = "payments"\nteam = "Web"\n')
    assert config.repo_dir("shop") == (tmp_path / "src" / "shop").resolve()
    assert set(config.services_in_repo(tmp_path / "pay")) == {"payments"}
    assert config.team_of("payments") == "Web" and config.team_of("shop") == "Web"
    assert config.team_names == ["Web"]
    assert config.services_of_team("Web") == ["shop", "payments"]


def world(tmp_path: Path) -> Path:
    """Two repositories with release tags and a third entry that is not a repository."""
    for name, tags in (("shop", ["v1", "v2-rc.1", "v2"]), ("pay", ["v1", "v2"])):
        repo = GitRepo.create(tmp_path / "src" / name)
        for i, tag in enumerate(tags):
            repo.commit(f"{name} {i}", h(i), files={f"{i}.txt": tag})
            repo.tag(tag, when=h(i + 0.5))
    (tmp_path / "src" / "notes").mkdir()
    (tmp_path / "fireline.toml").write_text(
        'deploy_tags = ["v*", "!*-rc*"]\n'
        '[repos.shop]\npath = "src/shop"\nteam = "Web"\n'
        '[repos.notes]\npath = "src/notes"\n'
        '[repos.pay]\npath = "src/pay"\nservice = "payments"\ndeploy_tags = "v1"\n')
    return tmp_path / "store" / "fireline.duckdb"


def test_ingest_git_without_a_path_reads_every_configured_repository(tmp_path):
    db = world(tmp_path)
    run = fireline(tmp_path, "ingest", "git")
    # Named with its path; the others are stored, and the exit code says one failed.
    assert run.code == 1, run.stderr
    assert "repos.notes" in run.stderr and "src/notes" in run.stderr and "not a git repository" in run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2, run.stdout  # one plain line per repository read, nothing else
    assert "src/shop: 3 new commits, 2 new tag deployments." in lines[0]
    assert "src/pay: 2 new commits, 1 new tag deployments." in lines[1]
    with Store.open(str(db)) as store:  # the repository that failed did not stop the others
        assert sorted(store.query("SELECT service, ref FROM deployments")) == [
            ("payments", "v1"), ("shop", "v1"), ("shop", "v2")]
    dora = json.loads(fireline(tmp_path, "dora", "--team", "Web", "--since", "2026-03-01", "--until", "2026-03-07",
                               "--json").stdout)
    assert [g["service"] for g in dora["groups"] if g.get("service")] == ["shop"]


def test_json_prints_one_document_and_nothing_else(tmp_path):
    world(tmp_path)
    run = fireline(tmp_path, "ingest", "git", "--json")
    assert run.code == 1
    data = json.loads(run.stdout)  # the whole of stdout is the JSON
    by_repo = {r["repo"]: r for r in data["repositories"]}
    assert by_repo["shop"]["new_deployments"] == 2 and by_repo["pay"]["new_deployments"] == 1
    assert "not a git repository" in by_repo["notes"]["error"]


def test_a_progress_bar_on_a_terminal_changes_nothing_on_stdout(tmp_path):
    world(tmp_path)
    (tmp_path / "fireline.toml").write_text((tmp_path / "fireline.toml").read_text().replace(
        '[repos.notes]\npath = "src/notes"\n', ""))
    main, other = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "FIRELINE_CONFIG"}
    env["FIRELINE_DB"] = str(tmp_path / "store" / "fireline.duckdb")
    proc = subprocess.run([sys.executable, "-m", "fireline.cli", "ingest", "git"], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=other, text=True, timeout=120)
    os.close(other)
    os.close(main)
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 2, proc.stdout


def test_without_a_path_or_configured_repositories_it_says_what_to_do(tmp_path):
    user_error(fireline(tmp_path, "ingest", "git"), "give a PATH", "[repos.<name>]")


def test_service_option_needs_a_path(tmp_path):
    world(tmp_path)
    user_error(fireline(tmp_path, "ingest", "git", "--service", "x"), "--service", "give its PATH")
