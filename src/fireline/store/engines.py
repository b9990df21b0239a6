"""One class per SQL engine, the way an HTTP client swaps transports: connecting, running a
statement, transactions, bulk inserts, advisory locks and catalogue lookups. The Store asks
its engine and never branches on which one it has."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from ..errors import UserError
from .ibis_setup import ibis_module
from .readonly import READ_ONLY_SCHEMES, ReadOnlyEngine, read_only_message
from .schema import PG_INDEXES, TABLES

if TYPE_CHECKING:
    import pyarrow as pa

# Advisory locks that serialise work across processes sharing a PostgreSQL store; released at
# commit. An embedded DuckDB file has one writer process, whose transactions already serialise.
LOCKS = {"normaliser": 424242, "relink": 424243, "schema": 424244}

# The store's generation on DuckDB: committed writes per database file in this process. One process
# writes a DuckDB file, so a counter in memory sees every write; a row in the store would not do, as
# two connections updating one row at once conflict and one of them fails.
_GENERATIONS: dict[str, int] = {}
_GENERATIONS_LOCK = threading.Lock()


class DuckDBEngine:
    """The embedded default: one file, one process."""

    kind = "duckdb"
    read_only = False

    def __init__(self, raw: Any, url: str) -> None:
        self._raw = raw  # DuckDB's own connection
        self._con: Any = None  # its Ibis backend, made on first use
        self.url = url
        # What Ibis sets on a connection it makes, set here so that SQL before and after it agrees.
        raw.execute("SET TimeZone = 'UTC'")
        raw.execute("SET python_enable_replacements = false")

    @property
    def con(self) -> Any:
        """The Ibis backend over this connection, made when first asked for: loading it is a good part of
        a command's start-up, and a command answered from what the store kept (app/kept.py) never asks."""
        if self._con is None:
            from .duckdb_arrow import without_pandas

            self._con = without_pandas(ibis_module().duckdb.from_connection(self._raw))
        return self._con

    @classmethod
    def connect(cls, url: str, *, create: bool) -> DuckDBEngine:
        path = Path(url.split("://", 1)[1] if "://" in url else url)
        if not create and not path.exists():
            raise UserError("no Fireline store here; ingest something first or pass --db", where=str(path))
        if path.is_dir():
            raise UserError("is a directory, expected a DuckDB file", where=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        import duckdb

        try:
            raw = duckdb.connect(str(path) if str(path) == ":memory:" else str(path.absolute()))
        except Exception as exc:  # DuckDB's own errors: a lock held by another process, a bad file
            raise UserError(f"cannot open DuckDB file: {exc}", where=str(path)) from None
        return cls(raw, str(path))

    @property
    def raw(self) -> Any:
        return self._raw

    def table(self, name: str) -> Any:
        return self.con.table(name)

    def tables(self, names: Sequence[str]) -> dict[str, Any]:
        """The tables `names` from one catalogue query, where Ibis' `table` runs a DESCRIBE each (a tenth
        of `fireline dora`): the same schemas, read the way Ibis reads them (tests/test_duckdb_ibis.py)."""
        import ibis.expr.operations as ops
        import ibis.expr.schema as sch

        con = self.con
        from_string = con.compiler.type_mapper.from_string
        columns: dict[str, dict[str, Any]] = {}
        for table, column, kind, nullable in self.query(
                "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = current_schema() "
                "ORDER BY table_name, column_index"):
            columns.setdefault(table, {})[column] = from_string(kind, nullable=nullable)
        return {name: ops.DatabaseTable(name, schema=sch.Schema(columns[name]), source=con,
                                        namespace=ops.Namespace(catalog=None, database=None)).to_expr()
                if name in columns else con.table(name)  # missing: Ibis says so, as it would have
                for name in names}

    def table_names(self) -> list[str]:
        return list(TABLES)

    def sibling(self) -> DuckDBEngine:
        """Another connection to the same database, for another thread (a DuckDB connection is used by one
        thread at a time). Opened by path, not as a cursor of this one, so closing this connection never
        waits on the other's work."""
        if self.url == ":memory:":
            return DuckDBEngine(self.raw.cursor(), self.url)
        return DuckDBEngine.connect(self.url, create=False)

    def close(self) -> None:
        if self._con is not None:
            self._con.disconnect()
        else:
            self._raw.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(sql, list(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.raw.execute(sql, list(params)).fetchall()

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.raw.sql(sql, params=list(params)).to_arrow_table()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    # Indexes beyond the primary keys, per table: (name, CREATE INDEX IF NOT EXISTS ...).
    extra_indexes: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {}

    def insert_arrow(self, table: str, data: pa.Table, names: str, pk: Sequence[str],
                     select: str | None = None) -> None:
        """Insert `data`; `select` (a SELECT over `_fireline_batch`, giving `names`) derives the rows."""
        self.raw.register("_fireline_batch", data)
        try:
            # DISTINCT ON guards against one batch repeating a key (DuckDB refuses that).
            source = select or (f"SELECT DISTINCT ON ({', '.join(pk)}) {names} FROM _fireline_batch" if pk
                                else f"SELECT {names} FROM _fireline_batch")
            conflict = " ON CONFLICT DO NOTHING" if pk else ""
            self.raw.execute(f"INSERT INTO {table} ({names}) {source}{conflict}")
        finally:
            self.raw.unregister("_fireline_batch")

    def returning(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        """Run a statement with RETURNING and give its rows."""
        return self.raw.execute(sql, list(params)).fetchall()

    def lock(self, name: str) -> None:
        """Wait for the named lock and hold it until the transaction ends (one process: nothing to wait for)."""

    def try_lock(self, name: str) -> bool:
        return True

    def has_index(self, name: str) -> bool:
        return bool(self.query("SELECT count(*) FROM duckdb_indexes() WHERE index_name = ?", [name])[0][0])

    # The generation: a number that grows with every committed write, so a reader can tell its
    # cached figures are current without reading the data again.
    generation_ddl: tuple[str, ...] = ()

    def has_generation(self) -> bool:
        return True

    def _generation_key(self) -> str:
        return str(Path(self.url).resolve()) if self.url != ":memory:" else f":memory:{id(self.raw)}"

    def generation(self) -> int:
        with _GENERATIONS_LOCK:
            return _GENERATIONS.get(self._generation_key(), 0)

    def committed_write(self) -> None:
        """After a transaction that wrote committed (never before: a reader that saw the new number
        must find the new rows)."""
        key = self._generation_key()
        with _GENERATIONS_LOCK:
            _GENERATIONS[key] = _GENERATIONS.get(key, 0) + 1

    def analyze(self, tables: Sequence[str] = ()) -> None:
        """Refresh the planner's statistics of these tables (all when none are named). DuckDB keeps
        its own as it writes."""


def _pg(sql: str) -> str:
    """psycopg placeholders: escape literal percent signs, then ? -> %s."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresEngine(DuckDBEngine):
    """A shared server: many processes and hosts; locks serialise what must not interleave."""

    kind = "postgres"

    def __init__(self, con: Any, url: str) -> None:
        # Not DuckDB's set-up: here the Ibis backend comes first, and it makes the connection.
        self._con, self._raw, self.url = con, con.con, url
        # No JIT compilation: Ibis' queries are wide (hundreds of expressions), their estimated cost sets
        # off LLVM's inlining and optimisation, and compiling took seconds more than it saved (half of a
        # `summarise` at 1M changes, BENCHMARKS.md). The connection autocommits, so this holds for the session.
        if int(self._raw.info.server_version) >= 110000:  # the setting exists since PostgreSQL 11
            with self._raw.cursor() as cur:
                cur.execute("SET jit = off")

    def tables(self, names: Sequence[str]) -> dict[str, Any]:
        # Ibis' per-table catalogue queries: PostgreSQL names its types otherwise than DuckDB.
        return {name: self.con.table(name) for name in names}

    @classmethod
    def connect(cls, url: str, *, create: bool) -> PostgresEngine:
        try:
            con = ibis_module().connect(url.replace("postgres://", "postgresql://", 1))
        except Exception as exc:  # psycopg raises many kinds; all mean "cannot connect"
            raise UserError(f"cannot connect to PostgreSQL: {str(exc).strip()}", field="db") from None
        return cls(con, url)

    def sibling(self) -> PostgresEngine:
        return PostgresEngine.connect(self.url, create=False)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.raw.cursor() as cur:
            cur.execute(_pg(sql), params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.raw.cursor() as cur:
            cur.execute(_pg(sql), params)
            return cur.fetchall() if cur.description else []

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        with self.raw.cursor() as cur:
            cur.execute(_pg(sql), params)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        import pyarrow as pa

        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.raw.transaction():
            yield

    extra_indexes = PG_INDEXES

    def insert_arrow(self, table: str, data: pa.Table, names: str, pk: Sequence[str],
                     select: str | None = None) -> None:
        conflict = " ON CONFLICT DO NOTHING" if pk else ""
        with self.raw.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS _fireline_batch (LIKE {table}) ON COMMIT DROP")
            cur.execute("TRUNCATE _fireline_batch")
            with cur.copy(f"COPY _fireline_batch ({', '.join(data.column_names)}) FROM STDIN") as copy:
                for row in zip(*(data.column(i).to_pylist() for i in range(data.num_columns)), strict=True):
                    copy.write_row(row)
            source = _pg(select) if select else f"SELECT {names} FROM _fireline_batch"
            cur.execute(f"INSERT INTO {table} ({names}) {source}{conflict}")
            cur.execute("DROP TABLE _fireline_batch")

    def returning(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        with self.raw.cursor() as cur:
            cur.execute(_pg(sql), params)
            return cur.fetchall()

    def lock(self, name: str) -> None:
        self.query("SELECT pg_advisory_xact_lock(?)", [LOCKS[name]])

    def try_lock(self, name: str) -> bool:
        return bool(self.query("SELECT pg_try_advisory_xact_lock(?)", [LOCKS[name]])[0][0])

    def has_index(self, name: str) -> bool:
        return bool(self.query("SELECT count(*) FROM pg_indexes WHERE indexname = ?", [name])[0][0])

    # Many processes write a PostgreSQL store: the generation is a sequence, which never takes a row
    # lock (an UPDATE of one counter row would serialise every writer on it).
    generation_ddl = ("CREATE SEQUENCE IF NOT EXISTS fireline_generation",)

    def has_generation(self) -> bool:
        return bool(self.query("SELECT to_regclass('fireline_generation') IS NOT NULL")[0][0])

    def generation(self) -> int:
        return int(self.query("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fireline_generation")[0][0])

    def committed_write(self) -> None:
        # Autocommit (Ibis' psycopg connection): a statement of its own, after the data committed.
        self.query("SELECT nextval('fireline_generation')")

    def analyze(self, tables: Sequence[str] = ()) -> None:
        # A sample of each table (30,000 rows by default): seconds for the whole store even at 10M changes.
        with self.raw.cursor() as cur:
            cur.execute(f"ANALYZE {', '.join(tables)}")


def connect(url: str, *, create: bool) -> Any:
    """The engine for a store URL: postgresql://..., a DuckDB file path, or a read-only engine
    (Spark, a warehouse: `readonly`), which a write-path (`create`) is refused with the way out."""
    scheme = urlparse(url).scheme
    if scheme in ("postgresql", "postgres"):
        return PostgresEngine.connect(url, create=create)
    if scheme in ("", "duckdb", "file") or len(scheme) == 1:  # 1: a Windows drive letter
        return DuckDBEngine.connect(url, create=create)
    if scheme in READ_ONLY_SCHEMES:
        if create:
            raise UserError(read_only_message(scheme), field="db")
        return ReadOnlyEngine.connect(url)
    raise UserError(f"unsupported database URL scheme {scheme!r} (use a DuckDB file path, postgresql://..., "
                    f"or for reading: {', '.join(s + '://' for s in READ_ONLY_SCHEMES)})", field="db")
