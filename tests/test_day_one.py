"""A new user's first commands on an old history: an empty window says where the data is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from fireline.cli import app

from .gitrepo import GitRepo


def _old_history(tmp_path):
    repo = GitRepo.create(tmp_path / "lib")
    start = datetime(2023, 3, 1, 10, tzinfo=UTC)
    for week in range(6):
        repo.commit(f"change {week}", start + timedelta(weeks=week), files={"a.txt": str(week)})
        repo.tag(f"v1.{week}", when=start + timedelta(weeks=week, hours=2))
    return repo


def test_an_empty_window_names_the_data_and_a_window_that_shows_it(tmp_path):
    repo = _old_history(tmp_path)
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "git", str(repo.path), "--deploy-tags", "v*", "--db", db]).exit_code == 0
    env = {"COLUMNS": "160", "FIRELINE_CONFIG": None}
    data = json.loads(runner.invoke(app, ["dora", "--db", db, "--at", "2026-12-03", "--json"], env=env).output)
    assert data["overall"]["deployment_frequency"]["count"] == 0
    hint = data["hint"]
    assert (hint["since"], hint["until"]) == ("2023-03-01", "2023-04-05")
    assert hint["first"].startswith("2023-03-01T12:00")
    assert "try --since 2023-03-01 --until 2023-04-05" in hint["message"]
    text = runner.invoke(app, ["dora", "--db", db, "--at", "2026-12-03"], env=env).output
    assert "nothing in this window; the data runs from 2023-03-01 12:00 to 2023-04-05 12:00 (UTC)" in text
    # The suggested window shows every deployment, and carries no hint.
    shown = json.loads(runner.invoke(app, ["dora", "--db", db, "--since", hint["since"], "--until", hint["until"],
                                           "--json"], env=env).output)
    assert shown["overall"]["deployment_frequency"]["count"] == 6 and "hint" not in shown


def test_an_empty_store_gets_no_window_hint(tmp_path):
    repo = GitRepo.create(tmp_path / "lib")
    repo.commit("only", datetime(2023, 3, 1, tzinfo=UTC), files={"a": "1"})
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "git", str(repo.path), "--db", db]).exit_code == 0
    data = json.loads(runner.invoke(app, ["dora", "--db", db, "--json"], env={"FIRELINE_CONFIG": None}).output)
    assert "hint" not in data  # no deployment or incident anywhere: another window would not help


def test_the_report_of_an_empty_window_says_where_the_data_is_without_empty_charts(tmp_path):
    repo = _old_history(tmp_path)
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "git", str(repo.path), "--deploy-tags", "v*", "--db", db]).exit_code == 0
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "--db", db, "--at", "2026-12-03", "--out", str(out)],
                        env={"FIRELINE_CONFIG": None})
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "Nothing in this window; the data runs from 2023-03-01 12:00 to 2023-04-05 12:00 (UTC)" in page
    assert 'id="trends"' not in page  # no weekly charts of nothing


def test_knowledge_of_a_repository_the_store_lacks_writes_nothing(tmp_path):
    """Regression: `fireline knowledge` ingested the repository into the store as a side effect (creating the
    store when there was none); an analysis writes nothing unless asked."""
    repo = _old_history(tmp_path)
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    env = {"FIRELINE_CONFIG": None}
    first = runner.invoke(app, ["knowledge", str(repo.path), "--db", str(db), "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["files"] == 1
    assert not db.exists()
    # Once ingested on purpose, the stored history is read, with the same answer.
    assert runner.invoke(app, ["ingest", "git", str(repo.path), "--db", str(db)]).exit_code == 0
    again = runner.invoke(app, ["knowledge", str(repo.path), "--db", str(db), "--json"], env=env)
    assert json.loads(again.stdout) == json.loads(first.stdout)
