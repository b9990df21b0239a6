"""The store: the only code that knows SQL.

Reads go through Ibis so metrics run on any backend. Writes use the engine's own
connection, because Ibis has no transactions and an ingest must be all or nothing.
DuckDB (embedded, the default) and PostgreSQL are writable (`engines`: one class each);
any Ibis backend can be read by the metrics.

The rest of the code asks the store by name (`pending_raw_events`, `counted_deployments`,
`Writer.mark_raw_events`, ...) rather than writing SQL of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import RepoState
from .engines import DuckDBEngine, PostgresEngine, connect
from .schema import (
    DERIVED,
    REWORK_RULES_KEY,
    RULES_OF_LINKS_SQL,
    SCHEMA_VERSION,
    TABLES,
    TS,
    arrow_schema,
    create_table_sql,
    migrations,
    rework_rule_sql,
    rework_rules_fingerprint,
)
from .text import REPLACEMENT, storable
from .writer import Writer, marks

if TYPE_CHECKING:  # both imported by the engine when it builds its first query (engines.ibis_module)
    import ibis
    import pyarrow as pa

__all__ = ["DB_ENV", "DEFAULT_DB", "DERIVED", "REPLACEMENT", "SCHEMA_VERSION", "TABLES", "TS", "DuckDBEngine",
           "PostgresEngine", "Store", "Writer", "arrow_schema", "create_table_sql", "pending_raw_event",
           "resolve_url", "storable"]

DB_ENV = "FIRELINE_DB"
# A transaction that wrote at least this many rows to a table refreshes that table's statistics
# when it commits (PostgreSQL; linking re-creates its tables, which then have none at all).
ANALYZE_AFTER_ROWS = 10_000
DEFAULT_DB = Path(".fireline") / "fireline.duckdb"


def resolve_url(url: str | None, configured: str | None = None) -> str:
    """The store to open: the one given, else FIRELINE_DB, else the config's, else the default file."""
    return url or os.environ.get(DB_ENV) or configured or str(DEFAULT_DB)


def pending_raw_event(source: str, delivery_id: str, kind: str, payload: str, received_at: datetime,
                      headers: str | None) -> tuple:
    """A `raw_events` row in column order, waiting for the normaliser (for `Writer.insert_values`),
    its text already as the store keeps it, so a caller can match the keys the insert returns."""
    return (storable(source), storable(delivery_id), storable(kind), storable(payload), received_at,
            storable(headers), False, None)


