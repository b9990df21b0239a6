"""A finished report kept in the store (store/report_cache.py), so `fireline report` over unchanged data
writes the page it wrote last time instead of computing every part again (issue 16: a warm report at
most 0.1x the ingestion).

The page is reused only when everything it was made from is the same:
- the request: the report's options (team, service, window, profile, today, "now", title), the whole
  config and Fireline's own code (its version and every source file's size and time);
- the state: the store's data (store/report_cache.data_state) and the HEAD of every repository's
  working copy (the debt part reads its markers at HEAD, not from the store).
Checking costs a few queries and one `git rev-parse` per repository; the parts, their queries through
Ibis (and pandas) and Altair are not even imported.

A report as of the clock (no --at, no config `at`) has a new "now" every run, so it is never reused.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from ...config import Config
from ...steps import Steps, quietly
from ...store import Store, report_cache
from .context import Context

FORMAT = 1  # bump when what is kept changes shape


@cache
def code_fingerprint() -> str:
    """Fireline's version and the size and time of every one of its source files: a checkout that changed
    (an upgrade, a fix in progress) never reuses a page the older code made."""
    from ... import __version__

    root = Path(__file__).resolve().parents[2]
    files = sorted(root.rglob("*.py"))
    digest = hashlib.sha256(__version__.encode())
    for path in files:
        st = path.stat()
        digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def request_key(config: Config, options: dict[str, Any]) -> str:
    """The report's options (team, service, window, profile, today, now, title: as given, so this is
    known before the store is read through Ibis), the whole config and Fireline's code."""
    parts = {"format": FORMAT, "code": code_fingerprint(), "config": config.model_dump_json(), **options}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def state_of(store: Store, config: Config) -> tuple[str, str] | None:
    """The state a page is made at: the store's data and the HEAD of every repository's working copy
    (the debt part reads its markers at HEAD); None when it cannot be told (a read-only engine), and
    then nothing is kept."""
    from ...debt.markers import head_of
    from ...debt.report import working_copy

    if store.read_only:
        return None
    report_cache.prepare(store)
    heads = []
    for repo, stored, held in report_cache.repos(store):
        path = working_copy(config, stored, held)
        heads.append([repo, str(path) if path else None, head_of(path) if path else None])
    data = report_cache.data_state(store)
    return None if data is None else (data, json.dumps(sorted(heads)))


def after_scans(store: Store, config: Config, state: tuple[str, str]) -> tuple[str, str] | None:
    """The state again after the marker scans: only PostgreSQL's generation counts their writes (the
    DuckDB data state leaves the scan cache out, and hashing every table twice would be wasted)."""
    return state_of(store, config) if state[0].startswith("generation:") else state


SCAN_STEP = "marker scans"


def scan_markers(ctx: Context, steps: Steps | None = None) -> None:
    """Scan the working copies the debt part reads now, keeping the scans in ctx.scans for its ledger.
    `steps` hears SCAN_STEP start and end, and inside it each repository's reading and blaming of files."""
    from ...debt import report

    steps = steps or quietly
    steps(SCAN_STEP, 0, 1)

    if ctx.scans is None:
        ctx.scans = report.ScanCache()
    teams, services = ([ctx.team] if ctx.team else None), ([ctx.service] if ctx.service else None)
    # The ledger's own choice (debt_part._asked, debt.report._services_of), so it finds every scan here.
    wanted = report._services_of(ctx.config, ctx.team_of, teams, services)
    report.scan_repos(ctx.store, ctx.config, cache=ctx.scans, services=wanted, steps=steps)
    steps(SCAN_STEP, 1, 1)


def load(store: Store, request: str, state: tuple[str, str]) -> dict[str, Any] | None:
    text = report_cache.get(store, request, *state)
    if text is None:
        return None
    try:
        found = json.loads(text)
        return found if found.get("format") == FORMAT else None
    except ValueError:
        return None


def keep(store: Store, request: str, state: tuple[str, str], html: str, sections: list[str], charts: list[str], *,
         parts: int) -> None:
    """`parts`: how many parts were computed (what a reused page reports as its progress)."""
    report_cache.put(store, request, *state, json.dumps({"format": FORMAT, "html": html, "sections": sections,
                                                        "charts": charts, "parts": parts}))
