"""Where `fireline sync` stands: a cursor per source, target and stream, and the ETag of each list page."""

from __future__ import annotations

from datetime import datetime

from . import Store, Writer

Cursor = tuple[datetime | None, str | None, datetime | None]


def cursor(store: Store, source: str, target: str, stream: str) -> Cursor | None:
    """(since, next url, run started) of one stream, None before its first run."""
    rows = store.query("SELECT since, next_url, run_started FROM sync_cursors WHERE source = ? AND target = ? "
                       "AND stream = ?", [source, target, stream])
    return (rows[0][0], rows[0][1], rows[0][2]) if rows else None


def cursors(store: Store, source: str | None = None) -> list[tuple[str, str, str, datetime | None, str | None]]:
    """(source, target, stream, since, next url) of every stream (of `source`)."""
    where, params = (" WHERE source = ?", [source]) if source else ("", [])
    return store.query(f"SELECT source, target, stream, since, next_url FROM sync_cursors{where} "
                       "ORDER BY source, target, stream", params)


def etag(store: Store, source: str, url: str) -> tuple[str, str | None] | None:
    """(etag, next page url) stored for a page, if any."""
    rows = store.query("SELECT etag, next_url FROM sync_etags WHERE source = ? AND url = ?", [source, url])
    return (rows[0][0], rows[0][1]) if rows else None


def put_cursor(tx: Writer, source: str, target: str, stream: str, since: datetime | None, next_url: str | None,
               run_started: datetime | None, now: datetime) -> None:
    tx.execute("DELETE FROM sync_cursors WHERE source = ? AND target = ? AND stream = ?", [source, target, stream])
    tx.execute("INSERT INTO sync_cursors VALUES (?, ?, ?, ?, ?, ?, ?)",
               [source, target, stream, since, next_url, run_started, now])


def put_etag(tx: Writer, source: str, url: str, value: str, next_url: str | None, now: datetime) -> None:
    tx.execute("DELETE FROM sync_etags WHERE source = ? AND url = ?", [source, url])
    tx.execute("INSERT INTO sync_etags VALUES (?, ?, ?, ?, ?)", [source, url, value, next_url, now])
