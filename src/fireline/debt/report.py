"""The debt ledger and the bug budget as `fireline debt`, `fireline budget` and the HTML report
all build them: which repositories to scan, the scan, and the ledger and budget over a store.

The one place that reads git beside the store: the marker scan needs a working copy, found at
the path the repository was ingested from or, when that is gone (a PostgreSQL store filled on
another machine), at the `repo` path the config gives its services.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..identity import People
from ..metrics.budget import BudgetParams, BudgetReport, budget_report
from ..metrics.knowledge_history import History
from ..metrics.scope import Scope
from ..metrics.testing import params_of
from ..postmortems import settings as postmortem_settings
from ..steps import Steps
from ..store import Store
from . import scan_cache, settings
from .ledger import build_ledger
from .markers import ScanResult, head_of, scan_repo, working_copy

PARALLEL_SCANS = 4  # repositories scanned at once by `scan_repos(parallel=True)`


class ScanCache:
    """Marker scans reused while a repository's HEAD has not moved: kept in memory for the life of a
    long-running process (the dashboard), and in the store (scan_cache.py) between commands, where a
    scan at an older HEAD also serves the next one: only the files changed since are read and blamed.

    The scan reads only the files at HEAD and their history, so (repository, working copy, HEAD,
    marker words, size limit, generated globs) gives the same markers. One entry per working copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scans: dict[tuple[str, str], tuple[tuple, ScanResult]] = {}
        self.scans = 0  # how many times git was actually read: what the cache saves is visible

    def scan(self, path: Path, *, repo: str, words: list[str], max_bytes: int,
             generated: list[str] | None = None, store: Store | None = None) -> ScanResult:
        return self.scan_reporting(path, repo=repo, words=words, max_bytes=max_bytes, generated=generated,
                                   store=store)

    def scan_reporting(self, path: Path, *, repo: str, words: list[str], max_bytes: int,
                       generated: list[str] | None = None, store: Store | None = None,
                       steps: Steps | None = None) -> ScanResult:
        """`scan`, telling `steps` how the marker scan goes (subclasses override `scan` alone)."""
        where = (repo, str(path))
        settings_key = scan_cache.settings_key(words, max_bytes, generated)
        key = (head_of(path), settings_key)
        with self._lock:
            kept = self._scans.get(where)
        if kept is not None and kept[0] == key:
            return kept[1]
        previous = kept[1] if kept is not None and kept[0][1] == settings_key else None
        if store is not None and store.read_only:
            store = None  # Spark or a warehouse: nothing is kept there, scans live for this process only
        if previous is None and store is not None:
            stored = store.scan_cache(repo, str(path))
            if stored is not None and stored[0] == settings_key:
                previous = scan_cache.load(stored[1])
        if previous is not None and previous.head == key[0] and key[0] is not None:
            result = previous
        else:
            result = scan_repo(path, repo=repo, words=words, max_bytes=max_bytes, generated=generated or (),
                               previous=previous, steps=steps)
            with self._lock:
                self.scans += 1
            if store is not None:
                _keep(store, repo, str(path), settings_key, result)
        with self._lock:
            # Keyed on the HEAD the scan itself saw, in case a commit landed between the two reads.
            self._scans[where] = ((result.head, settings_key), result)
        return result


def _keep(store: Store, repo: str, path: str, settings_key: str, result: ScanResult) -> None:
    """Store the scan for the next command; a store that cannot take it (read-only) only loses the cache."""
    try:
        with store.transaction() as tx:
            tx.put_scan_cache(repo, path, settings_key, result.head, scan_cache.dump(result))
    except Exception as exc:  # a cache write must never fail the ledger
        logging.getLogger(__name__).warning("marker scan of %s not kept: %s", repo, exc)


