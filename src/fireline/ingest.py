"""Ingestion: sources -> store, one transaction each, then relinking.

The library entry points behind `fireline ingest ...`; the CLI only parses arguments.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import gitpass, linking, normalise
from .columns import raw_columns, record_columns
from .config import Config
from .errors import UserError
from .gitpass import IngestResult, Patterns, Progress
from .model import Deployment, FeatureFlag
from .sources import deployments as deployment_source
from .sources import git
from .sources import incidents as incident_source
from .store import Store, Writer, pending_raw_event

__all__ = ["BATCH_COMMITS", "IngestResult", "Patterns", "Progress", "RepoOutcome", "ingest_git", "ingest_paths",
           "ingest_repos", "rebuild", "retag"]

BATCH_COMMITS = 20_000


def ingest_git(store: Store, config: Config, path: str | Path, *, service: str | None = None,
               deploy_tags: Patterns | None = None, progress: Progress | None = None) -> IngestResult:
    plan = gitpass.plan_repo(store, config, path, service=service, deploy_tags=deploy_tags)
    if plan.result.unchanged:
        return plan.result
    deployments = gitpass.tag_deployments(plan.info, plan.services)
    # One transaction for the whole pass (all or nothing), written in batches so memory
    # stays flat however long the history is.
    with store.transaction() as tx:
        for columns in gitpass.iter_batches(plan, BATCH_COMMITS, progress):
            gitpass.write_batch(tx, plan, columns)
        gitpass.finish_repo(store, tx, plan, deployments)
        links = linking.relink(store, tx, config.production_environments, repos=[plan.info.name])
    plan.result.unresolved_deployments = links.unresolved_deployments
    return plan.result


@dataclass
class RepoOutcome:
    """One repository's ingest: its result, or the error that kept it out of the store."""

    name: str
    path: str
    result: IngestResult | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return {"repo": self.name, "path": self.path,
                **(self.result.as_dict() if self.result else {"error": self.error})}


def require_repos(config: Config) -> None:
    if not config.repos:
        raise UserError("no repository given and none configured: give a PATH, or name repositories in "
                        "fireline.toml ([repos.<name>] path = \"...\")", field="path")


def default_jobs(repositories: int) -> int:
    return max(1, min(os.cpu_count() or 1, repositories))


def ingest_repos(store: Store, config: Config, *, deploy_tags: Patterns | None = None,
                 progress: Callable[[str], Progress | None] | None = None,
                 on_done: Callable[[RepoOutcome], None] | None = None, jobs: int | None = None) -> list[RepoOutcome]:
    """Every `[repos.<name>]` of the config (`ingest_paths`); errors are named `repos.<name>: ...`."""
    require_repos(config)
    entries = [(f"repos.{name}", name, config.repo_dir(name)) for name in config.repos]
    return _ingest_many(store, config, entries, deploy_tags, progress, on_done, jobs)


def ingest_paths(store: Store, config: Config, paths: Sequence[str | Path], *, deploy_tags: Patterns | None = None,
                 progress: Callable[[str], Progress | None] | None = None,
                 on_done: Callable[[RepoOutcome], None] | None = None, jobs: int | None = None) -> list[RepoOutcome]:
    """Many repositories: git read and parsed in `jobs` worker processes (default: one per CPU, at most
    one per repository), written by this process in one transaction, then linked once, only for the
    services whose data changed. A repository that cannot be read is reported in its outcome (with its
    path) and the others are written. `progress(name)` gives each one's commit progress callback, called
    in this process; `on_done` hears of each as it is read (or fails)."""
    entries = [(str(p), Path(p).name, Path(p).expanduser()) for p in paths]
    return _ingest_many(store, config, entries, deploy_tags, progress, on_done, jobs)


