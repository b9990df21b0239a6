"""Read-only engines: Spark (local or Spark Connect) and the warehouses Ibis speaks (Trino,
BigQuery, Snowflake, Databricks). The metrics read the normalised tables through Ibis; nothing
is written here, so ingestion stays on DuckDB or PostgreSQL and a nightly `fireline export`
publishes the tables where these engines read them.

URLs (Ibis' own forms, given to `ibis.connect` unchanged except for Spark):
- `pyspark:///DIR` a local Spark session (master `local[*]`; `?spark.master=local[2]` and any other
  `spark.*` key set the session's configuration), tables read from DIR: `<table>.parquet` files
  (`fireline export parquet DIR`) or `<table>/` parquet folders (`export tables --to pyspark:///DIR`).
- `sc://host:port` a Spark Connect server; the tables in its current database, or `/;database=NAME`.
- `trino://user@host:port/catalog/schema`, `bigquery://project/dataset`,
  `snowflake://user:password@account/database/schema?warehouse=WH`, `databricks://...`.
"""

from __future__ import annotations

import hashlib
import socket
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlparse

from ..errors import UserError
from .ibis_setup import ibis_module
from .schema import TABLES, TS
from .spark_plans import plan_reusing_backend

if TYPE_CHECKING:
    import ibis

# Schemes read through `ibis.connect`, with the Ibis extra that brings each driver.
WAREHOUSES = {"trino": "trino", "bigquery": "bigquery", "snowflake": "snowflake", "databricks": "databricks"}
SPARK = ("pyspark", "sc")
READ_ONLY_SCHEMES = (*SPARK, *WAREHOUSES)
# What `fireline export` copies: everything but the raw event log (verbatim payloads and headers,
# which stay with the store that ingested them).
EXPORTED = tuple(name for name in TABLES if name != "raw_events")

# A local session starts in seconds and lives as long as the process: every store opened on it shares it.
_SPARK_DEFAULTS = {
    "spark.master": "local[*]",
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "2",
    # Spark hands naive timestamps back in the session zone: UTC, so they mean what the store meant.
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # Without Arrow, float NULLs of a memtable become NaN.
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # The classes Spark generates for a query are kept in a cache of 100 by default; one `dora` on the
    # demo generates about 105, so a warm call compiled about 55 of them again (a fifth of its JVM CPU).
    "spark.sql.codegen.cache.maxEntries": "2000",
}


# Below this many bytes of exported tables (a few thousand changes), Spark evaluates a query's
# expressions interpreted: generating and compiling code for every stage of every query costs more than
# it saves on so few rows. Warm `dora` on the demo (0.6 MB): 0.73 s interpreted against 0.80 s; a
# `summarise` at 5,000 changes (1.0 MB) about even; at 100,000 changes (18 MB) interpreted is 18%
# slower and at 1M 73% slower (BENCHMARKS.md). A key set in the URL wins.
SMALL_LAKE_BYTES = 1 << 20
_CODEGEN = {"spark.sql.codegen.wholeStage": ("false", "true"),
            "spark.sql.codegen.factoryMode": ("NO_CODEGEN", "FALLBACK")}


def _lake_bytes(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
               for p in paths)


def _codegen_for_size(session: Any, url: str, paths: list[Path]) -> None:
    """Code generation on or off for the lake opened last (the settings are the session's): see
    `SMALL_LAKE_BYTES`."""
    chosen = dict(parse_qsl(urlparse(url).query))
    small = _lake_bytes(paths) < SMALL_LAKE_BYTES
    for key, (interpreted, default) in _CODEGEN.items():
        if key not in chosen:
            session.conf.set(key, interpreted if small else default)


def read_only_message(kind: str) -> str:
    return (f"the {kind} store is read-only: ingestion stays on DuckDB/PostgreSQL; "
            "use `fireline export parquet` to publish the tables to it")


