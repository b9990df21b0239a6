"""The store: the only code that knows SQL engines.

Reads go through Ibis so metrics run on any backend. Writes use the backend's own
connection, because Ibis has no transactions and an ingest must be all or nothing.
DuckDB (embedded, the default) and PostgreSQL are writable; any Ibis backend can be
read by the metrics.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from .errors import UserError
from .model import RepoState

DB_ENV = "FIRELINE_DB"
DEFAULT_DB = Path(".fireline") / "fireline.duckdb"
SCHEMA_VERSION = 1

TS = "TIMESTAMP WITH TIME ZONE"

# name -> (columns, primary key). Types are spelled the way both DuckDB and PostgreSQL read them.
TABLES: dict[str, tuple[list[tuple[str, str]], tuple[str, ...]]] = {
    "meta": ([("key", "TEXT"), ("value", "TEXT")], ("key",)),
    # Every inbound event, verbatim; `normalised` is set once its records are derived.
    "raw_events": ([
        ("source", "TEXT"), ("delivery_id", "TEXT"), ("kind", "TEXT"), ("payload", "TEXT"),
        ("received_at", TS), ("headers", "TEXT"), ("normalised", "BOOLEAN"), ("error", "TEXT"),
    ], ("source", "delivery_id")),
    "repos": ([("repo", "TEXT"), ("path", "TEXT"), ("tips", "TEXT"), ("services", "TEXT"),
               ("shallow", "BOOLEAN")], ("repo",)),
    "changes": ([
        ("repo", "TEXT"), ("sha", "TEXT"), ("parents", "TEXT"), ("author_name", "TEXT"),
        ("author_email", "TEXT"), ("author_time", TS), ("author_offset", "INTEGER"),
        ("committer_name", "TEXT"), ("committer_email", "TEXT"), ("committer_time", TS),
        ("committer_offset", "INTEGER"), ("subject", "TEXT"), ("message", "TEXT"),
        ("files_changed", "INTEGER"), ("lines_added", "BIGINT"), ("lines_removed", "BIGINT"),
        # "git" for the git pass (exact); a webhook source name when its parents were inferred.
        ("origin", "TEXT"),
    ], ("repo", "sha")),
    "change_files": ([
        ("repo", "TEXT"), ("sha", "TEXT"), ("path", "TEXT"), ("old_path", "TEXT"),
        ("added", "BIGINT"), ("removed", "BIGINT"),
    ], ()),
    "deployments": ([
        ("id", "TEXT"), ("service", "TEXT"), ("environment", "TEXT"), ("sha", "TEXT"), ("time", TS),
        ("status", "TEXT"), ("type", "TEXT"), ("source", "TEXT"), ("ref", "TEXT"), ("repo", "TEXT"),
        # canary, partial or full (NULL: a plain deployment, counted as full).
        ("stage", "TEXT"),
    ], ("id",)),
    "incidents": ([
        ("id", "TEXT"), ("service", "TEXT"), ("title", "TEXT"), ("started", TS), ("detected", TS),
        ("resolved", TS), ("severity", "TEXT"), ("detected_by", "TEXT"), ("cause", "TEXT"),
        ("source", "TEXT"),
    ], ("id",)),
    "alert_events": ([
        ("source", "TEXT"), ("delivery_id", "TEXT"), ("fingerprint", "TEXT"), ("name", "TEXT"),
        ("status", "TEXT"), ("starts_at", TS), ("ends_at", TS), ("service", "TEXT"), ("severity", "TEXT"),
        ("labels", "TEXT"), ("annotations", "TEXT"),
    ], ("source", "delivery_id", "fingerprint")),
    # Postmortems as code (postmortems/*.md front matter); lists are JSON text.
    "postmortems": ([
        ("id", "TEXT"), ("file", "TEXT"), ("title", "TEXT"), ("date", "DATE"), ("severity", "TEXT"),
        ("services", "TEXT"), ("incidents", "TEXT"), ("detected_by", "TEXT"), ("impact_start", TS),
        ("impact_end", TS), ("status", "TEXT"), ("authors", "TEXT"), ("tags", "TEXT"),
    ], ("id",)),
    "action_items": ([
        ("postmortem_id", "TEXT"), ("position", "INTEGER"), ("owner", "TEXT"), ("team", "TEXT"),
        ("what", "TEXT"), ("due", "DATE"), ("term", "TEXT"), ("dora_metric", "TEXT"), ("status", "TEXT"),
        ("done_on", "DATE"), ("ticket", "TEXT"), ("file", "TEXT"), ("line", "INTEGER"),
    ], ("postmortem_id", "position")),
    # Feature flag changes (from /events or a deployments file): a flip can end an incident.
    "feature_flags": ([
        ("id", "TEXT"), ("service", "TEXT"), ("flag", "TEXT"), ("time", TS), ("state", "TEXT"),
        ("source", "TEXT"), ("incident_id", "TEXT"),
    ], ("id",)),
    # Derived by linking (see linking.py); rebuilt whole on every ingest.
    "deployment_changes": ([
        ("deployment_id", "TEXT"), ("service", "TEXT"), ("repo", "TEXT"), ("sha", "TEXT"),
        ("baseline", "BOOLEAN"), ("via", "TEXT"),
    ], ("deployment_id", "repo", "sha")),
    "incident_deployments": ([
        ("incident_id", "TEXT"), ("deployment_id", "TEXT"), ("via", "TEXT"),
    ], ("incident_id", "deployment_id")),
}

_ARROW_TYPES = {
    "TEXT": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(),
    TS: pa.timestamp("us", tz="UTC"), "DOUBLE PRECISION": pa.float64(), "DATE": pa.date32(),
}


def pending_raw_event(source: str, delivery_id: str, kind: str, payload: str, received_at: datetime,
                      headers: str | None) -> tuple:
    """A `raw_events` row in column order, waiting for the normaliser (for `Writer.insert_values`),
    its text already as the store keeps it, so a caller can match the keys the insert returns."""
    return (storable(source), storable(delivery_id), storable(kind), storable(payload), received_at,
            storable(headers), False, None)


# The store's one rule for text (docs/security.md): NUL (PostgreSQL refuses it in text) and lone
# surrogates (a JSON escape such as "\ud800", which UTF-8 cannot carry) become U+FFFD, on every
# engine, so what the intake accepts is always storable and both engines store the same text.
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with NUL and lone surrogates replaced by U+FFFD when it is text; anything else as it is."""
    if value.__class__ is not str:
        return value
    if value.isascii():
        return value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def _storable_strings(values: list, arrow_type: pa.DataType) -> pa.Array:
    """One text column as Arrow, cleaned by `storable` (fast path: Arrow's own UTF-8 check)."""
    try:
        array = pa.array(values, type=arrow_type)
    except UnicodeEncodeError:
        array = pa.array([storable(v) for v in values], type=arrow_type)
    return _without_nul(array)


