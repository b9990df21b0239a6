"""The dashboard's pages of the last store version, kept in the store: a restarted `fireline serve` on an
unchanged store serves them at once instead of computing its first overview (server/precompute.py).

A cache, not a record: losing the table costs one computation of each page, so it is created here when
first needed (not in schema.TABLES: it is never exported, never rebuilt) and read-only stores have none.
Writing it never moves the store's generation (`cache_transaction`): pages computed for a generation
must not make that generation old. The same goes for the marker scans the pages read (`CacheWrites`).

A page is valid for one `version` of the data (`data_version`) and one `context` (the config, the code,
the clock: chosen by the caller); rows of another version or context are deleted as new ones come.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from . import Store, Writer
from .schema import TABLES, TS

TABLE = "dashboard_pages"
COLUMNS = (("key", "TEXT"), ("version", "TEXT"), ("context", "TEXT"), ("computed_at", TS), ("status", "INTEGER"),
           ("headers", "TEXT"), ("html", "TEXT"))
# Tables whose rows no page reads, or that are caches themselves: writing them changes no figure.
_NOT_DATA = ("meta", "scan_cache", "notifications", "sync_cursors", "sync_etags")
# What of a raw event a page can depend on (its payload reaches pages only through the normalised tables).
_RAW_EVENT_COLUMNS = "source, delivery_id, kind, received_at, normalised, error"

Kept = tuple[str, datetime, int, str, str]  # key, computed at, status, headers (JSON), html


@contextmanager
def cache_transaction(store: Store) -> Iterator[Writer]:
    """A transaction that writes only caches: it commits like any other but leaves the generation alone."""
    with store.engine.transaction():
        yield Writer(store)


class CacheWrites(Store):
    """The same connection, whose writes (marker scans kept for later, see debt/report.ScanCache) do not
    move the generation: a scan made while computing a page is not new data."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        with cache_transaction(self) as tx:
            yield tx


def ensure(store: Store) -> bool:
    """Create the table when missing; False on a read-only store (Spark, a warehouse), which keeps no pages."""
    if store.read_only:
        return False
    if _exists(store):
        return True
    with cache_transaction(store) as tx:
        tx.lock("schema")
        columns = ", ".join(f"{c} {t}" for c, t in COLUMNS)
        tx.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, PRIMARY KEY (key))")
    return True


def _exists(store: Store) -> bool:
    return bool(store.query("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                            "AND table_schema = current_schema()", [TABLE])[0][0])


def data_version(store: Store) -> str:
    """A text that changes whenever data a page can show changes, and survives the process.

    Where the generation is kept in the store itself (a PostgreSQL sequence) it is that number. On DuckDB
    the generation counts this process's writes only, so the version is a digest of the rows: a count
    and an order-free sum of row hashes per table (milliseconds at 20,000 rows; grows with the store)."""
    if store.engine.generation_ddl:
        return f"generation {store.generation()}"
    parts = []
    for name in TABLES:
        if name in _NOT_DATA:
            continue
        row = f"hash({_RAW_EVENT_COLUMNS})" if name == "raw_events" else "hash(t)"
        parts.append(f"SELECT '{name}', count(*), coalesce(sum({row}), 0)::VARCHAR FROM {name} t")
    rows = sorted(store.query(" UNION ALL ".join(parts)))
    return "digest " + hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def kept(store: Store, version: str, context: str) -> list[Kept]:
    """The pages kept for this version and context (none when the table is missing)."""
    if store.read_only or not _exists(store):
        return []
    return [(k, at, status, headers, html) for k, at, status, headers, html in store.query(
        f"SELECT key, computed_at, status, headers, html FROM {TABLE} WHERE version = ? AND context = ?",
        [version, context])]


def keep(store: Store, version: str, context: str, page: Kept) -> None:
    """Keep one page; the pages of other versions or contexts go (only the last version is worth serving)."""
    key, computed_at, status, headers, html = page
    with cache_transaction(store) as tx:
        tx.execute(f"DELETE FROM {TABLE} WHERE key = ? OR version <> ? OR context <> ?", [key, version, context])
        tx.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [key, version, context, computed_at, status, headers, html])
