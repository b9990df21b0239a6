"""Writes inside one open transaction (`Store.transaction`): the only code besides the store that
writes SQL, named by what it does (`mark_raw_events`, `delete_links_of`, `insert`, ...)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .schema import DERIVED, NORMALISED, TABLES, arrow_schema, create_table_sql, rework_rule_arrow
from .text import storable, storable_strings, without_nul

if TYPE_CHECKING:
    import pyarrow as pa

    from . import Store


def marks(values: Sequence[Any]) -> str:
    """One placeholder per value, for `IN (...)`."""
    return ", ".join("?" for _ in values)


# Rows derived while they are inserted: a commit link carries its commit's times and rework rule (lead
# time and rework then read the links, not the 10M-row `changes`); a link to a commit not stored gets NULLs.
_DERIVE = {
    "deployment_changes": (
        "SELECT b.deployment_id, b.service, b.repo, b.sha, b.baseline, b.via, c.committer_time, c.author_time, "
        "c.rework_rule "
        "FROM _fireline_batch b LEFT JOIN changes c ON c.repo = b.repo AND c.sha = b.sha"),
}


class Writer:
    """Writes inside one open transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.written: dict[str, int] = {}  # rows inserted per table
        self.changed = False  # a statement that may have written ran: the generation moves at commit

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.changed = True
        self.engine.execute(sql, [storable(p) for p in params])

    def lock(self, name: str) -> None:
        """Wait until no other transaction holds `name` ("normaliser", "relink", "schema"), then hold it
        until this one ends. On PostgreSQL an advisory lock; DuckDB has one writer process anyway."""
        self.engine.lock(name)

    def try_lock(self, name: str) -> bool:
        """Hold `name` until this transaction ends, if no other transaction holds it now."""
        return self.engine.try_lock(name)

    def delete_all(self, table: str) -> None:
        self.execute(f"DELETE FROM {table}")

    def delete_ids(self, table: str, ids: Sequence[str]) -> None:
        if ids:
            self.execute(f"DELETE FROM {table} WHERE id IN ({marks(ids)})", list(ids))

    def delete_by_source(self, table: str, sources: Sequence[str]) -> None:
        self.execute(f"DELETE FROM {table} WHERE source IN ({marks(sources)})", list(sources))

    def delete_derived_records(self) -> None:
        """Deployments, incidents and flag changes derived from raw events (tag deployments come from git)."""
        self.execute("DELETE FROM deployments WHERE source <> 'tag'")
        self.delete_all("incidents")
        self.delete_all("feature_flags")

    def delete_commits(self, repo: str, shas: Sequence[str]) -> None:
        """These commits of `repo` and their files (to be written again, exactly, by the git pass)."""
        for start in range(0, len(shas), 1000):
            chunk = list(shas[start:start + 1000])
            for table in ("changes", "change_files"):
                self.execute(f"DELETE FROM {table} WHERE repo = ? AND sha IN ({marks(chunk)})", [repo, *chunk])

    def put_repo(self, repo: str, path: str, tips: dict[str, str], services: list[dict], shallow: bool) -> None:
        self.execute("DELETE FROM repos WHERE repo = ?", [repo])
        self.insert("repos", {"repo": [repo], "path": [path], "tips": [json.dumps(tips, sort_keys=True)],
                              "services": [json.dumps(services)], "shallow": [shallow]})

    def put_scan_cache(self, repo: str, path: str, settings: str, head: str | None, result: str) -> None:
        self.execute("DELETE FROM scan_cache WHERE repo = ? AND path = ?", [repo, path])
        # One row, as a plain INSERT: through Arrow, pyarrow would import pandas to build it (it looks for a
        # pandas object in any list it is given), 0.3-0.4 s inside a server's first page, where scans land.
        self.execute("INSERT INTO scan_cache (repo, path, settings, head, result) VALUES (?, ?, ?, ?, ?)",
                     [repo, path, settings, head, result])

    def delete_postmortems(self, files: Sequence[str], ids: Sequence[str]) -> None:
        """Postmortems from these files or with these ids, and their action items (an item of a postmortem
        that moved to another file goes with it)."""
        params = [*files, *ids]
        self.execute(f"DELETE FROM action_items WHERE file IN ({marks(files)}) OR postmortem_id IN ({marks(ids)})",
                     params)
        self.execute(f"DELETE FROM postmortems WHERE file IN ({marks(files)}) OR id IN ({marks(ids)})", params)

    def mark_raw_events(self, done: Sequence[tuple[str, str]], failed: Sequence[tuple[str, str, str]]) -> None:
        """Raw events handled: `done` (source, delivery id) derived; `failed` (source, delivery id, error)
        kept aside with their error."""
        by_source: dict[str, list[str]] = {}
        for source, delivery_id in done:
            by_source.setdefault(source, []).append(delivery_id)
        for source, ids in by_source.items():
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                self.execute(f"UPDATE raw_events SET normalised = TRUE, error = NULL WHERE source = ? "
                             f"AND delivery_id IN ({marks(chunk)})", [source, *chunk])
        for source, delivery_id, message in failed:
            self.execute("UPDATE raw_events SET normalised = TRUE, error = ? WHERE source = ? AND delivery_id = ?",
                         [message[:1000], source, delivery_id])

    def requeue_raw_events(self, keys: Sequence[tuple[str, str]]) -> None:
        """Put raw events back in the normaliser's queue, their errors cleared."""
        for source, delivery_id in keys:
            self.execute("UPDATE raw_events SET normalised = FALSE, error = NULL WHERE source = ? AND delivery_id = ?",
                         [source, delivery_id])

    def delete_links_of(self, services: Sequence[str]) -> None:
        """The commit links of these services (to be written again by a relink of just them)."""
        services = sorted(set(services))
        for start in range(0, len(services), 1000):
            chunk = services[start:start + 1000]
            self.execute(f"DELETE FROM deployment_changes WHERE service IN ({marks(chunk)})", chunk)

    def replace_all(self, table: str, data: pa.Table | dict[str, list]) -> None:
        """Rewrite a derived table whole. Dropping and re-creating it (transactional DDL on both
        engines) is several times faster than deleting every row and re-inserting."""
        self.execute(f"DROP TABLE {table}")
        self.execute(create_table_sql(table))
        self.insert(table, data)
        for _name, sql in self.engine.extra_indexes.get(table, ()):
            self.execute(sql)

    def insert(self, table: str, data: pa.Table | dict[str, list]) -> int:
        """Insert rows; rows whose primary key already exists are kept as they were."""
        import pyarrow as pa  # here, not at the top: a result kept in the store is read without pyarrow
        import pyarrow.compute as pc

        if isinstance(data, dict):
            # Columns a caller does not know about (added by later versions) are stored as NULL.
            rows = len(next(iter(data.values()), []))
            schema = arrow_schema(table)
            data = pa.Table.from_arrays(
                [storable_strings(data.get(f.name, [None] * rows), f.type) if f.type == pa.string()
                 else pa.array(data.get(f.name, [None] * rows), type=f.type) for f in schema], schema=schema)
        else:
            data = pa.Table.from_arrays([without_nul(c) if c.type == pa.string() else c for c in data.columns],
                                        schema=data.schema)
        if data.num_rows == 0:
            return 0
        columns, pk = TABLES[table]
        for name in NORMALISED.get(table, ()):
            i = data.schema.get_field_index(name)
            if i >= 0:
                data = data.set_column(i, name, pc.utf8_lower(data.column(i)))
        if table == "changes":
            rules = rework_rule_arrow(data.column("subject"))
            i = data.schema.get_field_index("rework_rule")
            data = data.set_column(i, "rework_rule", rules) if i >= 0 else data.append_column("rework_rule", rules)
        pk = () if table in DERIVED else pk
        self.changed = True
        self.engine.insert_arrow(table, data, ", ".join(c for c, _ in columns), pk, _DERIVE.get(table))
        self.written[table] = self.written.get(table, 0) + data.num_rows
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
            new |= {tuple(r) for r in self.engine.returning(sql, [value for row in chunk for value in row])}
        self.changed = self.changed or bool(new)
        return new