def _without_nul(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pc.any(pc.match_substring(array, "\x00")).as_py():
        return pc.replace_substring(array, "\x00", REPLACEMENT)
    return array


def arrow_schema(table: str) -> pa.Schema:
    columns, _ = TABLES[table]
    return pa.schema([(name, _ARROW_TYPES[sql]) for name, sql in columns])


def _pg(sql: str) -> str:
    """psycopg placeholders: escape literal percent signs, then ? -> %s."""
    return sql.replace("%", "%%").replace("?", "%s")


# Derived tables are rewritten whole by linking; their keys are unique by construction,
# so they carry no PRIMARY KEY index to maintain on every rewrite.
DERIVED = ("deployment_changes", "incident_deployments")


def create_table_sql(name: str, *, if_not_exists: bool = False) -> str:
    columns, pk = TABLES[name]
    cols = ", ".join(f"{c} {t}" for c, t in columns)
    key = f", PRIMARY KEY ({', '.join(pk)})" if pk and name not in DERIVED else ""
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {guard}{name} ({cols}{key})"


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(DB_ENV) or str(DEFAULT_DB)


@dataclass
class Store:
    url: str
    con: Any  # an Ibis backend
    kind: str  # "duckdb" or "postgres"

    # ---- connecting -------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        url = resolve_url(url)
        parsed = urlparse(url)
        if parsed.scheme in ("postgresql", "postgres"):
            try:
                con = ibis.connect(url.replace("postgres://", "postgresql://", 1))
            except Exception as exc:  # psycopg raises many kinds; all mean "cannot connect"
                raise UserError(f"cannot connect to PostgreSQL: {str(exc).strip()}", field="db") from None
            store = cls(url, con, "postgres")
        elif parsed.scheme in ("", "duckdb", "file") or len(parsed.scheme) == 1:  # 1: Windows drive
            path = Path(url.split("://", 1)[1] if "://" in url else url)
            if not create and not path.exists():
                raise UserError("no Fireline store here; ingest something first or pass --db", where=str(path))
            if path.is_dir():
                raise UserError("is a directory, expected a DuckDB file", where=str(path))
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                con = ibis.duckdb.connect(str(path))
            except Exception as exc:
                raise UserError(f"cannot open DuckDB file: {exc}", where=str(path)) from None
            store = cls(str(path), con, "duckdb")
        else:
            raise UserError(f"unsupported database URL scheme {parsed.scheme!r} "
                            "(use a DuckDB file path or postgresql://...)", field="db")
        store.ensure_schema()
        return store

    @property
    def raw(self) -> Any:
        return self.con.con

    def close(self) -> None:
        self.con.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create the tables, columns and index a store lacks. A complete store is only read: DDL
        takes locks that would queue behind, or deadlock with, another process's open ingest."""
        if self._schema_complete():
            return
        with self.transaction() as tx:
            # Processes opening a new PostgreSQL store at once would race on CREATE ... IF NOT EXISTS.
            tx.lock("schema")
            for name in TABLES:
                tx.execute(create_table_sql(name, if_not_exists=True))
            # Stores made by earlier versions lack the columns added since.
            present = self._columns()
            for table, (columns, _) in TABLES.items():
                for column, sql_type in columns:
                    if (table, column) not in present:
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}")
            tx.execute("CREATE INDEX IF NOT EXISTS change_files_sha ON change_files (repo, sha)")
            tx.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                       [str(SCHEMA_VERSION)])

    def _columns(self) -> set[tuple[str, str]]:
        return set(self.query("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_catalog = current_database()"))

    def _schema_complete(self) -> bool:
        wanted = {(table, column) for table, (columns, _) in TABLES.items() for column, _ in columns}
        if not wanted <= self._columns():
            return False
        index = ("SELECT count(*) FROM pg_indexes WHERE indexname = 'change_files_sha'" if self.kind == "postgres"
                 else "SELECT count(*) FROM duckdb_indexes() WHERE index_name = 'change_files_sha'")
        return bool(self.query(index)[0][0]) and bool(
            self.query("SELECT count(*) FROM meta WHERE key = 'schema_version'")[0][0])

    # ---- writing ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        if self.kind == "postgres":
            with self.raw.transaction():
                yield Writer(self)
        else:
            self.raw.execute("BEGIN TRANSACTION")
            try:
                yield Writer(self)
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")

    # ---- reading ----------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def tables(self) -> dict[str, ibis.Table]:
        return {name: self.con.table(name) for name in TABLES}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        params = [storable(p) for p in params]
        if self.kind == "postgres":
            with self.raw.cursor() as cur:
                cur.execute(_pg(sql), params)
                return cur.fetchall() if cur.description else []
        return self.raw.execute(sql, list(params)).fetchall()

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        params = [storable(p) for p in params]
        if self.kind == "postgres":
            with self.raw.cursor() as cur:
                cur.execute(_pg(sql), params)
                names = [d.name for d in cur.description]
                rows = cur.fetchall()
            return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
        return self.raw.sql(sql, params=list(params)).to_arrow_table()

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]

    def repo_state(self, repo: str) -> RepoState | None:
        rows = self.query("SELECT repo, path, tips, shallow FROM repos WHERE repo = ?", [repo])
        if not rows:
            return None
        repo, path, tips, shallow = rows[0]
        return RepoState(repo=repo, path=path, tips=json.loads(tips), shallow=bool(shallow))

    def repo_services(self) -> dict[str, list[dict]]:
        return {repo: json.loads(services or "[]")
                for repo, services in self.query("SELECT repo, services FROM repos")}

    def known_shas(self, repo: str, *, origin: str | None = None) -> set[str]:
        if origin is None:
            return {r[0] for r in self.query("SELECT sha FROM changes WHERE repo = ?", [repo])}
        return {r[0] for r in self.query("SELECT sha FROM changes WHERE repo = ? AND coalesce(origin, 'git') = ?",
                                         [repo, origin])}


