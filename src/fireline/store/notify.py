"""The notifications table: what each `[notify.<name>]` channel was sent, and what waits for a retry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from . import Store

COLUMNS = ("channel", "key", "kind", "team", "status", "attempts", "first_attempt", "last_attempt", "next_attempt",
           "sent_at", "error", "message")


def recorded_keys(store: Store, channel: str, keys: Sequence[str]) -> set[str]:
    """Which of `keys` the channel has a row for, whatever its status (sent, failed, given up)."""
    found: set[str] = set()
    keys = list(dict.fromkeys(keys))
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        found |= {r[0] for r in store.query(f"SELECT key FROM notifications WHERE channel = ? AND key IN ({marks})",
                                            [channel, *chunk])}
    return found


def due_retries(store: Store, now: datetime, channels: Sequence[str]) -> list[dict[str, Any]]:
    """Failed messages of these channels whose next attempt is due, oldest first."""
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    rows = store.query(f"SELECT {', '.join(COLUMNS)} FROM notifications WHERE status = 'failed' AND next_attempt <= ? "
                       f"AND channel IN ({marks}) ORDER BY first_attempt, channel, key", [now, *channels])
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def history(store: Store, channel: str | None = None) -> list[dict[str, Any]]:
    """Every recorded message (of one channel), oldest first."""
    where, params = ("WHERE channel = ?", [channel]) if channel else ("", [])
    rows = store.query(f"SELECT {', '.join(COLUMNS)} FROM notifications {where} ORDER BY first_attempt, channel, key",
                       params)
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def claim_new(store: Store, row: dict[str, Any]) -> bool:
    """Record a message as being sent (status `sending`) unless the channel has it already; True when this call
    recorded it, so of two processes sending at once only one sends."""
    with store.transaction() as tx:
        new = tx.insert_values("notifications", [tuple(row.get(c) for c in COLUMNS)])
    return bool(new)


def claim_retry(store: Store, channel: str, key: str, now: datetime, stale_before: datetime) -> bool:
    """Take a failed message whose next attempt is due (or one left `sending` by a process that stopped before
    `stale_before`) for another attempt; True when this call took it."""
    with store.transaction() as tx:
        rows = tx.engine.returning(
            "UPDATE notifications SET status = 'sending', last_attempt = ? WHERE channel = ? AND key = ? AND "
            "((status = 'failed' AND next_attempt <= ?) OR (status = 'sending' AND last_attempt < ?)) RETURNING key",
            [now, channel, key, now, stale_before])
    return bool(rows)


def stale_sending(store: Store, channels: Sequence[str], stale_before: datetime) -> list[dict[str, Any]]:
    """Messages left `sending` since before `stale_before` (the process stopped mid-send)."""
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    rows = store.query(f"SELECT {', '.join(COLUMNS)} FROM notifications WHERE status = 'sending' AND last_attempt < ? "
                       f"AND channel IN ({marks}) ORDER BY first_attempt, channel, key", [stale_before, *channels])
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def finish(store: Store, channel: str, key: str, *, status: str, attempts: int, at: datetime,
           next_attempt: datetime | None, error: str | None) -> None:
    """The outcome of an attempt: `sent`, `failed` (with its next attempt) or `gave_up`."""
    with store.transaction() as tx:
        tx.execute("UPDATE notifications SET status = ?, attempts = ?, last_attempt = ?, next_attempt = ?, "
                   "sent_at = ?, error = ? WHERE channel = ? AND key = ?",
                   [status, attempts, at, next_attempt, at if status == "sent" else None,
                    error[:2000] if error else None, channel, key])
