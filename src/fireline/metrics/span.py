"""When a store's data begins and ends, for a scope's services: what to suggest when a window is empty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from .arrow_times import utc_datetimes
from .scope import Scope

__all__ = ["data_span"]


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
    [first], [last] = utc_datetimes(row["first"], [0]), utc_datetimes(row["last"], [0])
    return (first, last) if first is not None and last is not None else None