# Advisory locks that serialise work across processes sharing a PostgreSQL store; released at
# commit. An embedded DuckDB file has one writer process, whose transactions already serialise.
_LOCKS = {"normaliser": 424242, "relink": 424243, "schema": 424244}


class Writer:
    """Writes inside one open transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        params = [storable(p) for p in params]
        if self.store.kind == "postgres":
            with self.store.raw.cursor() as cur:
                cur.execute(_pg(sql), params)
        else:
            self.store.raw.execute(sql, params)

    def lock(self, name: str) -> None:
        """Wait until no other transaction holds `name`, then hold it until this one ends."""
        if self.store.kind == "postgres":
            self.store.query("SELECT pg_advisory_xact_lock(?)", [_LOCKS[name]])

    def try_lock(self, name: str) -> bool:
        """Hold `name` until this transaction ends, if no other transaction holds it now."""
        if self.store.kind == "postgres":
            return bool(self.store.query("SELECT pg_try_advisory_xact_lock(?)", [_LOCKS[name]])[0][0])
        return True

    def delete_all(self, table: str) -> None:
        self.execute(f"DELETE FROM {table}")

    def replace_all(self, table: str, data: pa.Table | dict[str, list]) -> None:
        """Rewrite a derived table whole. Dropping and re-creating it (transactional DDL on both
        engines) is several times faster than deleting every row and re-inserting."""
        self.execute(f"DROP TABLE {table}")
        self.execute(create_table_sql(table))
        self.insert(table, data)

    def insert(self, table: str, data: pa.Table | dict[str, list]) -> int:
        """Insert rows; rows whose primary key already exists are kept as they were."""
        if isinstance(data, dict):
            # Columns a caller does not know about (added by later versions) are stored as NULL.
            rows = len(next(iter(data.values()), []))
            schema = arrow_schema(table)
            data = pa.Table.from_arrays(
                [_storable_strings(data.get(f.name, [None] * rows), f.type) if f.type == pa.string()
                 else pa.array(data.get(f.name, [None] * rows), type=f.type) for f in schema], schema=schema)
        else:
            data = pa.Table.from_arrays([_without_nul(c) if c.type == pa.string() else c for c in data.columns],
                                        schema=data.schema)
        if data.num_rows == 0:
            return 0
        columns, pk = TABLES[table]
        pk = () if table in DERIVED else pk
        names = ", ".join(c for c, _ in columns)
        conflict = " ON CONFLICT DO NOTHING" if pk else ""
        if self.store.kind == "postgres":
            return self._insert_postgres(table, data, names, conflict)
        raw = self.store.raw
        raw.register("_fireline_batch", data)
        try:
            # DISTINCT ON guards against one batch repeating a key (DuckDB refuses that).
            source = (f"SELECT DISTINCT ON ({', '.join(pk)}) {names} FROM _fireline_batch" if pk
                      else f"SELECT {names} FROM _fireline_batch")
            raw.execute(f"INSERT INTO {table} ({names}) {source}{conflict}")
        finally:
            raw.unregister("_fireline_batch")
        return data.num_rows

    def insert_values(self, table: str, rows: list[tuple]) -> set[tuple]:
        """Insert rows given in column order; returns the primary keys of the rows that were new.

        The intake server's path: one multi-row statement (DuckDB pays about 2 ms per statement,
        so fifty single-row inserts cost twenty times one fifty-row insert) and no Arrow batch.
        Rows repeating a key within `rows` are dropped here: only the first can be new.
        """
        columns, pk = TABLES[table]
        index = [i for i, (name, _) in enumerate(columns) if name in pk]
        unique: dict[tuple, tuple] = {}
        for row in rows:
            row = tuple(storable(v) for v in row)
            unique.setdefault(tuple(row[i] for i in index), row)
        if not unique:
            return set()
        names = ", ".join(c for c, _ in columns)
        one = "(" + ", ".join("?" for _ in columns) + ")"
        new: set[tuple] = set()
        batch = list(unique.values())
        for start in range(0, len(batch), 200):
            chunk = batch[start:start + 200]
            sql = (f"INSERT INTO {table} ({names}) VALUES {', '.join(one for _ in chunk)} ON CONFLICT DO NOTHING "
                   f"RETURNING {', '.join(pk)}")
            params = [value for row in chunk for value in row]
            if self.store.kind == "postgres":
                with self.store.raw.cursor() as cur:
                    cur.execute(_pg(sql), params)
                    new |= {tuple(r) for r in cur.fetchall()}
            else:
                new |= {tuple(r) for r in self.store.raw.execute(sql, params).fetchall()}
        return new

    def _insert_postgres(self, table: str, data: pa.Table, names: str, conflict: str) -> int:
        conn = self.store.raw
        with conn.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS _fireline_batch (LIKE {table}) ON COMMIT DROP")
            cur.execute("TRUNCATE _fireline_batch")
            with cur.copy(f"COPY _fireline_batch ({names}) FROM STDIN") as copy:
                for row in zip(*(data.column(i).to_pylist() for i in range(data.num_columns)), strict=True):
                    copy.write_row(row)
            cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _fireline_batch{conflict}")
            cur.execute("DROP TABLE _fireline_batch")
        return data.num_rows
