"""Small tables a query joins (services to teams, the commits asked about, a zone's UTC offsets) as Ibis
memtables built without pandas: `ibis.memtable` of a dict, and pyarrow's `pa.array` of any Python list, import
pandas (0.2 s, inside a server's first page) to look for pandas objects in what they are given. The columns
are built from their buffers instead; text and integers are all the metrics pass."""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["arrow_column", "memtable"]


def memtable(columns: Mapping[str, Sequence[str | int | None]], schema: Mapping[str, str]) -> ir.Table:
    """`ibis.memtable(columns, schema=schema)` for "string" and "int64" columns, the same table. Made as Ibis
    makes one of a pyarrow table: `ibis.memtable` itself, to choose how to read what it is given, imports
    every kind it could be (pyarrow's datasets among them, which load pandas)."""
    import ibis
    import ibis.expr.operations as ops
    from ibis import util
    from ibis.formats.pyarrow import PyArrowTableProxy

    arrays = [arrow_column(columns[name], kind) for name, kind in schema.items()]
    data = pa.Table.from_arrays(arrays, names=list(schema))
    return ops.InMemoryTable(name=util.gen_name("pyarrow_memtable"), schema=ibis.schema(dict(schema)),
                             data=PyArrowTableProxy(data)).to_expr()


def arrow_column(values: Sequence[str | int | None], kind: str) -> pa.Array:
    """`pa.array(values, type)` for kind "string" or "int64", from buffers."""
    count = len(values)
    nulls = sum(v is None for v in values)
    validity = _validity(values) if nulls else None
    if kind == "int64":
        data = array("q", (0 if v is None else int(v) for v in values))
        return pa.Array.from_buffers(pa.int64(), count, [validity, pa.py_buffer(data)], null_count=nulls)
    if kind != "string":
        raise ValueError(f"no column of kind {kind!r} (string or int64)")
    encoded = [b"" if v is None else str(v).encode("utf-8") for v in values]
    offsets = array("i", [0])  # a string array's 32-bit offsets: past 2 GiB of text, OverflowError
    total = 0
    for text in encoded:
        total += len(text)
        offsets.append(total)
    return pa.Array.from_buffers(pa.string(), count, [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
                                 null_count=nulls)


def _validity(values: Sequence[object]) -> pa.Buffer:
    bits = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(bytes(bits))
