"""`fireline export`: the normalised tables out of a store (parquet files, any Ibis backend), and the
read-only engines `--db` accepts for them (Spark, warehouses): what can run without Spark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import ibis
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.errors import UserError
from fireline.store import Store
from fireline.store.readonly import EXPORTED
from fireline.store.schema import arrow_schema


@dataclass
class Run:
    exit_code: int
    output: str


def _cli(*args: str) -> Run:
    """The command in process; a UserError as `fireline.cli.main` prints it (exit 2, its message)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    if isinstance(result.exception, UserError):
        return Run(result.exception.exit_code, result.exception.for_cli())
    return Run(result.exit_code, result.output)


@pytest.fixture(scope="module")
def demo_db(demo_org):
    return str(demo_org.db)


def test_export_parquet_writes_every_normalised_table_with_the_documented_schema(demo_db, tmp_path):
    out = tmp_path / "lake"
    result = _cli("export", "parquet", str(out), "--db", demo_db, "--json")
    assert result.exit_code == 0, result.output
    reported = {t["table"]: t["rows"] for t in json.loads(result.output)["tables"]}
    assert set(reported) == set(EXPORTED) and "raw_events" not in reported  # the raw log stays home
    with Store.open(demo_db, create=False) as store:
        for name in EXPORTED:
            data = pq.read_table(out / f"{name}.parquet")
            assert data.schema == arrow_schema(name), name
            assert data.num_rows == reported[name] == store.count(name), name
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in EXPORTED)  # no partial file left
    # A second export replaces each file whole.
    assert _cli("export", "parquet", str(out), "--db", demo_db).exit_code == 0
    assert pq.read_table(out / "deployments.parquet").num_rows == reported["deployments"]


def test_export_tables_to_an_ibis_url_creates_the_same_tables(demo_db, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    result = _cli("export", "tables", "--to", f"duckdb://{target}", "--db", demo_db)
    assert result.exit_code == 0, result.output
    assert "deployments: 267 rows" in result.output
    con = ibis.duckdb.connect(str(target))
    try:
        for name in EXPORTED:  # (Ibis 12's list_tables fails on this DuckDB: read each table)
            assert con.table(name).schema().names == tuple(arrow_schema(name).names)
        assert con.table("deployments").count().execute() == 267
        assert con.table("deployments").schema()["time"].timezone == "UTC"
    finally:
        con.disconnect()


def test_export_parquet_onto_a_file_is_refused(demo_db, tmp_path):
    (tmp_path / "file").write_text("x")
    result = _cli("export", "parquet", str(tmp_path / "file"), "--db", demo_db)
    assert result.exit_code == 2 and "expected a folder" in result.output


@pytest.mark.parametrize("url", ["pyspark:///tmp/lake", "sc://localhost:15002", "trino://u@localhost:1/c/s",
                                 "bigquery://project/dataset", "snowflake://u:p@account/db/schema",
                                 "databricks://token@host/path"])
def test_ingestion_on_a_read_only_engine_says_where_ingestion_goes(url, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("time,service,environment,sha,status\n2026-01-01T00:00Z,api,production,abc1234,success\n")
    result = _cli("ingest", "deployments", str(csv), "--db", url)
    assert result.exit_code == 2, result.output
    assert "read-only" in result.output and "ingestion stays on DuckDB/PostgreSQL" in result.output
    assert "fireline export parquet" in result.output


def test_a_warehouse_url_is_understood_and_a_missing_driver_named(tmp_path):
    """`--db trino://...` once said "unsupported database URL scheme"; now it reaches Ibis, which names
    the driver to install (Trino is not installed here) or the server it cannot reach."""
    result = _cli("dora", "--db", "trino://user@127.0.0.1:1/hive/fireline")
    assert result.exit_code == 2, result.output
    assert "unsupported" not in result.output and "cannot connect to trino" in result.output


def test_an_unknown_scheme_lists_the_ones_that_work():
    result = _cli("dora", "--db", "mongodb://x")
    assert result.exit_code == 2
    assert "unsupported database URL scheme 'mongodb'" in result.output and "pyspark://" in result.output


def test_the_analyses_metadata_reads_go_through_ibis_on_an_engine_that_takes_no_sql(demo_db):
    """The services, repositories and incident ids the analyses need are read with Ibis on a read-only engine
    (Spark, a warehouse: no SQL from Fireline), and give what the plain queries give on DuckDB (which an
    ingestion uses, so that it loads no Ibis)."""
    with Store.open(demo_db, create=False) as store:
        plain = (store.service_names(), store.incident_ids(), store.repos(), store.repo_services())

        def no_sql(*args, **kwargs):
            raise AssertionError("raw SQL")
        store.query = no_sql  # type: ignore[method-assign]
        store.engine.read_only = True  # as a ReadOnlyEngine says of itself
        assert store.service_names() and store.incident_ids()
        assert [repo for repo, _path, _services in store.repos()] == sorted(store.repo_services())
        assert store.has_repo("data-platform") and not store.has_repo("nope")
        assert (store.service_names(), store.incident_ids(), store.repos(), store.repo_services()) == plain
        store.engine.read_only = False


def test_schema_doc_names_every_exported_column():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text()
    for name in EXPORTED:
        assert f"## {name}" in doc
        for field in arrow_schema(name):
            assert f"| {field.name} |" in doc


def test_the_nightly_export_script_of_the_docs_runs(demo_db, tmp_path):
    """docs/scaling.md's nightly-export.sh, run as written against the demo store."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "scaling.md").read_text()
    script = re.search(r"```sh\n(#!/bin/sh\n# nightly-export\.sh.*?)```", doc, re.S)
    assert script, "the nightly export script is gone from docs/scaling.md"
    (tmp_path / "nightly-export.sh").write_text(script.group(1))
    bin_dir = str(Path(sys.executable).parent)  # the venv's `fireline`
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FIRELINE_DB": demo_db,
           "LAKE": str(tmp_path / "lake")}
    for _night in range(2):  # the second night replaces `latest` atomically
        run = subprocess.run(["sh", str(tmp_path / "nightly-export.sh")], env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
    latest = tmp_path / "lake" / "latest"
    assert latest.is_symlink() and sorted(p.name for p in latest.iterdir()) == sorted(f"{n}.parquet" for n in EXPORTED)
    assert pq.read_table(latest / "deployments.parquet").num_rows == 267


def test_export_reads_duckdb_and_postgresql_alike(store, tmp_path):
    """The export reads through Ibis: a PostgreSQL store gives the same files as a DuckDB one
    (UTC timestamps, lower-cased statuses, the documented types)."""
    from fireline.config import Config
    from fireline.ingest import ingest_deployments
    from fireline.store.export import export_parquet

    csv = tmp_path / "deployments.csv"
    csv.write_text("time,service,environment,sha,status,id\n"
                   "2026-01-01T10:00+02:00,api,Production,abc1234,SUCCESS,d1\n"
                   "2026-01-02T10:00Z,api,staging,def5678,failure,d2\n")
    ingest_deployments(store, Config(), csv)
    export_parquet(store, tmp_path / "lake")
    rows = pq.read_table(tmp_path / "lake" / "deployments.parquet").sort_by("id").to_pylist()
    assert [(r["id"], r["status"], r["environment"], r["time"].isoformat()) for r in rows] == [
        ("d1", "success", "production", "2026-01-01T08:00:00+00:00"),
        ("d2", "failure", "staging", "2026-01-02T10:00:00+00:00")]
    assert pq.read_table(tmp_path / "lake" / "deployments.parquet").schema == arrow_schema("deployments")
