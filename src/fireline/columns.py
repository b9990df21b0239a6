"""Records to the store's columns: one layout for the git pass, file ingests and the normaliser.

Column names come from the store's schema (`store.TABLES`), so a new column needs only the
schema and the record; times are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .gitread import ChangeColumns, offset_minutes
from .model import RawEvent
from .store import TABLES
from .window import as_utc

__all__ = ["ChangeColumns", "offset_minutes", "raw_columns", "record_columns"]


def record_columns(table: str, records: Iterable[Any]) -> dict[str, list]:
    """Columns of `table` from records with an attribute per column (Deployment, Incident, FeatureFlag)."""
    names = [name for name, _ in TABLES[table][0]]
    cols: dict[str, list] = {name: [] for name in names}
    for record in records:
        for name in names:
            value = getattr(record, name)
            cols[name].append(as_utc(value) if isinstance(value, datetime) else value)
    return cols


def raw_columns(events: list[RawEvent]) -> dict[str, list]:
    return {
        "source": [e.source for e in events], "delivery_id": [e.delivery_id for e in events],
        "kind": [e.kind for e in events], "payload": [e.payload for e in events],
        "received_at": [e.received_at for e in events],
        "headers": [None for _ in events], "normalised": [True for _ in events], "error": [None for _ in events],
    }
