"""Truck factor, knowledge map, hotspots and docs beside code, on repositories built by hand.

Every expected figure follows from the definitions in docs/knowledge.md (Avelino et al., ICPC 2016).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from fireline.config import Config, PersonConfig, ServiceConfig
from fireline.identity import People
from fireline.ingest import ingest_git
from fireline.metrics.knowledge import (
    analyse,
    authors_of,
    doa,
    knowledge_report,
    months_before,
    silos,
    truck_factor,
)
from fireline.metrics.knowledge_history import FileStats, load_history

ADA = "Ada Lovelace <ada@example.com>"
BOB = "Bob Stone <bob@example.com>"
CY = "Cy Young <cy@example.com>"


def day(d: int, month: int = 1) -> datetime:
    return datetime(2026, month, d, 12, tzinfo=UTC)


def text(n: int, tag: str) -> str:
    return "".join(f"{tag} line {i}\n" for i in range(n))


def report(store, repo, config: Config | None = None, **kw) -> dict:
    config = config or Config()
    ingest_git(store, config, repo.path)
    return knowledge_report(store.tables(), repo.path.name, people=People.from_config(config), **kw)


def group(result: dict, name: str) -> dict:
    return next(g for g in result["groups"] if g["name"] == name)


# ---- the model itself ----------------------------------------------------------------


def test_doa_worked_example():
    # Ada created the file (1 change), Bob changed it twice.
    ada = doa(True, 1, 2)
    bob = doa(False, 2, 1)
    assert ada == pytest.approx(3.293 + 1.098 + 0.164 - 0.321 * math.log(3))
    assert ada == pytest.approx(4.20235, abs=1e-5)
    assert bob == pytest.approx(3.39850, abs=1e-5)
    stats = FileStats("f", "ada", day(1), day(3))
    stats.changes.update({"ada": 1, "bob": 2})
    # Bob's normalised DOA 3.3985 / 4.2024 = 0.809 > 0.75 and >= 3.293: both author the file.
    assert authors_of(stats) == {"ada", "bob"}
    # Bob's 20 changes: Ada 4.555 - 0.321 ln 21 = 3.578, Bob 3.293 + 3.28 - 0.321 ln 2 = 6.351; 3.578 / 6.351
    # = 0.56 < 0.75, so Ada no longer authors the file she created.
    stats.changes["bob"] = 20
    assert doa(True, 1, 20) == pytest.approx(3.5777, abs=1e-4)
    assert doa(False, 20, 1) == pytest.approx(6.3505, abs=1e-4)
    assert authors_of(stats) == {"bob"}


def test_author_needs_the_absolute_threshold():
    # A creator swamped by others' changes (AC = 60, DL = 1) is below 3.293 even when best:
    # 4.555 - 0.321 ln 61 = 3.235.
    stats = FileStats("f", "ada", day(1), day(3))
    stats.changes.update({"ada": 1, **{f"dev{i}": 1 for i in range(60)}})
    assert doa(True, 1, 60) == pytest.approx(3.2354, abs=1e-4)
    assert authors_of(stats) == set()


def test_truck_factor_greedy():
    assert truck_factor({}).value == 0
    assert truck_factor({"a": {"ada"}, "b": {"ada"}}).value == 1
    # Two developers with half of the files each: after removing one, exactly half keep an author
    # (not "fewer than half"), so the second must go too.
    tf = truck_factor({"a": {"ada"}, "b": {"ada"}, "c": {"bob"}, "d": {"bob"}})
    assert (tf.value, tf.removed) == (2, ["ada", "bob"])  # ties broken by name
    # Most files have no author at all: the truck has already hit.
    assert truck_factor({"a": {"ada"}, "b": set(), "c": set()}).value == 0
    # Three developers: the one with most files goes first.
    tf = truck_factor({"a": {"cy"}, "b": {"cy"}, "c": {"cy", "bob"}, "d": {"bob"}, "e": {"ada"}})
    assert tf.removed == ["cy", "bob"] and tf.value == 2


def test_months_before_clamps_the_day():
    assert months_before(datetime(2026, 3, 31, 5, tzinfo=UTC), 1) == datetime(2026, 2, 28, 5, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 6) == datetime(2025, 7, 15, tzinfo=UTC)


# ---- real repositories through the store ---------------------------------------------


def test_one_author_of_everything(store, repo):
    repo.commit("start", day(1), {"a/x.py": text(5, "x"), "b/y.py": text(5, "y"), "z.md": text(2, "z")}, author=ADA)
    repo.commit("more", day(2), {"a/x.py": text(8, "x")}, author=ADA)
    result = report(store, repo)
    assert result["files"] == 3
    assert result["truck_factor"] == {"value": 1, "removed": ["Ada Lovelace"], "files": 3, "coverage": 1.0}
    assert [g["name"] for g in result["groups"]] == [".", "a", "b"]


def test_two_authors_each_with_half(store, repo):
    repo.commit("ada", day(1), {"a/1.py": text(5, "1"), "a/2.py": text(5, "2")}, author=ADA)
    repo.commit("bob", day(2), {"b/1.py": text(5, "3"), "b/2.py": text(5, "4")}, author=BOB)
    repo.commit("ada again", day(3), {"a/1.py": text(9, "1")}, author=ADA)
    repo.commit("bob again", day(4), {"b/2.py": text(9, "4")}, author=BOB)
    result = report(store, repo)
    assert result["truck_factor"]["value"] == 2
    assert result["truck_factor"]["removed"] == ["Ada Lovelace", "Bob Stone"]
    assert group(result, "a")["truck_factor"]["removed"] == ["Ada Lovelace"]
    assert group(result, "b")["truck_factor"]["removed"] == ["Bob Stone"]


def test_rename_by_another_developer_keeps_the_creator(store, repo):
    repo.commit("create", day(1), {"old/x.py": text(20, "x"), "other.py": text(3, "o")}, author=ADA)
    (repo.path / "new").mkdir()
    repo.git("mv", "old/x.py", "new/y.py")
    repo.git("commit", "-q", "-m", "move", when=day(2), author=BOB)
    result = report(store, repo)
    assert result["files"] == 2  # old/x.py is gone, new/y.py carries its history
    hot = {h["path"]: h for h in result["hotspots"]}
    assert "old/x.py" not in hot
    # Ada: FA=1, DL=1, AC=1 -> 4.33; Bob: DL=1, AC=1 -> 3.23 (< 3.293): Ada alone authors it.
    assert hot["new/y.py"]["owners"] == ["Ada Lovelace"]
    assert hot["new/y.py"]["changes"] == 2 and hot["new/y.py"]["lines"] == 20
    assert result["truck_factor"]["removed"] == ["Ada Lovelace"]


def test_deleted_files_do_not_count(store, repo):
    repo.commit("ada", day(1), {"keep.py": text(4, "k")}, author=ADA)
    repo.commit("bob", day(2), {"b1.py": text(4, "1"), "b2.py": text(4, "2")}, author=BOB)
    repo.git("rm", "-q", "b1.py", "b2.py")
    repo.git("commit", "-q", "-m", "drop", when=day(3), author=BOB)
    result = report(store, repo)
    assert result["files"] == 1
    assert result["truck_factor"]["removed"] == ["Ada Lovelace"]


def _aliased_history(repo) -> None:
    repo.commit("w", day(1), {"w1.py": text(3, "a"), "w2.py": text(3, "b")}, author="Ada Lovelace <ada@work.com>")
    repo.commit("h", day(2), {"h1.py": text(3, "c"), "h2.py": text(3, "d")}, author="Ada L <ADA@home.org>")
    repo.commit("b", day(3), {"b1.py": text(3, "e"), "b2.py": text(3, "f")}, author=BOB)
    # The same address in other case is the same developer even without config.
    repo.commit("w3", day(4), {"w1.py": text(5, "a")}, author="Ada Lovelace <Ada@Work.com>")


def test_aliases_merge_through_config(store, repo):
    _aliased_history(repo)
    plain = report(store, repo)
    # Unmerged: three developers with two files each -> two must go before fewer than half remain.
    assert plain["truck_factor"]["value"] == 2
    assert len(plain["developers"]) == 3
    cfg = Config(people={"Ada Lovelace": PersonConfig(email="ada@work.com", emails=["ada@home.org"])})
    merged = knowledge_report(store.tables(), repo.path.name, people=People.from_config(cfg))
    assert merged["truck_factor"] == {"value": 1, "removed": ["Ada Lovelace"], "files": 6, "coverage": 1.0}
    ada = next(d for d in merged["developers"] if d["name"] == "Ada Lovelace")
    assert ada["emails"] == ["ada@home.org", "ada@work.com"] and ada["files_authored"] == 4


def _services_config(tmp_path) -> Config:
    return Config(base_dir=tmp_path, services={
        "purger": ServiceConfig(repo="repo", paths=["purger/**"]),
        "web": ServiceConfig(repo="repo", paths=["web/**"]),
    })


def test_knowledge_map_active_inactive_and_orphaned(store, repo, tmp_path):
    repo.commit("purger", day(5, 1), {"purger/purge.py": text(30, "p"), "purger/conf.yaml": text(5, "c")},
                author="Priya Raman <priya@example.com>")
    repo.commit("web", day(10, 6), {"web/app.ts": text(10, "w")}, author=BOB)
    repo.commit("web2", day(20, 6), {"web/app.ts": text(12, "w"), "purger/conf.yaml": text(6, "c")}, author=BOB)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    result = report(store, repo, _services_config(tmp_path), by="service", now=now, active_months=3)
    assert result["active_since"] == datetime(2026, 4, 1, tzinfo=UTC)
    purger = group(result, "purger")
    assert purger["truck_factor"]["value"] == 1
    assert purger["truck_factor"]["removed"] == ["Priya Raman"]
    # conf.yaml: Priya DOA 3.293+1.098+0.164-0.321 ln 2 = 4.33, Bob 3.23: Priya alone, as for purge.py.
    assert purger["authors"] == [{"name": "Priya Raman", "files": 2, "active": False,
                                  "last_commit": day(5, 1)}]
    assert purger["orphaned"] == ["purger/conf.yaml", "purger/purge.py"]
    assert purger["orphaned_lines"] == 36
    web = group(result, "web")
    assert web["orphaned_files"] == 0 and web["authors"][0]["active"] is True
    # With a long enough memory Priya still counts as active.
    wide = knowledge_report(store.tables(), "repo", by="service", now=now, active_months=12)
    assert group(wide, "purger")["orphaned_files"] == 0


def test_silos_agree_with_the_analysis_at_every_date(store, repo, tmp_path):
    # The debt ledger's month-end totals ask `silos` once instead of `analyse` at each month's end.
    repo.commit("purger", day(5, 1), {"purger/purge.py": text(30, "p"), "purger/conf.yaml": text(5, "c")},
                author="Priya Raman <priya@example.com>")
    repo.commit("web", day(10, 3), {"web/app.ts": text(10, "w"), "web/b.ts": text(4, "b")}, author=BOB)
    repo.commit("web2", day(20, 6), {"web/app.ts": text(12, "w"), "purger/conf.yaml": text(6, "c")}, author=ADA)
    repo.commit("other", day(2, 8), {"README.md": text(3, "r")}, author=CY)
    config = _services_config(tmp_path)
    ingest_git(store, config, repo.path)
    history = load_history(store.tables(), "repo", people=People.from_config(config))
    found = {g["name"]: g for g in silos(history, by="service")}
    for month in range(1, 13):
        for active_months in (1, 3, 6):
            now = datetime(2026, month, 1, tzinfo=UTC)
            result = analyse(history, by="service", now=now, active_months=active_months, top=0)
            assert sorted(found) == [g["name"] for g in result["groups"]]
            for g in result["groups"]:
                s = found[g["name"]]
                orphaned = s["orphaned_before"] is not None and s["orphaned_before"] < result["active_since"]
                assert orphaned == bool(g["orphaned_files"]), (now, active_months, g["name"])
                assert (s["truck_factor"], s["files"]) == (g["truck_factor"]["value"], g["files"])


def test_now_defaults_to_the_newest_commit(store, repo):
    repo.commit("one", day(1), {"a.py": text(3, "a")}, author=ADA)
    repo.commit("two", day(20, 9), {"b.py": text(3, "b")}, author=BOB)
    result = report(store, repo, active_months=6)
    assert result["now"] == day(20, 9)
    active = {d["name"]: d["active"] for d in result["developers"]}
    assert active == {"Ada Lovelace": False, "Bob Stone": True}


def test_hotspots_order_by_changes_times_size(store, repo):
    repo.commit("c1", day(1), {"busy.py": text(10, "b"), "big.py": text(40, "g"), "small.py": text(5, "s")},
                author=ADA)
    repo.commit("c2", day(2), {"busy.py": text(11, "b"), "small.py": text(6, "s")}, author=BOB)
    repo.commit("c3", day(3), {"busy.py": text(12, "b")}, author=BOB)
    result = report(store, repo, top=2)
    # busy: 3 changes x 12 lines = 36 < big: 1 x 40 = 40; small: 2 x 6 = 12 (cut by top=2).
    assert [(h["path"], h["score"]) for h in result["hotspots"]] == [("big.py", 40), ("busy.py", 36)]
    assert result["hotspots"][0]["owners"] == ["Ada Lovelace"]


def test_docs_beside_code_and_staleness(store, repo):
    repo.commit("docs", day(1), {"svc/README.md": text(3, "r"), "svc/main.py": text(5, "m")}, author=ADA)
    repo.commit("code", day(11), {"svc/main.py": text(8, "m")}, author=ADA)
    repo.commit("runbook", day(21), {"docs/runbooks/svc.md": text(4, "rb")}, author=ADA)
    repo.commit("other", day(2), {"lib/util.py": text(4, "u")}, author=ADA)
    result = report(store, repo)
    docs = group(result, "svc")["docs"]
    assert docs["code_last_changed"] == day(11)
    assert docs["readme"] == {"path": "svc/README.md", "last_changed": day(1), "stale_days": 10.0}
    # The runbook lives in docs/runbooks/ but is named after the directory; it is newer than the code.
    assert docs["runbook"] == {"path": "docs/runbooks/svc.md", "last_changed": day(21), "stale_days": -10.0}
    lib = group(result, "lib")["docs"]
    assert lib["readme"] is None and lib["runbook"] is None


def test_cli_json_ingests_first(tmp_path, repo):
    repo.commit("ada", day(1), {"a/1.py": text(5, "1")}, author=ADA)
    repo.commit("bob", day(2), {"b/1.py": text(5, "2")}, author=BOB)
    db = tmp_path / "k.duckdb"
    run = subprocess.run([sys.executable, "-m", "fireline", "knowledge", str(repo.path), "--db", str(db),
                          "--json", "--now", "2026-01-03"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["repo"] == "repo" and data["truck_factor"]["value"] == 2
    assert data["now"] == "2026-01-03T00:00:00+00:00"
    assert {g["name"] for g in data["groups"]} == {"a", "b"}
    table = subprocess.run([sys.executable, "-m", "fireline", "knowledge", str(repo.path), "--db", str(db)],
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "120"})
    assert table.returncode == 0, table.stderr
    assert "truck factor 2" in table.stdout
    bad = subprocess.run([sys.executable, "-m", "fireline", "knowledge", str(repo.path), "--db", str(db),
                          "--now", "yesterday"], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "--now" in bad.stderr and "Traceback" not in bad.stderr


def test_mailmap_merges_one_persons_addresses(duck, tmp_path):
    """git's .mailmap is honoured by the single git pass, so the analysis sees one author."""
    from datetime import UTC, datetime, timedelta

    from fireline.config import Config
    from fireline.ingest import ingest_git

    from .gitrepo import GitRepo

    repo = GitRepo.create(tmp_path / "mm")
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    repo.commit("one", t0, files={"a.py": "1\n"}, author="Ada <ada@home.example>")
    repo.commit("two", t0 + timedelta(hours=1), files={"a.py": "2\n"}, author="Ada L <ada@work.example>")
    repo.commit("mailmap", t0 + timedelta(hours=2), files={".mailmap": "Ada Lovelace <ada@work.example> "
                                                                   "<ada@home.example>\nAda Lovelace "
                                                                   "<ada@work.example> Ada L <ada@work.example>\n"})
    ingest_git(duck, Config(), repo.path, service="mm")
    authors = {r[0] for r in duck.query("SELECT DISTINCT author_email FROM changes WHERE subject <> 'mailmap'")}
    assert authors == {"ada@work.example"}


