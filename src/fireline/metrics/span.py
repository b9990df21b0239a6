"""When a store's data begins and ends, for a scope's services: what to suggest when a window is empty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from .dora import Scope

__all__ = ["data_span"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def data_span(tables: Mapping[str, ir.Table], scope: Scope) -> tuple[datetime, datetime] | None:
    """The first and last deployment or incident of the scope's services, whatever the window; None when
    the store holds none of either (an empty store needs ingesting, not another window)."""
    parts = []
    for name, column in (("deployments", "time"), ("incidents", "started")):
        t = tables[name]
        if scope.services is not None:
            t = t.filter(t.service.isin(list(scope.services)))
        parts.append(t.aggregate(first=t[column].min(), last=t[column].max()))
    row = ibis.union(*parts).aggregate(first=lambda t: t.first.min(), last=lambda t: t.last.max()).to_pyarrow()
    first, last = _utc(row["first"]), _utc(row["last"])
    return (first, last) if first is not None and last is not None else None


def _utc(column: pa.ChunkedArray) -> datetime | None:
    # pyarrow turns a time-zone-aware timestamp into a datetime by importing pandas (0.2 s of a command's
    # start-up); as microseconds since the epoch it needs nothing.
    micros = column.cast(pa.timestamp("us", "UTC")).cast(pa.int64())[0].as_py()
    return None if micros is None else EPOCH + timedelta(microseconds=micros)
