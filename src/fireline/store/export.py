"""`fireline export`: the normalised tables copied out of a store, so a nightly job can publish them
to a lake (parquet files) or a warehouse (any Ibis URL), where `--db` reads them back read-only.

Each parquet file is written beside its final name and renamed into place, so a reader sees the
old file or the new one, never half of one. The columns and types are those of `schema.TABLES`
(docs/schema.md is generated from them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UserError
from .readonly import EXPORTED, SPARK, spark_session
from .schema import TABLES, arrow_schema


@dataclass(frozen=True)
class Exported:
    table: str
    rows: int
    where: str


def _data(store: Any, name: str) -> pa.Table:
    schema = arrow_schema(name)
    data = store.table(name).select(*schema.names).to_pyarrow()
    return pa.Table.from_arrays([data.column(f.name).cast(f.type) for f in schema], schema=schema)


def export_parquet(store: Any, folder: Path) -> list[Exported]:
    """One `<table>.parquet` per normalised table in `folder` (created when missing)."""
    if folder.exists() and not folder.is_dir():
        raise UserError("is a file, expected a folder", where=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for name in EXPORTED:
        data = _data(store, name)
        final = folder / f"{name}.parquet"
        part = folder / f".{name}.parquet.{os.getpid()}.part"
        try:
            pq.write_table(data, part)
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        done.append(Exported(name, data.num_rows, str(final)))
    return done


def _target(url: str) -> Any:
    parts = urlparse(url)
    if parts.scheme in SPARK:
        session = spark_session(url)
        wanted = unquote(parts.path)
        if parts.scheme == "pyspark" and wanted:
            # The warehouse folder of a session is fixed when the session starts (once per process).
            held = session.conf.get("spark.sql.warehouse.dir", "")
            if Path(held.removeprefix("file:")).resolve() != Path(wanted).resolve():
                raise UserError(f"this process's Spark session writes to {held}; export in a new process",
                                field="to")
        return ibis.pyspark.connect(session)
    try:
        return ibis.connect(url)
    except Exception as exc:  # each driver raises its own kinds; all mean "cannot connect"
        raise UserError(f"cannot connect to {parts.scheme or url}: {str(exc).strip()}", field="to") from None


def export_to(store: Any, url: str) -> list[Exported]:
    """Each normalised table written to the Ibis backend of `url` (replacing a table of the same
    name): `CREATE TABLE ... AS` on a warehouse, a parquet table in a Spark warehouse folder."""
    con = _target(url)
    done = []
    for name in EXPORTED:
        data = _data(store, name)
        con.create_table(name, ibis.memtable(data, schema=ibis.Schema.from_pyarrow(data.schema)), overwrite=True)
        done.append(Exported(name, data.num_rows, f"{url} {name}"))
    return done


def schema_markdown() -> str:
    """docs/schema.md: the exported tables, their columns, types and keys (from `schema.TABLES`)."""
    lines = ["# The exported schema", "",
             "Generated from `src/fireline/store/schema.py` by `python scripts/cli_reference.py`; a test checks it.",
             "`fireline export parquet DIR` writes one `<table>.parquet` per table below; `fireline export tables",
             "--to URL` creates them (same names, same columns) on any Ibis backend. Every timestamp is UTC",
             "(`timestamp[us, tz=UTC]` in parquet); text is UTF-8; the raw event log is not exported.", ""]
    for name in EXPORTED:
        columns, key = TABLES[name]
        types = arrow_schema(name)
        lines += [f"## {name}", "", f"Key: {', '.join(key) if key else '(none)'}", "",
                  "| column | SQL type | parquet type |", "|---|---|---|"]
        lines += [f"| {c} | {t} | {types.field(c).type} |" for c, t in columns]
        lines.append("")
    return "\n".join(lines)
