"""Records to the store's columns: one layout for the git pass, file ingests and the normaliser.

Column names come from the store's schema (`store.TABLES`), so a new column needs only the
schema and the record; times are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .model import Change, RawEvent
from .store import TABLES, Writer
from .window import as_utc


def offset_minutes(dt: datetime) -> int:
    offset = dt.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def record_columns(table: str, records: Iterable[Any]) -> dict[str, list]:
    """Columns of `table` from records with an attribute per column (Deployment, Incident, FeatureFlag)."""
    names = [name for name, _ in TABLES[table][0]]
    cols: dict[str, list] = {name: [] for name in names}
    for record in records:
        for name in names:
            value = getattr(record, name)
            cols[name].append(as_utc(value) if isinstance(value, datetime) else value)
    return cols


def raw_columns(events: list[RawEvent]) -> dict[str, list]:
    return {
        "source": [e.source for e in events], "delivery_id": [e.delivery_id for e in events],
        "kind": [e.kind for e in events], "payload": [e.payload for e in events],
        "received_at": [e.received_at for e in events],
        "headers": [None for _ in events], "normalised": [True for _ in events], "error": [None for _ in events],
    }


class ChangeColumns:
    """Column buffers, so a 100k-commit pass never holds 100k dicts."""

    def __init__(self, origin: str = "git") -> None:
        self.origin = origin
        self._reset()

    def __len__(self) -> int:
        return len(self.changes["sha"])

    def flush(self, tx: Writer) -> int:
        """Write what is buffered; returns how many commits that was."""
        n = len(self)
        if n:
            tx.insert("changes", self.changes)
            tx.insert("change_files", self.files)
            self._reset()
        return n

    def _reset(self) -> None:
        self.changes: dict[str, list] = {k: [] for k in (
            "repo", "sha", "parents", "author_name", "author_email", "author_time", "author_offset",
            "committer_name", "committer_email", "committer_time", "committer_offset", "subject",
            "message", "files_changed", "lines_added", "lines_removed", "origin")}
        self.files: dict[str, list] = {k: [] for k in ("repo", "sha", "path", "old_path", "added", "removed")}

    def add(self, c: Change) -> None:
        ch = self.changes
        ch["repo"].append(c.repo)
        ch["sha"].append(c.sha)
        ch["parents"].append(" ".join(c.parents))
        ch["author_name"].append(c.author_name)
        ch["author_email"].append(c.author_email)
        ch["author_time"].append(as_utc(c.author_time))
        ch["author_offset"].append(offset_minutes(c.author_time))
        ch["committer_name"].append(c.committer_name)
        ch["committer_email"].append(c.committer_email)
        ch["committer_time"].append(as_utc(c.committer_time))
        ch["committer_offset"].append(offset_minutes(c.committer_time))
        ch["subject"].append(c.subject)
        ch["message"].append(c.message)
        ch["files_changed"].append(len(c.files))
        ch["lines_added"].append(sum(f.added or 0 for f in c.files))
        ch["lines_removed"].append(sum(f.removed or 0 for f in c.files))
        ch["origin"].append(self.origin)
        fl = self.files
        for f in c.files:
            fl["repo"].append(c.repo)
            fl["sha"].append(c.sha)
            fl["path"].append(f.path)
            fl["old_path"].append(f.old_path)
            fl["added"].append(f.added)
            fl["removed"].append(f.removed)