def test_one_history_analysed_at_several_dates_and_groupings_reads_as_a_fresh_one_each_time(store, repo, tmp_path):
    """The debt ledger analyses each history at every month's end: what depends on the files alone is
    worked out once per history, and each analysis is still the one a fresh history gives."""
    repo.commit("purger", day(5, 1), {"purger/purge.py": text(30, "p"), "docs/runbooks/purger.md": text(3, "r")},
                author=ADA)
    repo.commit("web", day(10, 6), {"web/app.ts": text(10, "w"), "purger/purge.py": text(31, "p")}, author=BOB)
    config = _services_config(tmp_path)
    ingest_git(store, config, repo.path)
    people = People.from_config(config)
    shared = load_history(store.tables(), "repo", people=people)
    for by, now in (("service", day(1, 7)), ("dir", day(1, 3)), ("service", day(1, 2)), ("dir", day(1, 7))):
        fresh = load_history(store.tables(), "repo", people=people)
        assert analyse(shared, by=by, now=now, active_months=3) == analyse(fresh, by=by, now=now, active_months=3)


def test_without_a_path_or_config_outside_a_repository_the_stored_repositories_are_analysed(tmp_path, repo):
    """Ingest first, then ask from a folder that is no repository, with no config: the repositories the store
    holds are analysed (as `fireline debt` reads them), not an error about '.'."""
    repo.commit("ada", day(1), {"a/1.py": text(5, "1")}, author=ADA)
    repo.commit("bob", day(2), {"b/1.py": text(5, "2")}, author=BOB)
    db = tmp_path / "k.duckdb"
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_DB", "FIRELINE_CONFIG")}
    ingest = subprocess.run([sys.executable, "-m", "fireline", "ingest", "git", str(repo.path), "--db", str(db)],
                            capture_output=True, text=True, cwd=folder, env=env)
    assert ingest.returncode == 0, ingest.stderr
    run = subprocess.run([sys.executable, "-m", "fireline", "knowledge", "--db", str(db), "--json", "--at",
                          "2026-01-03"], capture_output=True, text=True, cwd=folder, env=env)
    assert run.returncode == 0, run.stderr
    [report] = json.loads(run.stdout)["repositories"]
    assert report["repo"] == "repo" and report["truck_factor"]["value"] == 2
    empty = subprocess.run([sys.executable, "-m", "fireline", "knowledge", "--db", str(tmp_path / "none.duckdb")],
                           capture_output=True, text=True, cwd=folder, env=env)
    assert empty.returncode == 2 and "not a git repository" in empty.stderr and "Traceback" not in empty.stderr
    assert not (tmp_path / "none.duckdb").exists()
