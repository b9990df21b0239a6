"""Arrow timestamps read as UTC datetimes without pandas give what pyarrow's own conversion gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from fireline.metrics.arrow_times import utc_datetimes


def test_the_same_datetimes_as_pyarrow_gives_nulls_and_microseconds_included():
    values = [datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), None,
              datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
    column = pa.chunked_array([pa.array(values[:2], pa.timestamp("us", "UTC")),
                               pa.array(values[2:], pa.timestamp("us", "UTC"))])
    ours = utc_datetimes(column, [3, 1, 0, 2])
    theirs = column.take(pa.array([3, 1, 0, 2])).to_pylist()
    assert ours == theirs
    assert [d.tzinfo for d in ours if d] == [d.tzinfo for d in theirs if d]  # ZoneInfo("UTC"), as pyarrow's
    assert [d.isoformat() for d in ours if d] == [d.isoformat() for d in theirs if d]
