"""Opening a PostgreSQL store while another process finishes its schema and a third is ingesting.

Regression (CI, ten concurrent `ingest git` runs on a fresh database): an opener that found the
schema incomplete waited for the schema lock, and once it had it ran every CREATE INDEX IF NOT
EXISTS again. PostgreSQL locks a table (SHARE) before it finds the index already there, so the
opener queued behind an ingest holding `changes`, while that ingest queued behind the opener's
lock on `change_files`: "deadlock detected", and one ingest exited 1.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from fireline.store import Store
from fireline.store.engines import LOCKS

pytestmark = pytest.mark.postgres


def waiting_on_table_locks(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")]


def test_an_opener_that_waited_for_the_schema_lock_takes_no_table_lock(pg_url):
    Store.open(pg_url).close()  # a complete store
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP INDEX changes_sha")
    finisher = psycopg.connect(pg_url)  # the process completing the schema, not yet committed
    finisher.execute("SELECT pg_advisory_xact_lock(%s)", [LOCKS["schema"]])
    finisher.execute("CREATE INDEX changes_sha ON changes (sha)")
    opened: list[Store] = []
    failures: list[BaseException] = []

    def open_store() -> None:
        try:
            opened.append(Store.open(pg_url))
        except BaseException as exc:  # reported below
            failures.append(exc)

    opener = threading.Thread(target=open_store)
    opener.start()
    ingest = psycopg.connect(pg_url)  # an ingest writing its first batch of files
    try:
        with psycopg.connect(pg_url, autocommit=True) as probe:
            while not probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event = 'advisory'").fetchone()[0]:
                time.sleep(0.02)  # the opener found the schema incomplete and waits for the lock
        ingest.execute("INSERT INTO change_files (repo, sha, path) VALUES ('r', 'a', 'f')")
        finisher.commit()
        deadline = time.monotonic() + 60
        while opener.is_alive() and time.monotonic() < deadline:
            blocked = waiting_on_table_locks(pg_url)
            assert not blocked, f"the opener waits for a table lock behind the ingest: {blocked}"
            opener.join(0.05)
        assert not opener.is_alive()
        assert not failures, failures
    finally:
        ingest.rollback()
        ingest.close()
        finisher.close()
        opener.join(60)
        for store in opened:
            store.close()
