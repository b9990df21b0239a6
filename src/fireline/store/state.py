"""What kept results are checked against, and how they are written: the finished reports and ledgers
(report_cache.py) and the dashboard's pages (pages.py) are both valid for one state of the data, and
writing either must not look like new data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from . import Store, Writer
from .schema import TABLES

# Tables no figure reads, or that are caches themselves: writing them changes no result. (`meta` holds the
# schema version and the rework rules' fingerprint; new rules relink, which changes the links' rows.)
NOT_DATA = ("meta", "scan_cache", "notifications", "sync_cursors", "sync_etags")
# What of a raw event a result can depend on: its payload reaches results only through the normalised
# tables, and an event's payload never changes once stored (a repeated delivery is dropped).
_RAW_EVENT_COLUMNS = "source, delivery_id, kind, received_at, normalised, error"


def data_state(store: Store) -> str | None:
    """A text that changes whenever data a result can show changes, and survives the process; None when
    it cannot be told cheaply (a read-only engine: then nothing is kept).

    Where the generation is kept in the store itself (a PostgreSQL sequence counting every committed write
    of every process) it is that number. DuckDB's generation counts this process's writes only, so there
    the state is a digest of the rows: per table a count, and an order-free xor and sum of row hashes
    (xor alone would cancel two equal rows). One query; milliseconds at 20,000 rows, grows with the store."""
    if store.engine.generation_ddl:
        return f"generation {store.generation()}"
    if getattr(store.engine, "kind", None) != "duckdb":
        return None
    parts = []
    for name in TABLES:
        if name in NOT_DATA:
            continue
        row = f"hash({_RAW_EVENT_COLUMNS})" if name == "raw_events" else "hash(t)"
        parts.append(f"SELECT '{name}', count(*), coalesce(bit_xor({row}), 0)::VARCHAR, "
                     f"coalesce(sum({row}::HUGEINT), 0)::VARCHAR FROM {name} t")
    rows = sorted(store.query(" UNION ALL ".join(parts)))
    return "digest " + hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@contextmanager
def cache_transaction(store: Store) -> Iterator[Writer]:
    """A transaction that writes only caches: it commits like any other but leaves the generation alone.
    Keeping a result changes no figure; moving the generation (on PostgreSQL) would make the result it
    keeps, and every other kept result, look out of date at once."""
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