def _ingest_many(store: Store, config: Config, entries: list[tuple[str, str, Path]], deploy_tags: Patterns | None,
                 progress: Callable[[str], Progress | None] | None, on_done: Callable[[RepoOutcome], None] | None,
                 jobs: int | None) -> list[RepoOutcome]:
    outcomes = [RepoOutcome(name, str(where)) for _label, name, where in entries]
    plans: list[tuple[int, gitpass.RepoPlan]] = []
    seen: dict[str, str] = {}

    def fail(i: int, message: str) -> None:
        outcomes[i].error = message
        if on_done:
            on_done(outcomes[i])

    for i, (label, _name, where) in enumerate(entries):
        try:
            plan = gitpass.plan_repo(store, config, where, deploy_tags=deploy_tags)
        except UserError as exc:
            fail(i, f"{label}: {exc}" if label.startswith("repos.") else str(exc))
            continue
        outcomes[i].name, outcomes[i].result = plan.info.name, plan.result
        if plan.info.name in seen:
            fail(i, f"{where}: another repository named {plan.info.name!r} is in this run ({seen[plan.info.name]})")
            outcomes[i].result = None
            continue
        seen[plan.info.name] = str(where)
        if plan.result.unchanged:
            if on_done:
                on_done(outcomes[i])
        else:
            plans.append((i, plan))
    if not plans:
        return outcomes
    index = {id(plan): i for i, plan in plans}
    callbacks: dict[str, Progress | None] = {}

    def relay(name: str, done: int, total: int) -> None:
        if progress and name not in callbacks:
            callbacks[name] = progress(name)
        callback = callbacks.get(name)
        if callback:
            callback(done, total)

    workers = min(jobs or default_jobs(len(plans)), len(plans))
    written: list[gitpass.RepoPlan] = []
    with store.transaction() as tx:
        reads: Iterator[tuple[gitpass.RepoPlan, gitpass.RepoRead | None, str | None]]
        if workers <= 1:
            reads = (_read_here(plan, relay if progress else None) for _i, plan in plans)
        else:
            reads = gitpass.read_in_parallel([p for _i, p in plans], workers, BATCH_COMMITS,
                                             relay if progress else None)
        for plan, read, error in reads:  # each the writer's own plan, whichever process read it
            i = index[id(plan)]
            if read is None:
                outcomes[i].result = None
                message = str(error)
                fail(i, message if message.startswith(outcomes[i].path) else f"{outcomes[i].path}: {message}")
                continue
            for columns in read.batches:
                gitpass.write_batch(tx, plan, columns)
            gitpass.finish_repo(store, tx, plan, read.deployments)
            written.append(plan)
            if on_done:
                on_done(outcomes[i])
        if written:
            links = linking.relink(store, tx, config.production_environments, repos=[p.info.name for p in written])
            for plan in written:
                plan.result.unresolved_deployments = links.unresolved_deployments
    return outcomes


def _read_here(plan: gitpass.RepoPlan, progress: Callable[[str, int, int], None] | None
               ) -> tuple[gitpass.RepoPlan, gitpass.RepoRead | None, str | None]:
    name = plan.info.name
    try:
        batches = list(gitpass.iter_batches(plan, BATCH_COMMITS,
                                            (lambda d, t: progress(name, d, t)) if progress else None))
        return plan, gitpass.RepoRead(plan, batches, gitpass.tag_deployments(plan.info, plan.services)), None
    except UserError as exc:
        return plan, None, str(exc)


def retag(store: Store, tx: Writer, config: Config) -> tuple[int, int, list[str]]:
    """Re-derive every ingested repository's tag deployments with today's patterns (inside rebuild's
    transaction); returns (tag deployments, removed, repositories that could not be read)."""
    removed, unreadable = 0, []
    for repo, path, previous in store.repos():
        state = store.repo_state(repo)
        try:
            info = git.open_repo(path)
        except UserError:
            unreadable.append(f"{repo} ({path})")
            continue
        if state is None or info.name != repo:
            unreadable.append(f"{repo} ({path})")
            continue
        services = gitpass.services_for_repo(config, info, None, None, previous)
        removed += gitpass.replace_tag_deployments(store, tx, repo, gitpass.tag_deployments(info, services))[1]
        tx.put_repo(repo, state.path, state.tips, services, state.shallow)
    return sum(len(store.tag_deployments(repo)) for repo, _p, _s in store.repos()), removed, unreadable


