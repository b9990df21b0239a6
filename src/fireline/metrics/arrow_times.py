"""Arrow timestamps as UTC datetimes, without pandas: pyarrow turns a time-zone-aware timestamp into a
datetime by importing pandas (0.2-0.4 s of a command's start-up, or of a server's first page) and is slow
at it; as microseconds since the epoch the values need nothing. The datetimes are those `to_pylist` gives
for the store's UTC columns, with the same tzinfo (`ZoneInfo("UTC")`). `python_rows` is `to_pylist` of a
whole table, read that way: every query's rows come back through it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["python_rows", "query_rows", "utc_datetimes"]

_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def utc_datetimes(column: pa.ChunkedArray | pa.Array, indices: Sequence[int]) -> list[datetime | None]:
    """The timestamps of `column` at `indices`, in that order (None for a null)."""
    # Integers, read whole: pyarrow's `take` imports pandas too (pyarrow 26).
    micros = pc.cast(pc.cast(column, pa.timestamp("us", "UTC"), safe=False), pa.int64()).to_pylist()
    return [None if (m := micros[i]) is None else _EPOCH + timedelta(microseconds=m) for i in indices]


# Units whose values are whole microseconds; nanoseconds are left to pyarrow (which would give pandas Timestamps).
_MICRO_UNITS = ("s", "ms", "us")


def python_rows(table: pa.Table) -> list[dict[str, Any]]:
    """`table.to_pylist()`: the same rows and values, its UTC timestamp columns read through integers."""
    names = table.column_names
    columns = [utc_datetimes(column, range(len(column)))
               if pa.types.is_timestamp(column.type) and column.type.tz == "UTC" and column.type.unit in _MICRO_UNITS
               else column.to_pylist() for column in table.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if columns \
        else [{} for _ in range(table.num_rows)]


def query_rows(expr: Any) -> list[dict[str, Any]]:
    """The rows of an Ibis table expression, as `python_rows` reads them."""
    return python_rows(expr.to_pyarrow())