def scan_repos(store: Store, config: Config, conf: settings.BudgetSettings | None = None, *,
               cache: ScanCache | None = None, services: Iterable[str] | None = None,
               steps: Steps | None = None, parallel: bool = False) -> tuple[list[ScanResult], list[str]]:
    """Every ingested repository's markers (only those holding one of `services`, when given), and a note
    for each one whose files cannot be found. A repository whose HEAD has not moved since its last scan
    (in `cache`, or kept in the store) is not read again.

    `parallel`: the repositories at once, each in a thread with a connection of its own (a server's
    prefetch: the scans are mostly waiting for git, and the longest repository sets the time, not the sum)."""
    conf = conf or settings.of(config)
    cache = cache or ScanCache()
    scans, notes = [], []
    wanted = set(services) if services is not None else None
    found = []
    for repo, stored, held in store.repos():
        if wanted is not None and not wanted & {s.get("name") for s in held}:
            continue  # another team's repository: nothing of it can reach this ledger
        path = working_copy(config, stored, held)
        if path is None:
            notes.append(f"{repo}: {stored} is gone; its markers were not scanned")
            continue
        found.append((repo, path))
    if parallel and steps is None and len(found) > 1:
        return _in_parallel(store, conf, cache, found), notes
    for repo, path in found:
        if steps is None:
            scans.append(cache.scan(path, repo=repo, words=conf.markers, max_bytes=conf.max_bytes,
                                    generated=conf.generated, store=store))
        else:
            scans.append(cache.scan_reporting(path, repo=repo, words=conf.markers, max_bytes=conf.max_bytes,
                                              generated=conf.generated, store=store,
                                              steps=_named(steps, repo, len(found))))
    return scans, notes


def _in_parallel(store: Store, conf: settings.BudgetSettings, cache: ScanCache,
                 found: list[tuple[str, Path]]) -> list[ScanResult]:
    """`found`'s scans, each repository in a thread with a connection of its own (the store's cached scans are
    read and written there); one after the other in this thread when the store has no second connection."""
    def scan(repo: str, path: Path, own: Store) -> ScanResult:
        return cache.scan(path, repo=repo, words=conf.markers, max_bytes=conf.max_bytes, generated=conf.generated,
                          store=own)

    own: list[Store] = []
    try:
        try:
            own += [store.sibling() for _ in found]
        except Exception:
            logging.getLogger(__name__).debug("no connection per repository; scanning one after the other",
                                              exc_info=True)
            return [scan(repo, path, store) for repo, path in found]
        with ThreadPoolExecutor(min(len(found), PARALLEL_SCANS),
                                thread_name_prefix=threading.current_thread().name + "-scan") as pool:
            return list(pool.map(lambda args: scan(*args), [(*f, o) for f, o in zip(found, own, strict=True)]))
    finally:
        for connection in own:
            connection.close()


def _named(steps: Steps | None, repo: str, repos: int) -> Steps | None:
    """Each repository's steps under its name, when there are several."""
    if steps is None or repos < 2:
        return steps
    inner = steps
    return lambda label, done, total: inner(f"{repo}: {label}", done, total)


def ledger(store: Store, config: Config, *, now: datetime, since: datetime, team_of: Mapping[str, str],
           teams: Iterable[str] | None = None, services: Iterable[str] | None = None,
           cache: ScanCache | None = None, histories: Mapping[str, History] | None = None,
           steps: Steps | None = None, tables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ledger of `fireline debt --json`: items as of `now`, totals at each month's end from `since`.
    `cache`: marker scans to reuse (see ScanCache); `histories`: see build_ledger; `steps`: told how the
    marker scan goes (fireline.steps); `tables`: the store's tables when the caller has them (a report's)."""
    conf = settings.of(config)
    wanted = _services_of(config, team_of, teams, services)
    scans, notes = scan_repos(store, config, conf, cache=cache, services=wanted, steps=steps)
    result = build_ledger(store.tables() if tables is None else tables, scans, now=now, since=since, team_of=team_of,
                          people=People.from_config(config), heads={s.repo: s.head for s in scans},
                          teams=teams, services=services, tz=config.timezone, hotspots=conf.hotspots,
                          repeat_window_days=postmortem_settings.of(config).repeat_window_days,
                          histories=histories)
    result["notes"] = notes + result["notes"]
    return result


def _services_of(config: Config, team_of: Mapping[str, str], teams: Iterable[str] | None,
                 services: Iterable[str] | None) -> set[str] | None:
    """The services a ledger is asked about (None: all)."""
    if services is not None:
        return set(services)
    if teams is None:
        return None
    wanted = set(teams)
    return {s for s, t in team_of.items() if t in wanted} | {s for t in wanted for s in config.services_of_team(t)}


def budget(tables: Mapping[str, Any], config: Config, scope: Scope, *, team_of: Mapping[str, str],
           teams: Iterable[str] | None = None, weight: str | None = None) -> BudgetReport:
    """The bug budget of `fireline budget`: fix share per team against `[budget]`."""
    conf = settings.of(config)
    params = BudgetParams(budget_of=conf.teams, default_budget=conf.default, weight=weight or conf.weight,
                          tolerance=conf.tolerance, testing=params_of(config.testing))
    return budget_report(tables, scope, params, team_of=team_of, teams=teams, tz=config.timezone,
                         people=People.from_config(config))