class Store:
    """A connection to one store. `Store.open(url)`; use it as a context manager to close it."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        store = cls(connect(resolve_url(url), create=create))
        if not store.read_only:
            store.ensure_schema()
        return store

    @property
    def read_only(self) -> bool:
        """Spark or a warehouse (`readonly`): the metrics read it; every write is refused."""
        return bool(self.engine.read_only)

    @property
    def url(self) -> str:
        return self.engine.url

    @property
    def kind(self) -> str:
        """"duckdb", "postgres", "spark" or a warehouse's scheme: what a user is told, never what code branches on."""
        return self.engine.kind

    @property
    def con(self) -> Any:
        """The Ibis backend."""
        return self.engine.con

    @property
    def raw(self) -> Any:
        """The engine's own connection (DuckDB's, or psycopg's)."""
        return self.engine.raw

    def close(self) -> None:
        self.engine.close()

    def sibling(self) -> Store:
        """Another connection to this store, for another thread."""
        return Store(self.engine.sibling())

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
            # Checked again under the lock: the process that held it may have completed the schema,
            # and CREATE INDEX IF NOT EXISTS locks its table before it finds the index there, which
            # deadlocked with an ingest already writing (tests/test_store_pg_schema_race.py).
            if self._schema_complete():
                return
            for name in TABLES:
                tx.execute(create_table_sql(name, if_not_exists=True))
            # Stores made by earlier versions lack the columns added since.
            present = self._columns()
            for table, (columns, _) in TABLES.items():
                for column, sql_type in columns:
                    if (table, column) not in present:
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}")
            for name, sql in self._indexes():
                if not self.engine.has_index(name):  # only the missing ones: each locks its table
                    tx.execute(sql)
            for sql in self.engine.generation_ddl:
                tx.execute(sql)
            # A store from before the meta row existed is at version 1, as is one that has it at 1.
            rows = self.query("SELECT value FROM meta WHERE key = 'schema_version'")
            version = int(rows[0][0]) if rows else (1 if self.count("deployments") else SCHEMA_VERSION)
            for sql in migrations(version):
                tx.execute(sql)
            if version < SCHEMA_VERSION:
                tx.execute("DELETE FROM meta WHERE key = 'schema_version'")
            tx.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                       [str(max(version, SCHEMA_VERSION))])
            # Every commit's rework rule, again, when the rules are not those it was written with (or
            # the column is new): the rule is a column so that the metrics need not scan every subject.
            if self._meta(REWORK_RULES_KEY) != rework_rules_fingerprint():
                tx.execute(f"UPDATE changes SET rework_rule = {rework_rule_sql()}")
                tx.execute(RULES_OF_LINKS_SQL)
                tx.execute("DELETE FROM meta WHERE key = ?", [REWORK_RULES_KEY])
                tx.execute("INSERT INTO meta VALUES (?, ?)", [REWORK_RULES_KEY, rework_rules_fingerprint()])

    def _meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def _columns(self) -> set[tuple[str, str]]:
        return set(self.query("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_catalog = current_database()"))

    def _indexes(self) -> list[tuple[str, str]]:
        return [("change_files_sha", "CREATE INDEX IF NOT EXISTS change_files_sha ON change_files (repo, sha)"),
                *(index for indexes in self.engine.extra_indexes.values() for index in indexes)]

    def _schema_complete(self) -> bool:
        wanted = {(table, column) for table, (columns, _) in TABLES.items() for column, _ in columns}
        if not wanted <= self._columns():
            return False
        meta = dict(self.query("SELECT key, value FROM meta WHERE key IN ('schema_version', ?)", [REWORK_RULES_KEY]))
        return (all(self.engine.has_index(name) for name, _sql in self._indexes()) and "schema_version" in meta
                and int(meta["schema_version"]) >= SCHEMA_VERSION and self.engine.has_generation()
                and meta.get(REWORK_RULES_KEY) == rework_rules_fingerprint())

    def after_bulk_load(self) -> None:
        """Refresh the planner's statistics of every table, after rows were loaded around the store
        (transactions that write many rows do it for their tables themselves)."""
        self.engine.analyze()

    # ---- writing ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        with self.engine.transaction():
            writer = Writer(self)
            yield writer
        if writer.changed:
            self.engine.committed_write()
        large = sorted(t for t, n in writer.written.items() if n >= ANALYZE_AFTER_ROWS)
        if large:
            self.engine.analyze(large)

    # ---- reading ----------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        return self.engine.table(name)

    def tables(self) -> dict[str, ibis.Table]:
        """Every table the engine holds (a read-only engine may lack the raw event log)."""
        return self.engine.tables(self.engine.table_names())

    def _rows(self, expr: ibis.Table) -> list[dict[str, Any]]:
        return expr.to_pyarrow().to_pylist()

    def _select(self, table: str, *columns: str) -> list[dict[str, Any]]:
        """Every row of `table`'s `columns`, as dicts: one plain query on DuckDB and PostgreSQL, where an
        ingestion would otherwise load Ibis for its few reads; through Ibis on a read-only engine."""
        if self.read_only:
            return self._rows(self.table(table).select(*columns))
        return [dict(zip(columns, row, strict=True))
                for row in self.query(f"SELECT {', '.join(columns)} FROM {table}")]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.engine.query(sql, [storable(p) for p in params])

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.engine.arrow(sql, [storable(p) for p in params])

    def has_table(self, name: str) -> bool:
        """Whether `name` exists in the store's schema (the caches are created on first use)."""
        return bool(self.query("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                               "AND table_schema = current_schema()", [name])[0][0])

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]

    def generation(self) -> int:
        """A number that grows with every committed write (an ingest, a normalisation round, a raw
        event stored): figures computed at one generation hold until it moves. On DuckDB it counts
        the writes of this process (the one writer of the file), on PostgreSQL those of every process."""
        return self.engine.generation()

    # ---- repositories and commits --------------------------------------------------

    def repo_state(self, repo: str) -> RepoState | None:
        rows = self.query("SELECT repo, path, tips, shallow FROM repos WHERE repo = ?", [repo])
        if not rows:
            return None
        repo, path, tips, shallow = rows[0]
        return RepoState(repo=repo, path=path, tips=json.loads(tips), shallow=bool(shallow))

    # The reads of the analyses run on read-only engines too (`_select`).
    def repo_services(self) -> dict[str, list[dict]]:
        return self.services_of_repos((r["repo"], r["services"]) for r in self._select("repos", "repo", "services"))

    @staticmethod
    def services_of_repos(rows: Iterable[tuple[str, str | None]]) -> dict[str, list[dict]]:
        """`repo_services` from (repo, services) rows of `repos` read elsewhere (`Sources.survey`)."""
        return {repo: json.loads(services or "[]") for repo, services in rows}

    def has_repo(self, repo: str) -> bool:
        return storable(repo) in {r["repo"] for r in self._select("repos", "repo")}

    def known_shas(self, repo: str, *, origin: str | None = None) -> set[str]:
        if origin is None:
            return {r[0] for r in self.query("SELECT sha FROM changes WHERE repo = ?", [repo])}
        return {r[0] for r in self.query("SELECT sha FROM changes WHERE repo = ? AND coalesce(origin, 'git') = ?",
                                         [repo, origin])}

    def repos(self) -> list[tuple[str, str, list[dict]]]:
        """(repo, path it was ingested from, its services) of every ingested repository, by name."""
        return sorted(((r["repo"], r["path"], json.loads(r["services"] or "[]"))
                       for r in self._select("repos", "repo", "path", "services")), key=lambda r: r[0])

    def repos_with_changes(self) -> set[str]:
        """Every repository with commits, including those known only from webhook pushes."""
        return {r[0] for r in self.query("SELECT DISTINCT repo FROM changes")}

    def commit_parents(self, repo: str) -> pa.Table:
        """(sha, parents) of every commit of `repo`; parents are space-separated shas."""
        return self.arrow("SELECT sha, parents FROM changes WHERE repo = ?", [repo])

    def author_times(self, repo: str, shas: Sequence[str]) -> dict[str, datetime]:
        """sha -> author time of these commits of `repo` (those it has)."""
        out: dict[str, datetime] = {}
        for start in range(0, len(shas), 1000):
            chunk = list(shas[start:start + 1000])
            out.update(self.query(f"SELECT sha, author_time FROM changes WHERE repo = ? AND sha IN ({marks(chunk)})",
                                  [repo, *chunk]))
        return out

    def pull_requests_to_link(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """(id, repo, merge commit, head sha, base sha) of every pull request, by id."""
        return self.query("SELECT id, repo, merge_commit, head_sha, base_sha FROM pull_requests ORDER BY id")

    def cherry_pick_messages(self, repo: str) -> list[tuple[str, str]]:
        """(sha, message) of the commits whose message records a cherry-pick."""
        return self.query("SELECT sha, message FROM changes WHERE repo = ? AND message LIKE "
                          "'%cherry picked from commit%'", [repo])

    def changed_paths(self, repo: str) -> pa.Table:
        """(sha, path) for every file every commit of `repo` touched."""
        return self.arrow("SELECT sha, path FROM change_files WHERE repo = ?", [repo])

    def scan_cache(self, repo: str, path: str) -> tuple[str, str] | None:
        """(settings, result) of the latest marker scan of this working copy, if one was kept."""
        rows = self.query("SELECT settings, result FROM scan_cache WHERE repo = ? AND path = ?", [repo, path])
        return (rows[0][0], rows[0][1]) if rows else None

    def deployed_commits(self) -> set[tuple[str, str]]:
        """(repo, sha) of every stored commit that a deployment names by its full sha (one join, one scan)."""
        return {(r, s) for r, s in self.query("SELECT DISTINCT c.repo, c.sha FROM changes c "
                                              "JOIN deployments d ON c.sha = d.sha")}

    def commits_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        """(repo, sha) of the stored commits whose sha starts with `prefix` (lower-case hex)."""
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        return self.query("SELECT repo, sha FROM changes WHERE sha >= ? AND sha < ? ORDER BY repo, sha",
                          [prefix, prefix + "g"])

    def links_of_commits(self, shas: Sequence[str]) -> list[tuple[str, str, str, str]]:
        """(repo, sha, service, deployment id) of the commit links of these shas."""
        shas = sorted(set(shas))
        if not shas:
            return []
        return self.query(f"SELECT repo, sha, service, deployment_id FROM deployment_changes "
                          f"WHERE sha IN ({marks(shas)})", shas)

    def services_linked_in(self, repos: Sequence[str]) -> set[str]:
        """Every service with a commit link into one of these repositories."""
        if not repos:
            return set()
        return {r[0] for r in self.query(f"SELECT DISTINCT service FROM deployment_changes "
                                         f"WHERE repo IN ({marks(repos)})", list(repos))}

    # ---- deployments, incidents, services ----------------------------------------

    def counted_deployments(self, production: Sequence[str]) -> list[tuple[str, str, str, datetime]]:
        """(id, service, sha, time) of successful deployments to these environments, in time order."""
        envs = [e.lower() for e in production]  # stored lower-cased (schema.NORMALISED)
        return self.query("SELECT id, service, sha, time FROM deployments WHERE status = 'success' "
                          f"AND environment IN ({marks(envs)}) ORDER BY time, id", envs)

    def tag_deployments(self, repo: str) -> list[dict]:
        """Every deployment derived from `repo`'s tags, as rows (column -> value)."""
        names = [c for c, _ in TABLES["deployments"][0]]
        rows = self.query(f"SELECT {', '.join(names)} FROM deployments WHERE source = 'tag' AND repo = ? "
                          "ORDER BY id", [repo])
        return [dict(zip(names, row, strict=True)) for row in rows]

    def incidents_to_link(self) -> list[tuple[str, str, datetime, str | None]]:
        """(id, service, started, cause) of every incident, in start order."""
        return self.query("SELECT id, service, started, cause FROM incidents ORDER BY started, id")

    def incident_ids(self) -> set[str]:
        return {r["id"] for r in self._select("incidents", "id")}

    def postmortems_from(self, files: Sequence[str], ids: Sequence[str]) -> int:
        """How many stored postmortems came from these files or carry these ids."""
        return self.query(f"SELECT count(*) FROM postmortems WHERE file IN ({marks(files)}) OR id IN ({marks(ids)})",
                          [*files, *ids])[0][0]

    def service_names(self) -> set[str]:
        """Every service a deployment or an incident names."""
        return {r["service"] for table in ("deployments", "incidents") for r in self._select(table, "service")}

    def rows_by_id(self, table: str, ids: Sequence[str]) -> list[dict]:
        """The rows of `table` with these ids, as dicts."""
        ids = sorted(set(ids))
        if not ids:
            return []
        return self.arrow(f"SELECT * FROM {table} WHERE id IN ({marks(ids)})", ids).to_pylist()

    # ---- raw events ----------------------------------------------------------------

    def raw_events(self, sources: Sequence[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(source, delivery id, kind, payload) of every raw event (of these sources), in arrival order."""
        where = f" WHERE source IN ({marks(sources)})" if sources is not None else ""
        return self.query(f"SELECT source, delivery_id, kind, payload FROM raw_events{where} "
                          "ORDER BY received_at, source, delivery_id", list(sources or ()))

    def pending_raw_events(self, sources: Sequence[str], limit: int) -> list[tuple[str, str, str, str]]:
        """Up to `limit` raw events of these sources waiting for the normaliser, oldest first."""
        return self.query(f"SELECT source, delivery_id, kind, payload FROM raw_events WHERE NOT "
                          f"coalesce(normalised, FALSE) AND source IN ({marks(sources)}) "
                          f"ORDER BY received_at, source, delivery_id LIMIT {int(limit)}", list(sources))

    def pending_count(self, sources: Sequence[str]) -> tuple[int, datetime | None]:
        """How many raw events of these sources wait, and when the oldest of them arrived."""
        rows = self.query(f"SELECT count(*), min(received_at) FROM raw_events WHERE NOT coalesce(normalised, FALSE) "
                          f"AND source IN ({marks(sources)})", list(sources))
        return rows[0][0], rows[0][1]

    def failed_count(self) -> int:
        return self.query("SELECT count(*) FROM raw_events WHERE error IS NOT NULL")[0][0]

    def failed_raw_events(self) -> list[tuple[str, str, str, datetime, str]]:
        """(source, delivery id, kind, received at, error) of the raw events that failed, oldest first."""
        return self.query("SELECT source, delivery_id, kind, received_at, error FROM raw_events "
                          "WHERE error IS NOT NULL ORDER BY received_at, source, delivery_id")
