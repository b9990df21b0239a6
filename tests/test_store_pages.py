"""The dashboard's pages kept in the store (store/pages.py): valid for one version of the data and one
context, and writing them (or a marker scan kept while computing them) never moves the generation."""

from __future__ import annotations

from datetime import UTC, datetime

from fireline.store import Store, pages, state


def _page(key: str, html: str) -> pages.Kept:
    return key, datetime(2026, 3, 1, tzinfo=UTC), 200, "[]", html


def test_pages_are_kept_per_data_version_and_context_without_moving_the_generation(store: Store):
    assert pages.ensure(store) and pages.ensure(store)  # created once, found the second time
    version = state.data_state(store)
    generation = store.generation()
    pages.keep(store, version, "ctx", _page('["/", []]', "<p>overview ✓</p>"))
    pages.keep(store, version, "ctx", _page('["/", [["team", "Data"]]]', "<p>Data</p>"))
    pages.keep(store, version, "ctx", _page('["/", []]', "<p>overview again</p>"))  # replaces the first
    assert store.generation() == generation and state.data_state(store) == version
    assert {k: h for k, _, _, _, h in pages.kept(store, version, "ctx")} == {
        '["/", []]': "<p>overview again</p>", '["/", [["team", "Data"]]]': "<p>Data</p>"}
    assert pages.kept(store, version, "other config") == []

    with state.CacheWrites(store).transaction() as tx:
        tx.put_scan_cache("r", "/r", "{}", "abc", "{}")
    assert store.generation() == generation and state.data_state(store) == version

    with store.transaction() as tx:  # the data changes: nothing kept is of its version
        tx.execute("INSERT INTO incidents (id, service, title) VALUES ('i1', 'web', 'down')")
    changed = state.data_state(store)
    assert changed != version and pages.kept(store, changed, "ctx") == []
    pages.keep(store, changed, "ctx", _page('["/", []]', "<p>new</p>"))  # the old version's pages go
    assert [h for _, _, _, _, h in pages.kept(store, changed, "ctx")] == ["<p>new</p>"]
    assert pages.kept(store, version, "ctx") == []


def test_a_duckdb_store_changed_by_another_process_has_another_version(tmp_path):
    db = str(tmp_path / "f.duckdb")
    with Store.open(db) as store:
        version = state.data_state(store)
    with Store.open(db) as store:  # reopened, unchanged: the same version
        assert state.data_state(store) == version
        with store.transaction() as tx:
            tx.execute("INSERT INTO incidents (id, service, title) VALUES ('i1', 'web', 'down')")
    with Store.open(db) as store:
        assert state.data_state(store) != version
