"""`fireline ingest postmortems PATH`: lint, then replace the stored rows of the files read, in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import UserError
from ..store import Store
from ..views.findings import render_text
from . import settings
from .lint import display, lint_paths


@dataclass
class PostmortemIngest:
    source: str
    files: int = 0
    postmortems: int = 0
    action_items: int = 0
    replaced: int = 0  # postmortems that were already stored (same file or same id)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def store_incident_ids(store: Store) -> set[str] | None:
    """The store's incident ids, or None when it holds none (then references cannot be checked)."""
    return store.incident_ids() or None


def ingest_postmortems(store: Store, cfg: Config, paths: list[Path], root: Path | None = None) -> PostmortemIngest:
    for path in paths:
        if not path.exists():
            raise UserError("no such file or folder", where=str(path))
    result = lint_paths(paths, cfg, store_incident_ids(store), root)
    if result.errors:
        raise UserError("refusing to ingest: fix these lint errors first (nothing was written)\n"
                        + render_text(result.errors).rstrip("\n"))
    out = PostmortemIngest(source=", ".join(str(p) for p in paths), files=len(result.docs))
    out.warnings = [f"{f.file}:{f.line}: {f.check_id}: {f.message}" for f in result.findings]
    pm: dict[str, list] = {k: [] for k in ("id", "file", "title", "date", "severity", "services", "incidents",
                                           "detected_by", "impact_start", "impact_end", "status", "authors", "tags")}
    ai: dict[str, list] = {k: [] for k in ("postmortem_id", "position", "owner", "team", "what", "due", "term",
                                           "dora_metric", "status", "done_on", "ticket", "file", "line")}
    for doc in result.docs:
        name = display(doc.path, root)
        values: dict[str, Any] = {
                  "id": doc.id, "file": name, "title": doc.title, "date": doc.date, "severity": doc.severity,
                  "services": json.dumps(doc.services), "incidents": json.dumps(doc.incidents),
                  "detected_by": doc.detected_by, "impact_start": doc.impact_start, "impact_end": doc.impact_end,
                  "status": doc.status, "authors": json.dumps(doc.authors), "tags": json.dumps(doc.tags)}
        for key, value in values.items():
            pm[key].append(value)
        for item in doc.action_items:
            values = {"postmortem_id": doc.id, "position": item.position, "owner": item.owner,
                      "team": settings.team_of_owner(cfg, item.owner), "what": item.what, "due": item.due,
                      "term": item.term, "dora_metric": item.dora_metric, "status": item.status,
                      "done_on": item.done_on, "ticket": item.ticket, "file": name, "line": item.line}
            for key, value in values.items():
                ai[key].append(value)
    files, ids = sorted(set(pm["file"])), sorted(set(pm["id"]))
    if not ids:
        return out
    out.replaced = store.postmortems_from(files, ids)
    with store.transaction() as tx:
        tx.delete_postmortems(files, ids)
        out.postmortems = tx.insert("postmortems", pm)
        out.action_items = tx.insert("action_items", ai)
    return out


def default_paths(cfg: Config) -> list[Path]:
    return [settings.folder(cfg)]
