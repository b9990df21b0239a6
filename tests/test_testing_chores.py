"""Dependency bumps are chores, not bug fixes (issue 15: 82 of prometheus' "untested fixes" were
renovate's `fix(deps): update module ...`, dependabot's "Bump x from a to b" and the like).

A real repository built here holds one of each shape next to two real fixes; `[testing]` in the
config sets the keywords, test patterns and the ignored subjects and authors, validated at load.
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
from fireline.metrics import testing
from fireline.metrics.scope import Scope
from fireline.metrics.testing import Classifier, TestingParams

from .gitrepo import GitRepo

SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def t(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


CHORES = [
    "fix(deps): update module github.com/miekg/dns to v1.1.73 (#19481)",
    "build(deps): bump golang.org/x/net to v0.39.0 (CVE-2026-56852)",
    "chore(deps): bump github.com/klauspost/compress from 1.18.0 to 1.18.1\n\nFixes a crash in the decoder.",
    "Bump lodash from 4.17.20 to 4.17.21\n\nBumps lodash. Fixes prototype pollution.",
    "fix(deps-dev): update dependency eslint to v9",
    "Update module github.com/prometheus/common to v0.67.2 (fix)",
]


@pytest.mark.parametrize("message", [*CHORES, "ci: bump pnpm/action-setup to v6.0.9 (#18998)",
                                     "Bump promci action (#17912)\n\nFixes the release job.",
                                     "Update Go dependencies (#17711)\n\nFixes CVE-2026-1.",
                                     "Update prometheus/common dependency to v0.67.2 (fixes #1)"])
def test_dependency_bumps_are_not_fixes(message):
    classifier = Classifier.of(TestingParams())
    assert classifier.reasons(message) == []
    assert classifier.chore(message) is not None


@pytest.mark.parametrize("message", [
    "Fix crash in the dependency resolver",  # a fix that talks about dependencies is still a fix
    "fix(deps-resolver): loop on cycles",
    "Bump: fix off-by-one in the bump allocator",
])
def test_fixes_that_mention_dependencies_stay_fixes(message):
    assert Classifier.of(TestingParams()).reasons(message) != []


def test_ignored_subjects_and_authors_are_parameters():
    params = TestingParams(ignore_subjects=(r"^wip\b",), ignore_authors=("Release Robot",))
    classifier = Classifier.of(params)
    assert classifier.reasons("WIP fix the thing") == []
    assert classifier.reasons("Fix the thing", author="release robot") == []
    assert classifier.reasons("Fix the thing", author="Ada") != []
    # The configured list replaces the default one: bumps count again when the list is emptied.
    assert Classifier.of(TestingParams(ignore_subjects=())).reasons(CHORES[0]) != []


def build(base: Path) -> GitRepo:
    repo = GitRepo.create(base / "svc")
    repo.commit("Initial import", t(2), {"main.go": "package main\n", "go.mod": "module x\n"})
    for day, message in enumerate(CHORES, start=3):
        repo.commit(message, t(day), {"go.mod": f"module x\n// {day}\n", "go.sum": f"{day}\n"})
    repo.commit("Fix crash in parser", t(12), {"main.go": "package main // 2\n"})
    repo.commit("fix: race in cache", t(13), {"cache.go": "package main\n", "cache_test.go": "package main\n"})
    repo.commit("Fix crash in release script", t(14), {"release.sh": "echo\n"},
                author="Release Robot <robot@example.com>")
    return repo


def test_report_leaves_bumps_out_and_counts_them(tmp_path, duck):
    build(tmp_path)
    ingest_git(duck, Config(), tmp_path / "svc")
    r = testing.report(duck.tables(), Scope(SINCE, UNTIL))
    assert sorted(f.subject for f in r.fixes) == ["Fix crash in parser", "Fix crash in release script",
                                                   "fix: race in cache"]
    assert (r.overall.fixes, r.overall.with_test) == (3, 1)
    # Counted: the bumps whose words would make them fixes (the build(deps) bump names no fix word).
    assert r.as_dict()["chores_ignored"] == len(CHORES) - 1
    assert {c["why"].split()[0] for c in r.as_dict()["chores"]} == {"subject"}


def _fireline(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "fireline", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_testing_section_in_config(tmp_path):
    build(tmp_path)
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    (tmp_path / "fireline.toml").write_text(
        '[testing]\nfix_keywords = ["crash"]\nignore_authors = ["Release Robot"]\n'
        'test_patterns = { go = ["*_test.go"] }\n')
    run = _fireline(tmp_path, "testing", "--db", db, "--since", "2026-03-01", "--until", "2026-03-31", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    # "crash" is the only keyword; "fix:" is a conventional-commit type, not a keyword.
    assert sorted(f["subject"] for f in data["fixes"]) == ["Fix crash in parser", "fix: race in cache"]
    assert data["params"]["fix_keywords"] == ["crash"]
    assert data["params"]["test_patterns"] == {"go": ["*_test.go"]}
    assert data["params"]["ignore_authors"] == ["Release Robot"]
    # fix(deps) and fix(deps-dev) by their type, chore(deps) by "crash" in its body, the robot's fix.
    assert data["chores_ignored"] == 4


@pytest.mark.parametrize(("body", "key"), [
    ('ignore_subjects = ["(unclosed"]', "testing.ignore_subjects"),
    ("fix_keywords = 3", "testing.fix_keywords"),
    ('test_patterns = { go = "*_test.go" }', "testing.test_patterns.go"),
    ("include_merges = 'maybe'", "testing.include_merges"),
    ("fix_words = []", "testing.fix_words"),
    ('ignore_paths = ["docs/[ab]/**"]', "testing.ignore_paths"),
])
def test_bad_testing_settings_are_refused_at_load(tmp_path, body, key):
    path = tmp_path / "fireline.toml"
    path.write_text(f"[testing]\n{body}\n")
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert f"{path}: {key}" in str(caught.value)
    run = _fireline(tmp_path, "dora", "--db", str(tmp_path / "s.duckdb"))
    assert run.returncode == 2 and key in run.stderr and "Traceback" not in run.stderr


def docs_and_code(base: Path) -> GitRepo:
    """Found on pallets/flask: 420 of its 756 fixes without a test touched only documentation
    ("Fix typo in the changelog", "docs: fix wrong JS syntax"), which no regression test can cover."""
    repo = GitRepo.create(base / "svc")
    repo.commit("Initial import", t(2), {"app.py": "x = 1\n", "docs/config.rst": "Config\n", "CHANGES.rst": "1.0\n"})
    repo.commit("Fix typo in the changelog", t(3), {"CHANGES.rst": "1.0.1\n"})
    repo.commit("docs: fix wrong JS syntax", t(4), {"docs/config.rst": "Config!\n", "README.md": "hi\n"})
    repo.commit("fix: CI cache key", t(5), {".github/workflows/test.yml": "on: push\n"})
    repo.commit("Fix crash on empty config", t(6), {"app.py": "x = 2\n", "CHANGES.rst": "1.0.2\n"})
    return repo


def test_fixes_touching_only_documentation_ci_or_manifests_are_chores(tmp_path, duck):
    docs_and_code(tmp_path)
    ingest_git(duck, Config(), tmp_path / "svc")
    r = testing.report(duck.tables(), Scope(SINCE, UNTIL))
    assert [f.subject for f in r.fixes] == ["Fix crash on empty config"]  # code and changelog: a fix
    assert (r.overall.fixes, r.overall.with_test) == (1, 0)
    why = {c["subject"]: c["why"] for c in r.as_dict()["chores"]}
    assert set(why) == {"Fix typo in the changelog", "docs: fix wrong JS syntax", "fix: CI cache key"}
    assert why["docs: fix wrong JS syntax"] == "touches only files of testing.ignore_paths (README.md, docs/config.rst)"
    # The setting replaces the list; [] counts every fix again.
    r = testing.report(duck.tables(), Scope(SINCE, UNTIL), TestingParams(ignore_paths=()))
    assert r.overall.fixes == 4
    r = testing.report(duck.tables(), Scope(SINCE, UNTIL), TestingParams(ignore_paths=("*.rst",)))
    assert sorted(f.subject for f in r.fixes) == ["Fix crash on empty config", "docs: fix wrong JS syntax",
                                                   "fix: CI cache key"]


def test_ignore_paths_in_config_reach_the_report(tmp_path):
    docs_and_code(tmp_path)
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    window = ["--since", "2026-03-01", "--until", "2026-03-31", "--json"]
    data = json.loads(_fireline(tmp_path, "testing", "--db", db, *window).stdout)
    assert data["overall"]["fixes"] == 1 and data["chores_ignored"] == 3
    assert "docs/**" in data["params"]["ignore_paths"]
    (tmp_path / "fireline.toml").write_text('[testing]\nignore_paths = ["*.rst"]\n')
    data = json.loads(_fireline(tmp_path, "testing", "--db", db, *window).stdout)
    assert data["params"]["ignore_paths"] == ["*.rst"]
    assert data["overall"]["fixes"] == 3  # only the changelog typo is left out: README.md is no *.rst
