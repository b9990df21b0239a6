"""Arrow timestamps as UTC datetimes, without pandas: pyarrow turns a time-zone-aware timestamp into a
datetime by importing pandas (0.2 s of a command's start-up) and is slow at it; as microseconds since the
epoch the values need nothing. The datetimes are those `to_pylist` gives for the store's UTC columns, with
the same tzinfo (`ZoneInfo("UTC")`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["utc_datetimes"]

_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def utc_datetimes(column: pa.ChunkedArray | pa.Array, indices: Sequence[int]) -> list[datetime | None]:
    """The timestamps of `column` at `indices`, in that order (None for a null)."""
    # Integers, read whole: pyarrow's `take` imports pandas too (pyarrow 26).
    micros = pc.cast(pc.cast(column, pa.timestamp("us", "UTC"), safe=False), pa.int64()).to_pylist()
    return [None if (m := micros[i]) is None else _EPOCH + timedelta(microseconds=m) for i in indices]
