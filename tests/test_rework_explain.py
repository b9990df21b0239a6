"""Rework names its commit, and a revert that touches only docs, CI or dependency manifests is not
rework (issue 15: flask 2.2.3 counted because of "revert run debug docs", kube-prometheus v0.17.0
because of a reverted actions/checkout bump).

A real repository built here: one tag per case, each tag's release brings one commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fireline.config import Config, load_config
from fireline.ingest import ingest_git
from fireline.metrics import dora

from .gitrepo import GitRepo


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


SCOPE = dora.Scope(since=t(1), until=t(28))


def build(base: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo.create(base / "svc")
    sha: dict[str, str] = {}
    repo.commit("Initial import", t(2), {"src/app.py": "app\n", "docs/usage.rst": "usage\n", "go.mod": "m\n",
                                         ".github/workflows/ci.yml": "ci\n", "README.md": "readme\n"})
    repo.tag("v1", when=t(2, 13))
    sha["docs"] = repo.commit('Revert "run debug docs"', t(3), {"docs/usage.rst": "usage 2\n",
                                                                 "README.md": "readme 2\n"})
    repo.tag("v2", when=t(3, 13))
    sha["ci"] = repo.commit('Revert "Bump actions/checkout from 4 to 5"', t(4), {
        ".github/workflows/ci.yml": "ci 2\n"})
    repo.tag("v3", when=t(4, 13))
    sha["hotfix"] = repo.commit("hotfix: purger crash on empty disk", t(5), {"src/app.py": "app 2\n"})
    repo.tag("v4", when=t(5, 13))
    sha["deps"] = repo.commit('Revert "Update module github.com/x/y to v2"', t(6), {
        "go.mod": "m 2\n", "go.sum": "s\n"})
    repo.tag("v5", when=t(6, 13))
    sha["mixed"] = repo.commit("Revert the new parser", t(7), {"docs/usage.rst": "usage 3\n",
                                                              "src/app.py": "app 3\n"})
    repo.tag("v6", when=t(7, 13))
    sha["plain"] = repo.commit("Add a feature", t(8), {"src/feature.py": "f\n"})
    repo.tag("v7", when=t(8, 13))
    return repo, sha


def rows(store, scope: dora.Scope = SCOPE) -> dict[str, dict]:
    expr = dora.rework_rows(*(store.tables()[n] for n in ("deployments", "deployment_changes", "changes",
                                                         "incidents")), scope,
                            change_files=store.tables()["change_files"])
    return {r["deployment_id"].rsplit(":", 1)[1]: r for r in expr.to_pyarrow().to_pylist()}


def test_docs_ci_and_dependency_reverts_are_not_rework(tmp_path, duck):
    _, sha = build(tmp_path)
    ingest_git(duck, Config(), tmp_path / "svc", deploy_tags="v*")
    got = rows(duck)
    assert {tag for tag, r in got.items() if r["rework"]} == {"v4", "v6"}
    assert got["v4"]["rework_sha"] == sha["hotfix"]
    assert got["v4"]["rework_subject"] == "hotfix: purger crash on empty disk"
    assert got["v4"]["reason"] == "subject contains 'hotfix'"
    assert got["v6"]["rework_sha"] == sha["mixed"] and got["v6"]["reason"] == "subject starts with 'revert'"
    assert got["v2"]["rework_sha"] is None and got["v7"]["reason"] is None


def test_ignore_paths_are_a_setting(tmp_path, duck):
    build(tmp_path)
    ingest_git(duck, Config(), tmp_path / "svc", deploy_tags="v*")
    every = rows(duck, dora.Scope(since=t(1), until=t(28), rework_ignore=()))
    assert {tag for tag, r in every.items() if r["rework"]} == {"v2", "v3", "v4", "v5", "v6"}
    only_docs = rows(duck, dora.Scope(since=t(1), until=t(28), rework_ignore=("docs/**", "*.md")))
    assert {tag for tag, r in only_docs.items() if r["rework"]} == {"v3", "v4", "v5", "v6"}


def _fireline(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["COLUMNS"] = "250"
    return subprocess.run([sys.executable, "-m", "fireline", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_explain_rework_rate_names_the_commit(tmp_path):
    _, sha = build(tmp_path)
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--deploy-tags", "v*", "--db", db).returncode == 0
    window = ("--since", "2026-03-01", "--until", "2026-03-28", "--db", db)
    run = _fireline(tmp_path, "explain", "rework-rate", *window, "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["figure"]["rework"] == 2
    hot = next(r for r in data["rows"] if r["deployment_id"].endswith(":v4"))
    assert (hot["rework_sha"], hot["rework_subject"], hot["reason"]) == (
        sha["hotfix"], "hotfix: purger crash on empty disk", "subject contains 'hotfix'")
    text = _fireline(tmp_path, "explain", "rework-rate", *window)
    assert text.returncode == 0, text.stderr
    assert sha["hotfix"][:10] in text.stdout and "purger crash" in text.stdout

    (tmp_path / "fireline.toml").write_text("[rework]\nignore_paths = []\n")
    every = json.loads(_fireline(tmp_path, "explain", "rework-rate", *window, "--json").stdout)
    assert every["figure"]["rework"] == 5
    dora_json = json.loads(_fireline(tmp_path, "dora", *window, "--json").stdout)
    assert dora_json["overall"]["rework_rate"]["value"] == pytest.approx(5 / 7)


def test_bad_ignore_paths_are_refused_at_load(tmp_path):
    path = tmp_path / "fireline.toml"
    path.write_text('[rework]\nignore_paths = "docs/**"\n')
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert f"{path}: rework.ignore_paths" in str(caught.value)
    path.write_text('[rework]\nignore_paths = ["docs/[ab]*"]\n')
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert "rework.ignore_paths" in str(caught.value)
