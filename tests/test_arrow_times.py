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


def test_rows_of_a_table_are_pyarrows_own_with_or_without_timestamps():
    from datetime import date

    from fireline.metrics.arrow_times import python_rows

    stamps = [datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), None, datetime(1969, 12, 31, 23, 59, tzinfo=UTC)]
    table = pa.table({"id": ["a", None, "ü"], "n": [1, None, -3], "x": [0.5, float("nan"), None],
                      "at": pa.array(stamps, pa.timestamp("us", "UTC")),
                      "at_ms": pa.array(stamps, pa.timestamp("ms", "UTC")),
                      "naive": pa.array([datetime(2026, 1, 1), None, datetime(2020, 2, 29)], pa.timestamp("us")),
                      "day": [date(2026, 1, 1), None, date(1, 1, 1)], "tags": [["p1"], [], None],
                      "ok": [True, None, False]})
    ours, theirs = python_rows(table), table.to_pylist()
    assert [{k: v for k, v in r.items() if k != "x"} for r in ours] == [
        {k: v for k, v in r.items() if k != "x"} for r in theirs]
    assert [str(r["x"]) for r in ours] == [str(r["x"]) for r in theirs]  # NaN is not equal to itself
    assert [r["at"].tzinfo for r in ours if r["at"]] == [r["at"].tzinfo for r in theirs if r["at"]]
    assert python_rows(pa.table({"a": pa.array([], pa.int64())})) == []
