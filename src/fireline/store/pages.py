"""The dashboard's pages of the last store version, kept in the store: a restarted `fireline serve` on an
unchanged store serves them at once instead of computing its first overview (server/precompute.py).

A cache, not a record: losing the table costs one computation of each page, so it is created here when
first needed (not in schema.TABLES: it is never exported, never rebuilt) and read-only stores have none.
Writing it never moves the store's generation (state.cache_transaction): pages computed for a generation
must not make that generation old. The same goes for the marker scans the pages read (state.CacheWrites).

A page is valid for one `version` of the data (state.data_state) and one `context` (the config, the code,
the clock: chosen by the caller); rows of another version or context are deleted as new ones come.
"""

from __future__ import annotations

from datetime import datetime

from . import Store
from .schema import TS
from .state import cache_transaction

TABLE = "dashboard_pages"
COLUMNS = (("key", "TEXT"), ("version", "TEXT"), ("context", "TEXT"), ("computed_at", TS), ("status", "INTEGER"),
           ("headers", "TEXT"), ("html", "TEXT"))

Kept = tuple[str, datetime, int, str, str]  # key, computed at, status, headers (JSON), html


def ensure(store: Store) -> bool:
    """Create the table when missing; False on a read-only store (Spark, a warehouse), which keeps no pages."""
    if store.read_only:
        return False
    if store.has_table(TABLE):
        return True
    with cache_transaction(store) as tx:
        tx.lock("schema")
        columns = ", ".join(f"{c} {t}" for c, t in COLUMNS)
        tx.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, PRIMARY KEY (key))")
    return True


def kept(store: Store, version: str, context: str) -> list[Kept]:
    """The pages kept for this version and context (none when the table is missing)."""
    if store.read_only or not store.has_table(TABLE):
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
