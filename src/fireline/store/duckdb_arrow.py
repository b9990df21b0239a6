"""Ibis' DuckDB backend answering `to_pyarrow` without importing pandas.

Every figure is read as Arrow (`expr.to_pyarrow()`), and Ibis 12's DuckDB backend imports its pandas
converter module to find the Arrow one beside it: pandas costs a command 0.2-0.3 s of start-up it never
uses (`fireline dora` on the demo reads no DataFrame). The answer is the same table: the same relation,
converted to the expression's schema by the same rules (Ibis' Arrow converter, with the DuckDB
backend's treatment of null-typed columns). tests/test_duckdb_arrow.py holds both side by side.
"""

from __future__ import annotations

from typing import Any


def without_pandas(backend: Any) -> Any:
    """`backend` (an Ibis DuckDB backend), its `to_pyarrow` replaced by one that does not load pandas."""
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowData

    class _DuckDBArrow(PyArrowData):
        # What Ibis' DuckDBPyArrowData adds to PyArrowData (ibis/backends/duckdb/converter.py).
        @classmethod
        def convert_scalar(cls, scalar: pa.Scalar, dtype: Any) -> pa.Scalar:
            return pa.scalar(None) if dtype.is_null() else super().convert_scalar(scalar, dtype)

        @classmethod
        def convert_column(cls, column: pa.Array, dtype: Any) -> pa.Array:
            return pa.nulls(len(column)) if dtype.is_null() else super().convert_column(column, dtype)

    def to_pyarrow(expr: Any, /, *, params: Any = None, limit: Any = None, **kwargs: Any) -> pa.Table:
        relation = backend._to_duckdb_relation(expr, params=params, limit=limit, **kwargs)
        return expr.__pyarrow_result__(relation.to_arrow_table(), data_mapper=_DuckDBArrow)

    backend.to_pyarrow = to_pyarrow
    return backend
