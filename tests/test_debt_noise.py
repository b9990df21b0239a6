"""The debt ledger without noise (issue 15): markers are comments (`context.TODO()` in Go and "TODO" in
a string are code, 54 of prometheus' 361 markers), generated and vendored files and lockfiles are
no hotspots, and the knowledge line of the monthly chart counts what the headline counts.

Real repositories built here; the scan reads them as `fireline debt` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fireline.debt.comments import comment_markers
from fireline.debt.markers import marker_pattern, scan_repo

from .gitrepo import GitRepo

PATTERN = marker_pattern(["TODO", "FIXME", "HACK", "XXX"])

GO = '''package main

import "context"

// TODO: pass the caller's context
func run() {
	ctx := context.TODO()
	msg := "TODO: not a marker, a string"
	raw := `FIXME inside a raw string, ending in a backslash\\`
	/* HACK: a block comment
	XXX still in it */
	_ = ctx // FIXME trailing comment
	_, _ = msg, raw
}
'''

PY = '''def f():
    """TODO: a docstring counts as a note."""
    s = "TODO in a string"
    t = 'FIXME too'
    u = """
    XXX inside a triple-quoted value
    """
    return s  # HACK: comment
'''

TS = '''const a = "TODO: string";
const b = `FIXME ${a} template`;
// TODO: real
/** XXX: doc comment */
const url = "http://example.com/#TODO";
'''

YAML = '''# TODO: tune the limits
key: "TODO in a value"
url: http://example.com/#FIXME
other: 1 # HACK
'''


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("main.go", GO, {5: "TODO", 10: "HACK", 11: "XXX", 12: "FIXME"}),
    ("lib/f.py", PY, {2: "TODO", 8: "HACK"}),
    # A docstring after comments and blank lines, at the top and in a class; a value is not one.
    ("lib/g.py", '#!/usr/bin/env python\n# header\n\n"""TODO: module doc."""\nx = 1\n\nclass A:\n    # note\n\n'
                 '    """FIXME: class doc."""\n    y = """XXX value"""\n\n\n    """HACK: after a value"""\n',
     {4: "TODO", 10: "FIXME"}),
    ("web/a.ts", TS, {3: "TODO", 4: "XXX"}),
    ("deploy/values.yaml", YAML, {1: "TODO", 4: "HACK"}),
    # Languages without a fast scanner go through Pygments' lexers.
    ("db/schema.sql", "-- TODO: index\nSELECT 'TODO' AS x;\n", {1: "TODO"}),
    ("src/App.hs", 'main = putStrLn "TODO"\n-- FIXME: io\n', {2: "FIXME"}),
])
def test_markers_are_comments(path, text, expected):
    assert comment_markers(path, text, PATTERN) == expected


@pytest.mark.parametrize("path", ["README.md", "notes.txt", "docs/guide.rst", "Makefile.unknownext", "LICENSE"])
def test_prose_and_unknown_files_keep_every_line(path):
    assert comment_markers(path, "a TODO here\nnone\n", PATTERN) is None


def t(day: int) -> datetime:
    return datetime(2026, 1, day, 12, tzinfo=UTC)


def test_the_scan_counts_only_comment_markers(repo: GitRepo):
    repo.commit("Add code", t(5), {"main.go": GO, "README.md": "TODO: write docs\n"})
    found = {(m.path, m.line): m.word for m in scan_repo(repo.path).markers}
    assert found == {("main.go", 5): "TODO", ("main.go", 10): "HACK", ("main.go", 11): "XXX",
                     ("main.go", 12): "FIXME", ("README.md", 1): "TODO"}


def test_generated_and_vendored_files_are_skipped(repo: GitRepo):
    repo.commit("Add code", t(5), {
        ".gitattributes": "web/api/*.yaml linguist-generated\nthird_party/** linguist-vendored\n"
                          "keep/** -linguist-generated\n",
        "main.go": "package main // TODO: real\n",
        "web/api/openapi.yaml": "# TODO: generated\n",
        "third_party/lib/x.go": "// TODO: vendored\n",
        "package-lock.json": "{}\n", "go.sum": "x\n", "CHANGELOG.md": "TODO\n",
    })
    scan = scan_repo(repo.path)
    assert [m.path for m in scan.markers] == ["main.go"]
    assert scan.generated == {"web/api/openapi.yaml", "third_party/lib/x.go", "package-lock.json", "go.sum",
                              "CHANGELOG.md"}
    assert scan.as_dict()["skipped"]["generated"] == 5


def _fireline(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "fireline", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def test_lockfiles_and_generated_files_are_no_hotspots(tmp_path):
    repo = GitRepo.create(tmp_path / "svc")
    repo.commit("Start", t(2), {".gitattributes": "docs/api.html linguist-generated=true\n",
                                "main.go": "package main\n", "go.mod": "module x\n"})
    for day in range(3, 13):
        body = "\n".join(f"line {i} {day}" for i in range(40)) + "\n"
        repo.commit(f"Work {day}", t(day), {"main.go": f"package main\n// {day}\n", "go.sum": body,
                                            "yarn.lock": body, "docs/api.html": body, "CHANGELOG.md": body,
                                            "crds/crd.yaml": "kind: CustomResourceDefinition\n" + body,
                                            "crds/thing.yaml": body})
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    run = _fireline(tmp_path, "debt", "--db", db, "--at", "2026-01-20", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    hot = [i["path"] for i in data["items"] if i["category"] == "hotspot"]
    assert "main.go" in hot and "crds/thing.yaml" in hot
    assert not {"go.sum", "yarn.lock", "docs/api.html", "CHANGELOG.md", "crds/crd.yaml"} & set(hot)


def test_the_monthly_knowledge_line_counts_silos_like_the_headline(tmp_path):
    repo = GitRepo.create(tmp_path / "svc")
    files = {f"pkg/mod{i}.py": f"value = {i}\n" for i in range(6)}
    repo.commit("Everything, by one person who left", datetime(2025, 1, 10, 12, tzinfo=UTC), files)
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    run = _fireline(tmp_path, "debt", "--db", db, "--at", "2026-01-20", "--since", "2025-11-01", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    knowledge = [i for i in data["items"] if i["kind"] == "knowledge"]
    assert sorted(i["category"] for i in knowledge) == ["orphaned code", "truck factor 1"]
    headline = {r["team"]: r["knowledge"] for r in data["by_team"]}
    last = [r for r in data["totals"] if r["month"] == "2026-01"]
    assert {r["team"]: r["knowledge"] for r in last} == headline == {"(no team)": 2}  # not 6 files + 1


def test_a_file_gone_from_head_is_no_hotspot(tmp_path):
    repo = GitRepo.create(tmp_path / "svc")
    for day in range(2, 8):
        repo.commit(f"Work {day}", t(day), {"old.js": f"{day}\n" * 50, "main.go": f"package main // {day}\n"})
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    repo.git("rm", "-q", "old.js")
    repo.git("commit", "-q", "-m", "Drop old.js", when=t(9))  # committed after the last ingest
    data = json.loads(_fireline(tmp_path, "debt", "--db", db, "--at", "2026-01-20", "--json").stdout)
    assert [i["path"] for i in data["items"] if i["category"] == "hotspot"] == ["main.go"]


def test_budget_generated_marks_more_generated_files(tmp_path):
    # kube-prometheus' manifests/ are jsonnet output with no header and no .gitattributes.
    repo = GitRepo.create(tmp_path / "svc")
    for day in range(2, 8):
        body = f"kind: Deployment # TODO: {day}\n" * 30
        repo.commit(f"Build {day}", t(day), {"manifests/app.yaml": body, "jsonnet/app.libsonnet": f"{{}} // {day}\n"})
    db = str(tmp_path / "s.duckdb")
    assert _fireline(tmp_path, "ingest", "git", "svc", "--db", db).returncode == 0
    (tmp_path / "fireline.toml").write_text('[budget]\ngenerated = ["manifests/**"]\n')
    data = json.loads(_fireline(tmp_path, "debt", "--db", db, "--at", "2026-01-20", "--json").stdout)
    assert [i["path"] for i in data["items"] if i["category"] == "hotspot"] == ["jsonnet/app.libsonnet"]
    assert not [i for i in data["items"] if i["category"] == "marker"]
    assert data["scans"][0]["skipped"]["generated"] == 1
    (tmp_path / "fireline.toml").write_text('[budget]\ngenerated = "manifests/**"\n')
    bad = _fireline(tmp_path, "debt", "--db", db, "--at", "2026-01-20")
    assert bad.returncode == 2 and "budget.generated" in bad.stderr


@pytest.mark.parametrize(("head", "generated"), [
    (b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n", True),
    (b"# @generated by pip-compile\n", True),
    (b"/* Do Not Edit: made by a tool */\n", True),
    (b"# AUTO-GENERATED FILE\n", True),
    (b"# Autogenerated\n", True),
    (b"// automatically generated by build.rs\n", True),
    (b"# This file was generated from schema.yaml\n", True),
    (b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {}\n", True),
    (b"kind:  CustomResourceDefinition  \n", True),
    (b"# a generator of reports\nx = 1\n", False),
    (b"kind: Deployment  # not a CustomResourceDefinition\n", False),
    (b"print('regenerated')\n", False),
    (b"\n\n\n\n\n# Code generated; DO NOT EDIT.\n", False),  # past the first five lines
])
def test_a_generators_header_or_a_crd_marks_a_file_generated(head, generated):
    from fireline.debt.generated import by_content

    assert by_content(head) is generated
