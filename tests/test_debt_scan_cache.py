"""Marker scans kept in the store: a second `fireline debt` on unchanged repositories reads no history,
and after new commits only the files they changed are read and blamed again, with the same answer as
a scan from scratch (a file changed and changed back, a rewritten history, other settings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fireline.debt.markers import scan_repo
from fireline.debt.report import ScanCache
from fireline.store import Store

from .gitrepo import GitRepo

ADA = "Ada Lovelace <ada@example.com>"
BOB = "Bob Byte <bob@example.com>"


def t(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


def fill(repo: GitRepo) -> None:
    repo.commit("start", t(1), {f"src/m{i}.py": f"# TODO: item {i}\nx = {i}\n" for i in range(6)}
                | {"README.md": "plain\n", "logo.bin": "\0\1\2"}, author=ADA)


def markers(result) -> list[tuple]:
    return [(m.path, m.line, m.word, m.text, m.sha, m.author, m.time) for m in result.markers]


def scan(store: Store, repo: GitRepo, words=("TODO", "FIXME", "HACK", "XXX")):
    """One command's scan: a new in-memory cache each time, as each CLI run has."""
    cache = ScanCache()
    result = cache.scan(repo.path, repo="r", words=list(words), max_bytes=1_000_000, store=store)
    return result, cache.scans


def test_an_unchanged_head_is_answered_from_the_store_without_reading_git(tmp_path, repo):
    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    first, read = scan(store, repo)
    assert read == 1 and len(first.markers) == 6
    second, read = scan(store, repo)
    assert read == 0  # nothing read: the kept scan answered
    assert markers(second) == markers(first)
    assert (second.files, second.scanned, second.skipped) == (first.files, first.scanned, first.skipped)


def test_a_new_commit_costs_only_the_files_it_changed(tmp_path, repo):
    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    scan(store, repo)
    repo.commit("edit one", t(2), {"src/m3.py": "# TODO: item 3\n# FIXME: new\nx = 3\n"}, author=BOB)
    after, read = scan(store, repo)
    assert read == 1
    assert after.reused_files == after.files - 1 and after.blamed_files == 1
    assert markers(after) == markers(scan_repo(repo.path, repo="r"))
    assert ("src/m3.py", 2, "FIXME", "# FIXME: new", repo.head(), "Bob Byte", t(2)) in markers(after)


def test_a_file_changed_and_changed_back_is_blamed_again(tmp_path, repo):
    # Same blob as in the kept scan, but git blame now names the commit that restored the line.
    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    scan(store, repo)
    repo.commit("break", t(2), {"src/m1.py": "x = 1\n"}, author=BOB)
    repo.commit("restore", t(3), {"src/m1.py": "# TODO: item 1\nx = 1\n"}, author=BOB)
    after, _ = scan(store, repo)
    assert markers(after) == markers(scan_repo(repo.path, repo="r"))
    assert ("src/m1.py", 1, "TODO", "# TODO: item 1", repo.head(), "Bob Byte", t(3)) in markers(after)


def test_a_rewritten_history_and_other_settings_give_what_a_fresh_scan_gives(tmp_path, repo):
    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    scan(store, repo)
    repo.git("commit", "-q", "--amend", "-m", "start, amended", when=t(5), author=BOB)
    after, read = scan(store, repo)
    assert read == 1 and markers(after) == markers(scan_repo(repo.path, repo="r"))
    fixme_only, read = scan(store, repo, words=("FIXME",))
    assert read == 1 and fixme_only.markers == []


def test_a_damaged_cache_row_costs_one_fresh_scan(tmp_path, repo):
    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    first, _ = scan(store, repo)
    with store.transaction() as tx:
        tx.execute("UPDATE scan_cache SET result = '{not json'")
    again, read = scan(store, repo)
    assert read == 1 and markers(again) == markers(first)
    assert json.loads(store.scan_cache("r", str(repo.path))[1])["head"] == repo.head()


def test_a_scan_kept_by_an_older_blame_is_not_reused(tmp_path, repo):
    """The blame's rules changed (merges, files moved twice): a scan kept by the older format, with
    the authors it gave, is not reused; the repository is scanned afresh."""
    from fireline.debt import scan_cache

    fill(repo)
    store = Store.open(str(tmp_path / "s.duckdb"))
    fresh, _ = scan(store, repo)
    stale = scan_cache.load(scan_cache.dump(fresh))
    assert stale is not None
    for m in stale.markers:
        m.author = "Old Blame"
    old_key = json.dumps(json.loads(scan_cache.settings_key(["TODO", "FIXME", "HACK", "XXX"], 1_000_000, None))
                         | {"format": 1}, sort_keys=True)
    with store.transaction() as tx:
        tx.put_scan_cache("r", str(repo.path), old_key, stale.head, scan_cache.dump(stale))
    again, read = scan(store, repo)
    assert read == 1 and markers(again) == markers(fresh)


def test_repositories_scanned_at_once_give_what_one_after_the_other_gives(tmp_path):
    # A server's prefetch scans every repository at once (scan_repos(parallel=True)), each on a connection
    # of its own: the same scans, in the same order, kept in the store as one after the other keeps them.
    from fireline import Workspace
    from fireline.config import load_config
    from fireline.debt.report import scan_repos

    lines = ['timezone = "UTC"']
    for name in ("api", "web", "jobs"):
        git = GitRepo.create(tmp_path / name)
        git.commit("start", t(1), {f"src/{name}{i}.py": f"# TODO: {name} {i}\nx = {i}\n" for i in range(3)}, author=ADA)
        git.commit("more", t(2), {f"src/{name}0.py": f"# FIXME: {name}\n"}, author=BOB)
        lines += [f"[services.{name}]", f'repo = "{name}"']
    (tmp_path / "fireline.toml").write_text("\n".join(lines) + "\n")
    db = str(tmp_path / "s.duckdb")
    with Workspace(db, str(tmp_path / "fireline.toml")) as ws:
        for name in ("api", "web", "jobs"):
            ws.ingest_git(tmp_path / name)
    config = load_config(tmp_path / "fireline.toml")
    one_by_one = Store.open(str(tmp_path / "apart.duckdb"))
    together = Store.open(db)
    try:
        for table in ("repos",):  # the same repositories in a second store, with no kept scans
            one_by_one.raw.register("src", together.raw.sql(f"SELECT * FROM {table}").to_arrow_table())
            one_by_one.raw.execute(f"INSERT INTO {table} SELECT * FROM src")
        apart, _ = scan_repos(one_by_one, config, cache=ScanCache())
        cache = ScanCache()
        at_once, notes = scan_repos(together, config, cache=cache, parallel=True)
        assert notes == [] and cache.scans == 3
        assert [r.repo for r in at_once] == [r.repo for r in apart] == ["api", "jobs", "web"]
        assert [markers(r) for r in at_once] == [markers(r) for r in apart]
        assert sum(len(r.markers) for r in at_once) == 9
        again = ScanCache()  # kept in the store by the threads' connections: nothing read again
        assert [markers(r) for r in scan_repos(together, config, cache=again, parallel=True)[0]] == [
            markers(r) for r in apart]
        assert again.scans == 0
    finally:
        one_by_one.close()
        together.close()