def _insert_flags(store: Store, tx: Writer, flags: list[FeatureFlag]) -> int:
    before = store.count("feature_flags")
    tx.insert("feature_flags", record_columns("feature_flags", flags))
    return store.count("feature_flags") - before


def _insert_deployments(store: Store, tx: Writer, deployments: list[Deployment]) -> int:
    before = store.count("deployments")
    tx.insert("deployments", record_columns("deployments", deployments))
    return store.count("deployments") - before


def ingest_deployments(store: Store, config: Config, path: str | Path, *, service: str | None = None
                       ) -> IngestResult:
    path = Path(path)
    events = deployment_source.read_deployment_events(path, service=service, tz=config.timezone)
    return _ingest_deployment_file(store, config, path, events, "deployments")


def ingest_flags(store: Store, config: Config, path: str | Path, *, service: str | None = None) -> IngestResult:
    """Feature flag changes from a file (CSV, NDJSON or a JSON array); the same id twice is stored once."""
    path = Path(path)
    events = deployment_source.read_flag_events(path, service=service, tz=config.timezone)
    return _ingest_deployment_file(store, config, path, events, "flags")


def _ingest_deployment_file(store: Store, config: Config, path: Path, events: list, kind: str) -> IngestResult:
    """Raw events and the deployments and flag changes they stand for, in one transaction. Only new
    deployments change which commits shipped when, so a file of flag changes alone skips relinking."""
    result = IngestResult(source=str(path), kind=kind)
    with store.transaction() as tx:
        tx.insert("raw_events", raw_columns(events))
        records = [deployment_source.normalise(e.kind, json.loads(e.payload), where=str(path), tz=config.timezone)
                   for e in events]
        deployments = [r for r in records if isinstance(r, Deployment)]
        result.new_deployments = _insert_deployments(store, tx, deployments)
        result.new_flags = _insert_flags(store, tx, [r for r in records if isinstance(r, FeatureFlag)])
        result.skipped = len(records) - result.new_deployments - result.new_flags
        links = linking.relink(store, tx, config.production_environments,
                               services={d.service for d in deployments}) if kind == "deployments" else None
    if links is not None:
        result.unresolved_deployments = links.unresolved_deployments
    return result


def ingest_incidents(store: Store, config: Config, path: str | Path, *, service: str | None = None
                     ) -> IngestResult:
    path = Path(path)
    events, skipped = incident_source.read_incident_events(path, service=service, label=config.incident_label,
                                                          tz=config.timezone)
    result = IngestResult(source=str(path), kind="incidents", skipped=skipped)
    with store.transaction() as tx:
        tx.insert("raw_events", raw_columns(events))
        records = [incident_source.normalise(e.kind, json.loads(e.payload), where=str(path), tz=config.timezone)
                   for e in events]
        before = store.count("incidents")
        tx.insert("incidents", record_columns("incidents", records))
        result.new_incidents = store.count("incidents") - before
        result.skipped += len(records) - result.new_incidents
        # Incidents change no commit link: only the incident links are derived again.
        linking.relink(store, tx, config.production_environments, services=())
    return result


_NORMALISERS = {
    deployment_source.ROW_KIND: ("deployments", deployment_source.normalise),
    deployment_source.GITHUB_KIND: ("deployments", deployment_source.normalise),
    deployment_source.FLAG_KIND: ("feature_flags", deployment_source.normalise),
    incident_source.ROW_KIND: ("incidents", incident_source.normalise),
    incident_source.GITHUB_KIND: ("incidents", incident_source.normalise),
}


