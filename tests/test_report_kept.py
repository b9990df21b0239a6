"""A second `fireline report` over unchanged data writes the page it kept in the store (issue 16: warm at
most 0.1x the ingestion), and anything the page is made from (stored data, a working copy's HEAD, the
config, the options) makes it compute the page again. Progress: one step per report part on a piped
stderr, nothing with --quiet, only JSON on stdout with --json; the same for `fireline knowledge`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from fireline.app.report import report_file
from fireline.app.report.context import PARTS_STEP
from fireline.config import load_config
from fireline.ingest import ingest_git

from . import report_support as rs
from .gitrepo import GitRepo
from .module_probe import ENGINE_PACKAGES, command_code, packages_after

NOW = datetime(2026, 4, 1, tzinfo=UTC)
WINDOW = {"since": "2026-03-01", "until": "2026-03-31", "today": date(2026, 3, 31), "now": NOW}


def _org(tmp_path) -> tuple[GitRepo, object]:
    """One service whose repository has tags as deployments and a file with a TODO marker."""
    repo = GitRepo.create(tmp_path / "repo")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for day in range(0, 20, 2):
        when = start + timedelta(days=day)
        repo.commit(f"change {day}", when, files={f"src/m{day}.py": f"x = {day}\n"})
        if day % 4 == 0:
            repo.tag(f"v{day}", when=when + timedelta(hours=1))
    repo.commit("work to do", start + timedelta(days=21), files={"src/todo.py": "# TODO: retry the upload\n"})
    (tmp_path / "fireline.toml").write_text(
        'timezone = "UTC"\n[teams.Red]\nservices = ["api"]\n[services.api]\nrepo = "repo"\ndeploy_tags = "v*"\n')
    return repo, tmp_path / "fireline.toml"


def _report(store, config, out, **options):
    heard: list[tuple[str, int, int | None]] = []
    result = report_file(store, config, out, steps=lambda label, done, total: heard.append((label, done, total)),
                         **{**WINDOW, **options})
    computed = any(label == PARTS_STEP and done < (total or 0) for label, done, total in heard)
    return result, out.read_text(), computed


def test_a_kept_report_is_reused_until_what_it_is_made_of_changes(store, tmp_path):
    repo, path = _org(tmp_path)
    config = load_config(path)
    ingest_git(store, config, repo.path)
    out = tmp_path / "report.html"

    first, html, computed = _report(store, config, out)
    assert computed and "debt" in first.sections
    again, same, computed = _report(store, config, out)
    assert not computed, "nothing changed: the kept page is written again"
    assert same == html and again.as_dict() == first.as_dict()

    # A new marker committed but not ingested: the debt part reads markers at HEAD, so the page is made again.
    repo.commit("more work", datetime(2026, 3, 25, tzinfo=UTC), files={"src/later.py": "# FIXME: the timeout\n"})
    _, after_commit, computed = _report(store, config, out)
    assert computed and after_commit != html and "the timeout" in after_commit

    # The commit ingested: the stored data changed.
    ingest_git(store, config, repo.path)
    _, _, computed = _report(store, config, out)
    assert computed
    _, _, computed = _report(store, config, out)
    assert not computed

    # Other options, another config: other pages.
    assert _report(store, config, out, team="Red")[2]
    assert _report(store, config.model_copy(update={"profile": "dora-2021"}), out)[2]
    assert not _report(store, config, out)[2], "the first request's page is still kept"
    # PNGs are drawn from the charts, so the page is computed.
    assert _report(store, config, out, png_dir=tmp_path / "png")[2]


def test_report_progress_lines_quiet_and_json(tmp_path):
    repo, path = _org(tmp_path)
    db = str(tmp_path / "fireline.duckdb")
    done = rs.cli("ingest", "git", str(repo.path), "--db", db, "--config", str(path), "--quiet")
    assert done.returncode == 0, done.stderr
    args = ["report", "--out", str(tmp_path / "r.html"), "--since", "2026-03-01", "--until", "2026-03-31",
            "--db", db, "--config", str(path), "--json"]

    piped = rs.cli(*args)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["sections"]  # stdout is the JSON and nothing else
    lines = piped.stderr.splitlines()
    assert "report parts (11) ..." in lines
    assert "marker scans (1) ..." in lines  # before the parts: on real histories most of a cold report
    # Inside it, the scan's own steps: a cold scan of many files is where the minutes go.
    assert "reading files" in piped.stderr, piped.stderr
    assert any(line.startswith("report parts: done in ") for line in lines)

    quiet = rs.cli(*args, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout) == json.loads(piped.stdout)


def test_knowledge_progress_lines_quiet_and_json(tmp_path):
    repo, _ = _org(tmp_path)
    piped = rs.cli("knowledge", str(repo.path), "--json", cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["groups"]
    lines = piped.stderr.splitlines()
    assert "knowledge of repo (2) ..." in lines
    assert any(line.startswith("knowledge of repo: done in ") for line in lines)

    quiet = rs.cli("knowledge", str(repo.path), "--json", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout) == json.loads(piped.stdout)


def test_a_warm_report_loads_no_query_engine_nor_charts(tmp_path):
    """A kept page is written with a few plain queries: neither Ibis, pyarrow nor Altair loads (issue 16: they
    were most of a warm report's time), and the file is the cold run's."""
    repo, path = _org(tmp_path)
    db = str(tmp_path / "fireline.duckdb")
    done = rs.cli("ingest", "git", str(repo.path), "--db", db, "--config", str(path), "--quiet")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "r.html"
    args = ["report", "--out", str(out), "--since", "2026-03-01", "--until", "2026-03-31", "--at", "2026-04-01",
            "--db", db, "--config", str(path), "--quiet"]
    cold = rs.cli(*args)
    assert cold.returncode == 0, cold.stderr
    page = out.read_bytes()
    out.unlink()
    assert packages_after(command_code(args), ENGINE_PACKAGES) == []
    assert out.read_bytes() == page
