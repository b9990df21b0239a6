"""The debt ledger and the bug budget as `fireline debt`, `fireline budget` and the HTML report
all build them: which repositories to scan, the scan, and the ledger and budget over a store.

The one place that reads git beside the store: the marker scan needs a working copy, found at
the path the repository was ingested from or, when that is gone (a PostgreSQL store filled on
another machine), at the `repo` path the config gives its services.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..metrics.budget import BudgetReport, budget_report
from ..metrics.knowledge import alias_map
from ..postmortems import settings as postmortem_settings
from ..store import Store
from . import settings
from .ledger import build_ledger
from .markers import ScanResult, scan_repo


def working_copy(config: Config, stored: str | None, services: Iterable[dict]) -> Path | None:
    """Where a repository's files are: its ingested path, else the config's path for one of its services."""
    candidates = [Path(stored)] if stored else []
    for entry in services:
        path = config.repo_path(str(entry.get("name", "")))
        if path is not None:
            candidates.append(path)
    return next((p for p in candidates if p.is_dir()), None)


def scan_repos(store: Store, config: Config, conf: settings.BudgetSettings | None = None
               ) -> tuple[list[ScanResult], list[str]]:
    """Every ingested repository's markers, and a note for each one whose files cannot be found."""
    conf = conf or settings.of(config)
    scans, notes = [], []
    for repo, stored, services in store.query("SELECT repo, path, services FROM repos ORDER BY repo"):
        path = working_copy(config, stored, json.loads(services or "[]"))
        if path is None:
            notes.append(f"{repo}: {stored} is gone; its markers were not scanned")
            continue
        scans.append(scan_repo(path, repo=repo, words=conf.markers, max_bytes=conf.max_bytes))
    return scans, notes


def ledger(store: Store, config: Config, *, now: datetime, since: datetime, team_of: Mapping[str, str],
           teams: Iterable[str] | None = None, services: Iterable[str] | None = None) -> dict[str, Any]:
    """The ledger of `fireline debt --json`: items as of `now`, totals at each month's end from `since`."""
    conf = settings.of(config)
    scans, notes = scan_repos(store, config, conf)
    result = build_ledger(store.tables(), scans, now=now, since=since, team_of=team_of,
                          aliases=alias_map(config.people), heads={s.repo: s.head for s in scans},
                          teams=teams, services=services, tz=config.timezone, hotspots=conf.hotspots,
                          repeat_window_days=postmortem_settings.of(config).repeat_window_days)
    result["notes"] = notes + result["notes"]
    return result


def budget(tables: Mapping[str, Any], config: Config, since: datetime, until: datetime, *,
           team_of: Mapping[str, str], teams: Iterable[str] | None = None, weight: str | None = None
           ) -> BudgetReport:
    """The bug budget of `fireline budget`: fix share per team against `[budget]`."""
    conf = settings.of(config)
    return budget_report(tables, since, until, budget_of=conf.teams, default_budget=conf.default,
                         team_of=team_of, teams=teams, weight=weight or conf.weight, tolerance=conf.tolerance,
                         time_basis=config.time_basis, tz=config.timezone)