def rebuild(store: Store, config: Config) -> dict[str, int]:
    """Re-derive deployments and incidents from raw events, then relink.

    Tag deployments come from git, not raw events: they are read again from each ingested
    repository with today's patterns (a repository that is gone keeps its tag deployments). An
    event that today's parsers refuse is marked failed with its error (`fireline events failed`)
    and the rest are rebuilt.
    """
    rows = store.raw_events()
    grouped: dict[str, list] = {}
    derived: list[tuple[str, str]] = []
    failed: list[tuple[str, str, str]] = []
    for source, delivery_id, kind, payload in rows:
        if kind not in _NORMALISERS:
            continue
        table, normalise_record = _NORMALISERS[kind]
        where = f"raw event {source}/{delivery_id}"
        try:
            record = normalise_record(kind, json.loads(payload), where=where, tz=config.timezone)
        except Exception as exc:
            failed.append((source, delivery_id, normalise.describe(exc)))
            continue
        derived.append((source, delivery_id))
        grouped.setdefault(table, []).append(record)
    with store.transaction() as tx:
        tx.delete_derived_records()
        tx.insert("deployments", record_columns("deployments", grouped.get("deployments", [])))
        tx.insert("incidents", record_columns("incidents", grouped.get("incidents", [])))
        tx.insert("feature_flags", record_columns("feature_flags", grouped.get("feature_flags", [])))
        tx.mark_raw_events(derived, failed)
        webhook_events = normalise.rebuild_webhooks(store, tx, config)
        tags, tags_removed, unreadable = retag(store, tx, config)
        links = linking.relink(store, tx, config.production_environments)
    store.after_bulk_load()  # every table was rewritten: fresh planner statistics (PostgreSQL)
    return {"deployments": len(grouped.get("deployments", [])),
            "tag_deployments": tags, "tag_deployments_removed": tags_removed,
            **({"unreadable_repositories": len(unreadable)} if unreadable else {}),
            "incidents": len(grouped.get("incidents", [])),
            "feature_flags": len(grouped.get("feature_flags", [])),
            "webhook_events": webhook_events,
            "deployment_changes": links.deployment_changes, "incident_links": links.incident_links,
            "failed": len(normalise.failed_events(store))}


def ingest_webhook_events(store: Store, config: Config, events: list[tuple[str, str, str, dict]],
                          received_at: datetime | None = None) -> int:
    """Store (source, kind, delivery id, payload) webhook events raw, as the intake server would,
    and derive their records; returns how many were new (a delivery id seen before is skipped)."""
    when = received_at or datetime.now(UTC)
    rows = [pending_raw_event(source, delivery_id, kind, json.dumps(payload, sort_keys=True), when, None)
            for source, kind, delivery_id, payload in events]
    with store.transaction() as tx:
        new = len(tx.insert_values("raw_events", rows))
    while normalise.normalise_pending(store, config):
        pass
    return new


def ingest_alerts(store: Store, config: Config, path: str | Path) -> IngestResult:
    """Alert history from a file, stored as the raw Alertmanager events a webhook would have
    sent, so the same normaliser derives it and `fireline rebuild` re-derives it."""
    from .sources.alert_files import read_alert_events

    path = Path(path)
    result = IngestResult(source=str(path), kind="alerts")
    events = read_alert_events(path, tz=config.timezone)
    now = datetime.now(UTC)
    rows = []
    for delivery_id, alert in events:
        zero = "0001-01-01T00:00:00Z"
        item = {"status": alert.status, "fingerprint": alert.fingerprint,
                "labels": {**alert.labels, "alertname": alert.name,
                           **({"service": alert.service} if alert.service else {}),
                           **({"severity": alert.severity} if alert.severity else {})},
                "annotations": alert.annotations, "startsAt": alert.starts_at.isoformat(),
                "endsAt": alert.ends_at.isoformat() if alert.ends_at else zero}
        notification = {"version": "4", "status": alert.status, "receiver": "file", "alerts": [item]}
        rows.append(pending_raw_event("alertmanager", delivery_id, "notification",
                                      json.dumps(notification, sort_keys=True), now,
                                      json.dumps({"source-file": str(path)})))
    with store.transaction() as tx:
        result.new_alerts = len(tx.insert_values("raw_events", rows))
    result.skipped = len(rows) - result.new_alerts
    while normalise.normalise_pending(store, config):
        pass  # until every pending raw event (these and any older ones) is derived
    return result