def utc_table(table: ibis.Table, name: str) -> ibis.Table:
    """`table` with the store's timestamp columns as UTC-aware timestamps: engines such as Spark
    hand their timestamps back naive, and a naive time must never meet an aware one in Python."""
    stamps = {c for c, t in TABLES.get(name, ([], ()))[0] if t == TS and c in table.columns}
    wrong = [c for c in stamps if getattr(table[c].type(), "timezone", None) != "UTC"]
    return table.mutate(**{c: table[c].cast("timestamp('UTC')") for c in wrong}) if wrong else table


def spark_session(url: str) -> Any:
    """The SparkSession of a `pyspark://` or `sc://` URL (created once per process and configuration)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("Spark needs pyspark: pip install 'fireline[spark]'", field="db") from None
    parts = urlparse(url)
    if parts.scheme == "sc":
        return _connect_session(url.split("/;", 1)[0] + "".join(f"/;{p}" for p in _connect_params(url) if
                                                                not p.startswith("database=")))
    builder = SparkSession.builder
    conf = dict(_SPARK_DEFAULTS)
    if parts.path:  # Ibis' form: the path is the session's warehouse folder
        conf["spark.sql.warehouse.dir"] = str(Path(unquote(parts.path)).absolute())
    for key, value in {**conf, **dict(parse_qsl(parts.query))}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # a failed query is reported as a UserError, not a Java trace
    return session


# Spark Connect sessions of this process, one per server URL.
_CONNECT: dict[str, Any] = {}


def _connect_session(remote: str) -> Any:
    """A Spark Connect session on `remote`, made by the Connect client itself: pyspark's common
    builder refuses one in a process that has a local session (SESSION_ALREADY_EXIST), switches the
    whole process to Connect mode (a local session opened after it fails), and hands back the
    process's active Connect session whatever server the URL names."""
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError as exc:  # pyspark without its Connect client (grpcio and friends)
        raise UserError(f"Spark Connect needs pyspark's Connect client ({exc}): pip install 'fireline[spark]'",
                        field="db") from None
    # Ibis asks every Connect session for a schema check the client does not have; the client warns
    # on stderr for each in-memory table, which the user can do nothing about.
    warnings.filterwarnings("ignore", message="'verifySchema' is ignored", category=UserWarning)
    session = _CONNECT.get(remote)
    if session is None or getattr(session, "is_stopped", False):
        _probe_connect(remote)
        session = _CONNECT[remote] = ConnectSession.builder.remote(remote).create()
    return session


# How long a Spark Connect server has to accept a connection and answer gRPC's handshake. Without
# the probe, the client retries an unreachable server for at least 10 minutes before failing.
PROBE_SECONDS = 5.0


def _probe_connect(remote: str) -> None:
    """Fail now, naming the URL, when nothing at `remote` accepts a connection, or what does never
    answers as a gRPC server (a wrong port)."""
    import grpc
    from pyspark.sql.connect.client.core import DefaultChannelBuilder

    builder = DefaultChannelBuilder(remote)
    where = remote.split("/;", 1)[0]  # the parameters may hold a token
    host, _, port = builder.endpoint.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise UserError(f"cannot reach the Spark Connect server ({exc.strerror or exc}); is it running, "
                        "and is this its host and port?", where=where) from None
    channel = builder.toChannel()
    try:
        grpc.channel_ready_future(channel).result(timeout=PROBE_SECONDS)
    except grpc.FutureTimeoutError:
        raise UserError(f"no Spark Connect server answered within {PROBE_SECONDS:g} s (the port accepts "
                        "connections but speaks no gRPC: a wrong port?)", where=where) from None
    finally:
        channel.close()


def _connect_params(url: str) -> list[str]:
    return [p for p in url.split("/;")[1:] if p] if "/;" in url else []


def _parquet_view(session: Any, con: Any, path: Path, view: str) -> ibis.Table:
    """`path` (a parquet file or folder) as the temporary view `view`, its schema read from the
    footer here: left to Spark, inferring it is one Spark job per table (18 of them, about 5 s
    under load, before the first query of every process)."""
    try:
        import pyarrow.dataset as ds
        from pyspark.sql.pandas.types import from_arrow_schema

        schema = from_arrow_schema(ds.dataset(str(path), format="parquet").schema)
    except Exception:  # a type Arrow-to-Spark does not map: let Spark infer it
        return con.read_parquet(str(path), table_name=view)
    session.read.schema(schema).parquet(str(path)).createOrReplaceTempView(view)
    return con.table(view)


