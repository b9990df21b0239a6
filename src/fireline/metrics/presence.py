"""Whether a table holds any row: the check before an analysis that has nothing to say without data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["has_rows"]


def has_rows(table: ir.Table) -> bool:
    """Whether `table` holds a row. Read as Arrow: Ibis's `execute` of a scalar imports pandas on DuckDB (0.3-0.4
    s in a server's first page); and counting at most one row spares an engine counting them all."""
    return bool(table.limit(1).count().to_pyarrow().as_py())
