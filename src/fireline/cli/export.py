"""`fireline export`: the normalised tables out of the store, for a lake or a warehouse that
`--db` then reads (read-only; see docs/scaling.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import ConfigOpt, DbOpt, JsonOpt, print_json, workspace

export_app = typer.Typer(help="Copy the normalised tables out: parquet files, or any Ibis backend.",
                         rich_markup_mode="markdown", no_args_is_help=True)


def _print(done: list, as_json: bool) -> None:
    if as_json:
        print_json({"tables": [{"table": e.table, "rows": e.rows, "where": e.where} for e in done]})
        return
    for e in done:
        typer.echo(f"{e.table}: {e.rows} rows -> {e.where}")


@export_app.command("parquet")
def export_parquet(
    folder: Annotated[Path, typer.Argument(help="Folder for one <table>.parquet per table (created when missing; "
                                           "each file replaced whole).")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Write every normalised table to FOLDER as parquet (schema: docs/schema.md). Read them back with
    `--db pyspark:///FOLDER`, or load them into a warehouse."""
    with workspace(db, config) as ws:
        done = ws.export_parquet(folder)
    _print(done, as_json)


@export_app.command("tables")
def export_tables(
    to: Annotated[str, typer.Option("--to", help="An Ibis URL: pyspark:///WAREHOUSE-DIR, trino://..., "
                                    "bigquery://..., snowflake://..., databricks://..., duckdb:///file.")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create every normalised table (same names and columns) on the backend of --to, replacing tables of
    the same name; `--db` with that URL then runs the metric commands there."""
    with workspace(db, config) as ws:
        done = ws.export_to(to)
    _print(done, as_json)
