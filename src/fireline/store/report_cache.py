"""Finished results kept between runs, in the store: a second `fireline report` (or `fireline debt`)
over unchanged data answers what it answered last time instead of computing everything again.

A row per request (its kind, then the options, config and code, hashed by the caller: `named`) holds
the state it was made at (state.data_state: the store's data, and what the caller adds: the repositories'
HEADs) and the result; each kind keeps its newest KEPT rows. Nothing here is a record of the team's:
losing the table costs one cold run. The table is created on first use, so stores made before it need
no migration.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from . import Store
from .schema import TS
from .state import cache_transaction

log = logging.getLogger(__name__)
TABLE = "report_cache"
KEPT = 8  # rows kept per kind: a report as of the clock is a new request every run, so the table must not grow
_DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (request TEXT PRIMARY KEY, state TEXT, made_at {TS}, "
        "result TEXT)")


def repos(store: Store) -> list[tuple[str, str, list[dict]]]:
    """Store.repos() in plain SQL: the check for a kept report reads nothing through Ibis (whose first
    query imports pandas, a good part of a warm report's time)."""
    rows = store.query("SELECT repo, path, services FROM repos ORDER BY repo")
    return [(repo, path, json.loads(services or "[]")) for repo, path, services in rows]


def named(kind: str, digest: str) -> str:
    """The request `digest` of `kind` (a word): the kinds are kept apart, so many reports as of the clock
    do not push out the kept ledgers."""
    return f"{kind}:{digest}"


def prepare(store: Store) -> None:
    """Create the table if the store lacks it."""
    if store.read_only:
        return
    if not store.has_table(TABLE):
        with cache_transaction(store) as tx:
            tx.execute(_DDL)


def get(store: Store, request: str, data: str, extra: str) -> str | None:
    """The result kept for `request` if it was made at the store's state.data_state `data` and the caller's
    `extra` state (read after `prepare`)."""
    if store.read_only:
        return None
    try:
        prepare(store)
        rows = store.query(f"SELECT state, result FROM {TABLE} WHERE request = ?", [request])
    except Exception as exc:  # a cache read must never fail the report
        log.warning("kept reports not read: %s", exc)
        return None
    return rows[0][1] if rows and rows[0][0] == _state(data, extra) else None


def _state(data: str, extra: str) -> str:
    return json.dumps([data, extra])


def put(store: Store, request: str, data: str, extra: str, result: str, now: datetime | None = None) -> None:
    """Keep `result`, made at `data` and `extra` (read after `prepare`, before the work), replacing this
    request's older one and all but the newest KEPT rows of its kind."""
    if store.read_only:
        return
    kind = request.split(":", 1)[0] + ":%"
    try:
        prepare(store)
        with cache_transaction(store) as tx:
            tx.execute(f"DELETE FROM {TABLE} WHERE request = ?", [request])
            tx.execute(f"INSERT INTO {TABLE} (request, state, made_at, result) VALUES (?, ?, ?, ?)",
                       [request, _state(data, extra), now or datetime.now(UTC), result])
            # Rows of older Fireline versions, not named by kind, go too.
            tx.execute(f"DELETE FROM {TABLE} WHERE request NOT LIKE '%:%' OR (request LIKE ? AND request NOT IN "
                       f"(SELECT request FROM {TABLE} WHERE request LIKE ? ORDER BY made_at DESC LIMIT {KEPT}))",
                       [kind, kind])
    except Exception as exc:  # a cache write must never fail the report
        log.warning("report not kept: %s", exc)
