"""A second `fireline debt` as of a fixed "now" (--at, config `at`) over unchanged data answers with the
ledger kept in the store (issue 16: warm at most 0.05x the ingestion), exactly as the cold run did; a
change of the stored data, a working copy's HEAD, the config or "now" makes it compute the ledger again,
and a ledger as of the clock is never kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fireline import Workspace
from fireline.config import load_config
from fireline.store import report_cache

from . import report_support as rs
from .gitrepo import GitRepo
from .module_probe import ENGINE_PACKAGES, command_code, packages_after

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def _org(tmp_path) -> tuple[GitRepo, str, str]:
    """One service whose repository has markers, two authors (one long gone: orphaned code)."""
    repo = GitRepo.create(tmp_path / "repo")
    start = datetime(2025, 6, 2, 9, tzinfo=UTC)
    repo.commit("old", start, files={"src/old.py": "x = 1\n# HACK: the old way\n"},
                author="Gone Author <gone@example.com>")
    for day in range(0, 200, 20):
        repo.commit(f"change {day}", start + timedelta(days=day + 100), files={f"src/m{day}.py": f"x = {day}\n"})
    repo.commit("work to do", datetime(2026, 3, 20, tzinfo=UTC), files={"src/todo.py": "# TODO: retry the upload\n"})
    path = tmp_path / "fireline.toml"
    path.write_text('timezone = "UTC"\n[teams.Red]\nservices = ["api"]\n[services.api]\nrepo = "repo"\n')
    db = str(tmp_path / "fireline.duckdb")
    with Workspace(db, str(path)) as ws:
        ws.ingest_git(repo.path)
    return repo, db, str(path)


def _kept(db: str) -> list[tuple]:
    with Workspace(db) as ws:
        report_cache.prepare(ws.existing_store())  # created on first use
        return ws.existing_store().query("SELECT request, made_at FROM report_cache WHERE request LIKE 'debt:%' "
                                         "ORDER BY request")


def _ledger(db: str, config, now=NOW, **options) -> dict:
    with Workspace(db, config, now=now) as ws:
        return ws.debt(**options).to_dict()


def test_a_kept_ledger_is_reused_until_what_it_is_made_of_changes(tmp_path):
    repo, db, path = _org(tmp_path)
    cold = _ledger(db, path)
    assert {i["category"] for i in cold["items"]} >= {"marker", "orphaned code"}
    kept = _kept(db)
    assert len(kept) == 1
    warm = _ledger(db, path)
    assert warm == cold and _kept(db) == kept, "nothing changed: the kept ledger is the answer"

    # A new marker committed but not ingested: markers are read at HEAD, so the ledger is made again.
    repo.commit("more work", datetime(2026, 3, 25, tzinfo=UTC), files={"src/later.py": "# FIXME: the timeout\n"})
    after_commit = _ledger(db, path)
    assert "# FIXME: the timeout" in {i["title"] for i in after_commit["items"]}
    assert _kept(db) != kept
    kept = _kept(db)

    # Other stored data (feature flags, which the ledger does not show) is another state all the same.
    flags = tmp_path / "flags.ndjson"
    flags.write_text(json.dumps({"flag": "dark", "service": "api", "time": "2026-03-12T10:30:00Z",
                                 "state": "on"}) + "\n")
    with Workspace(db, path) as ws:
        ws.ingest_flags(flags)
    assert _ledger(db, path) == after_commit and _kept(db) != kept
    kept = _kept(db)

    # Another config, another "now", another team: other requests, each computed.
    config = load_config(path)
    fewer_words = config.model_copy(update={"budget": {**config.budget, "markers": ["FIXME"]}})
    assert "# TODO: retry the upload" not in {i["title"] for i in _ledger(db, fewer_words)["items"]}
    later = _ledger(db, path, now=NOW + timedelta(days=40))
    assert later["now"] == NOW + timedelta(days=40) and later["totals"] != after_commit["totals"]
    assert _ledger(db, path, team="Red") == after_commit
    assert len(_kept(db)) == 4
    assert _ledger(db, path) == after_commit and dict(_kept(db))[kept[0][0]] == kept[0][1], \
        "the first request's ledger is still kept"


def test_a_ledger_as_of_the_clock_is_never_kept(tmp_path):
    _, db, path = _org(tmp_path)
    with Workspace(db, path) as ws:
        first = ws.debt().to_dict()
    assert _kept(db) == []
    with Workspace(db, path) as ws:
        assert ws.debt().to_dict()["now"] > first["now"]


def test_debt_json_warm_is_byte_for_byte_the_cold_one(tmp_path):
    _, db, path = _org(tmp_path)
    args = ["debt", "--json", "--db", db, "--config", path, "--at", "2026-04-01"]
    cold = rs.cli(*args)
    warm = rs.cli(*args)
    assert cold.returncode == warm.returncode == 0, cold.stderr + warm.stderr
    assert warm.stdout == cold.stdout and json.loads(cold.stdout)["items"]
    assert len(_kept(db)) == 1


def test_a_kept_ledger_on_each_engine(store, tmp_path):
    # On PostgreSQL the state is the store's generation, which the marker scan's own write moves: the
    # ledger is kept at the state after the scan, so the next run finds it.
    repo = GitRepo.create(tmp_path / "repo")
    repo.commit("work", datetime(2026, 3, 2, tzinfo=UTC), files={"src/todo.py": "# TODO: retry\n"})
    (tmp_path / "fireline.toml").write_text('timezone = "UTC"\n[teams.Red]\nservices = ["api"]\n'
                                            '[services.api]\nrepo = "repo"\n')
    config = load_config(tmp_path / "fireline.toml")
    ws = Workspace.over(store, config, now=NOW)
    ws.ingest_git(repo.path)
    cold = ws.debt().to_dict()
    kept = store.query("SELECT request, made_at FROM report_cache WHERE request LIKE 'debt:%'")
    assert ws.debt().to_dict() == cold
    assert store.query("SELECT request, made_at FROM report_cache WHERE request LIKE 'debt:%'") == kept
    repo.commit("more", datetime(2026, 3, 5, tzinfo=UTC), files={"src/b.py": "# FIXME: later\n"})
    assert "# FIXME: later" in {i["title"] for i in ws.debt().to_dict()["items"]}


def test_a_warm_debt_loads_no_query_engine(tmp_path):
    """The kept ledger is read with a few plain queries: answering it imports neither Ibis nor pyarrow
    (nor numpy, sqlglot, pandas), which were most of a warm run's time (issue 16)."""
    _, db, path = _org(tmp_path)
    args = ["debt", "--json", "--db", db, "--config", path, "--at", "2026-04-01"]
    cold = rs.cli(*args)
    assert cold.returncode == 0, cold.stderr
    check = f"assert out.getvalue() == {cold.stdout!r}, out.getvalue()"
    assert packages_after(command_code(args, check=check), ENGINE_PACKAGES) == []
