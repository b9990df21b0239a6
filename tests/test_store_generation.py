"""The store's generation: a number that moves with every committed write and with nothing else, so a
server can keep what it computed (dashboard pages, /metrics) until the data changes."""

from __future__ import annotations

import pytest

from fireline.store import Store, pending_raw_event

from . import report_support as rs


def test_every_committed_write_moves_the_generation_and_nothing_else_does(store, tmp_path):
    start = store.generation()
    store.tables()["deployments"].count().execute()  # reading
    with store.transaction():  # a transaction that wrote nothing
        store.query("SELECT count(*) FROM deployments")
    assert store.generation() == start
    rs.small_store(store, tmp_path)  # two ingests
    after_ingest = store.generation()
    assert after_ingest >= start + 2
    with pytest.raises(RuntimeError), store.transaction() as tx:  # rolled back: the data did not change
        tx.execute("DELETE FROM deployments")
        raise RuntimeError("abandoned")
    assert store.generation() == after_ingest
    with store.transaction() as tx:  # a raw event stored
        tx.insert_values("raw_events", [pending_raw_event("events", "d-1", "deployment", "{}", _now(), None)])
    assert store.generation() == after_ingest + 1
    with store.transaction() as tx:  # the same event again: a duplicate changes nothing
        tx.insert_values("raw_events", [pending_raw_event("events", "d-1", "deployment", "{}", _now(), None)])
    assert store.generation() == after_ingest + 1


def test_another_connection_sees_the_generation_move(store, tmp_path):
    other = Store.open(store.url)
    try:
        before = other.generation()
        rs.small_store(store, tmp_path)
        assert other.generation() > before
    finally:
        other.close()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
