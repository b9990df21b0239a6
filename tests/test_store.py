"""The store's write paths, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def _row(delivery: str) -> tuple:
    return ("github", delivery, "push", "{}", datetime(2026, 3, 1, tzinfo=UTC), "{}", False, None)


def test_insert_values_reports_which_rows_were_new(store):
    with store.transaction() as tx:
        assert tx.insert_values("raw_events", [_row("a"), _row("b")]) == {("github", "a"), ("github", "b")}
    with store.transaction() as tx:
        # "a" exists; "c" comes twice in one call: only its first copy is stored.
        got = tx.insert_values("raw_events", [_row("a"), _row("c"), _row("c")])
    assert got == {("github", "c")}
    assert store.count("raw_events") == 3


def test_insert_values_handles_more_rows_than_one_statement_takes(store):
    rows = [_row(f"d{i}") for i in range(450)]
    with store.transaction() as tx:
        assert len(tx.insert_values("raw_events", rows)) == 450
    assert store.count("raw_events") == 450


def test_a_failed_transaction_leaves_nothing(store):
    try:
        with store.transaction() as tx:
            tx.insert_values("raw_events", [_row("x")])
            raise RuntimeError("the disk filled up")
    except RuntimeError:
        pass
    assert store.count("raw_events") == 0