def _exported_path(folder: Path, name: str) -> Path | None:
    """Table `name` in `folder`: a `<name>.parquet` file (`export parquet`) or a `<name>/` parquet
    folder (`export tables --to pyspark:///DIR`)."""
    return next((p for p in (folder / f"{name}.parquet", folder / name) if p.exists()), None)


def _require_exported(tables: dict[str, ibis.Table], url: str, where: str) -> None:
    """A place without the exported tables is named now, not by a command's failure later."""
    if "deployments" not in tables:
        raise UserError(f"no exported tables in {where} (fireline export tables --to URL writes them)", where=url)


class ReadOnlyEngine:
    """An Ibis backend the metrics read; every write names the way out (`fireline export`)."""

    read_only = True

    def __init__(self, con: Any, url: str, kind: str, tables: dict[str, ibis.Table]) -> None:
        self.con = con
        self.url = url
        self.kind = kind
        self._tables = tables

    @classmethod
    def connect(cls, url: str) -> ReadOnlyEngine:
        scheme = urlparse(url).scheme
        if scheme in SPARK:
            return cls._spark(url)
        try:
            con = ibis_module().connect(url)
        except ImportError as exc:
            raise UserError(f"cannot connect to {scheme}: {exc} (pip install 'ibis-framework[{WAREHOUSES[scheme]}]')",
                            field="db") from None
        except Exception as exc:  # each driver raises its own kinds; all mean "cannot connect"
            raise UserError(f"cannot connect to {scheme}: {str(exc).strip()}", field="db") from None
        present = set(con.list_tables())
        tables = {n: utc_table(con.table(n), n) for n in TABLES if n in present}
        _require_exported(tables, url, "the URL's schema")
        return cls(con, url, scheme, tables)

    @classmethod
    def _spark(cls, url: str) -> ReadOnlyEngine:
        parts = urlparse(url)
        if parts.scheme == "sc":
            session = spark_session(url)
            con = ibis_module().pyspark.connect(session)
            database = next((p.split("=", 1)[1] for p in _connect_params(url) if p.startswith("database=")), None)
            present = set(con.list_tables(database=database))
            tables = {n: utc_table(con.table(n, database=database), n) for n in TABLES if n in present}
            _require_exported(tables, url, f"database {database}" if database else "the current database")
            return cls(con, url, "spark", tables)
        # Found before the session starts (the JVM takes seconds): a wrong folder fails at once.
        folder = Path(unquote(parts.path))
        found = {name: path for name in TABLES if (path := _exported_path(folder, name)) is not None}
        if "deployments" not in found:
            raise UserError("no exported tables here (fireline export parquet DIR writes them)", where=str(folder))
        session = spark_session(url)
        _codegen_for_size(session, url, list(found.values()))
        con = plan_reusing_backend(session)
        tables = {}
        for name, path in found.items():
            # One view per folder and table: two stores may share the process's session.
            view = f"fireline_{name}_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"
            tables[name] = utc_table(_parquet_view(session, con, path, view), name)
        return cls(con, url, "spark", tables)

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            raise UserError(f"no table {name!r} on the {self.kind} store (export the store again)", field="db")
        return self._tables[name]

    def tables(self, names: Sequence[str]) -> dict[str, ibis.Table]:
        return {name: self.table(name) for name in names}

    def table_names(self) -> list[str]:
        return list(self._tables)

    def close(self) -> None:
        """The Spark session stays up for the process (starting one takes seconds)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise UserError(read_only_message(self.kind), field="db")

    execute = query = arrow = insert_arrow = returning = lock = try_lock = analyze = _refuse

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._refuse()
        yield

    def has_index(self, name: str) -> bool:
        return False

    @property
    def raw(self) -> Any:
        return self._refuse()


def is_read_only(url: str) -> bool:
    return urlparse(url).scheme in READ_ONLY_SCHEMES
