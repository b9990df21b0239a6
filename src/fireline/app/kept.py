"""Finished results kept in the store (store/report_cache.py), so a command run again over unchanged data
answers what it answered last time instead of computing it again (issue 16: a warm `fireline report` at
most 0.1x the ingestion, a warm `fireline debt` at most 0.05x). Used by `fireline report` (its page:
app/report/kept.py) and `fireline debt` (the ledger: app/planning.py).

A result is reused only when everything it was made from is the same:
- the request: its kind ("report", "debt"), the options as given (team, service, window, "now" ...),
  the whole config and Fireline's own code (its version and every source file's size and time);
- the state: the store's data (store/state.data_state) and the HEAD of every repository's
  working copy (the debt ledger reads its markers at HEAD, not from the store).
Checking costs a few queries and one `git rev-parse` per repository; nothing is read through Ibis.

"now" is part of every request: a result as of the clock (no --at, no config `at`) has a new "now" every
run, so it is never reused (and a caller need not keep it at all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..steps import Steps
from ..store import Store, report_cache
from ..store.state import data_state

if TYPE_CHECKING:
    from ..debt.report import ScanCache

FORMAT = 2  # bump when what is kept changes shape (2: requests are named by kind)


@cache
def code_fingerprint() -> str:
    """Fireline's version and the size and time of every one of its files (sources, templates, assets): a
    checkout that changed (an upgrade, a fix in progress) never reuses a result or page the older code made."""
    from .. import __version__

    root = Path(__file__).resolve().parents[1]
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256(__version__.encode())
    for path in files:
        st = path.stat()
        digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def request_key(kind: str, config: Config, options: dict[str, Any]) -> str:
    """`kind` and its options (as given, so this is known before the store is read through Ibis), the whole
    config and Fireline's code."""
    parts = {"format": FORMAT, "code": code_fingerprint(), "config": config.model_dump_json(), **options}
    return report_cache.named(kind, hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
                              .hexdigest())


def state_of(store: Store, config: Config) -> tuple[str, str] | None:
    """The state a result is made at: the store's data and the HEAD of every repository's working copy
    (the debt ledger reads its markers at HEAD); None when it cannot be told (a read-only engine), and
    then nothing is kept."""
    from ..debt.markers import head_of, working_copy

    if store.read_only:
        return None
    report_cache.prepare(store)
    heads = []
    for repo, stored, held in report_cache.repos(store):
        path = working_copy(config, stored, held)
        heads.append([repo, str(path) if path else None, head_of(path) if path else None])
    data = data_state(store)
    return None if data is None else (data, json.dumps(sorted(heads)))


def after_scans(store: Store, config: Config, state: tuple[str, str]) -> tuple[str, str] | None:
    """The state again after the marker scans: only a generation kept in the store (PostgreSQL's) counts
    their writes (the DuckDB data state leaves the scan cache out, and hashing every table twice would be
    wasted)."""
    return state_of(store, config) if store.engine.generation_ddl else state


def scan_first(store: Store, config: Config, *, team_of: Mapping[str, str], team: str | None,
               service: str | None, cache: ScanCache | None = None, steps: Steps | None = None) -> ScanCache:
    """The marker scans of the repositories a debt ledger for `team`/`service` reads, made before the state
    is read again (`after_scans`) and before the ledger reads the data, so the state a result is kept
    at is never newer than what it was made from. The ledger finds them in `cache` (a new one when none
    is given), which is returned."""
    from ..debt import report

    cache = cache if cache is not None else report.ScanCache()
    wanted = report._services_of(config, team_of, [team] if team else None, [service] if service else None)
    report.scan_repos(store, config, cache=cache, services=wanted, steps=steps)
    return cache


def load(store: Store, request: str, state: tuple[str, str]) -> dict[str, Any] | None:
    """What `keep` kept for `request` at `state`, else None."""
    text = report_cache.get(store, request, *state)
    if text is None:
        return None
    try:
        found = json.loads(text, object_hook=_decode)
        return found if found.get("format") == FORMAT else None
    except ValueError:
        return None


def keep(store: Store, request: str, state: tuple[str, str], result: dict[str, Any]) -> None:
    """Keep `result` (JSON, with datetimes and dates, which come back as they were)."""
    report_cache.put(store, request, *state, json.dumps({"format": FORMAT, **result}, default=_encode))


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> object:
    if len(obj) == 1:
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
    return obj
