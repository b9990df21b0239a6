"""Ingestion: sources -> store, one transaction each, then relinking.

The library entry points behind `fireline ingest ...`; the CLI only parses arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import linking, normalise
from .columns import ChangeColumns, raw_columns, record_columns
from .config import Config
from .errors import UserError
from .model import Deployment, FeatureFlag
from .sources import deployments as deployment_source
from .sources import git
from .sources import incidents as incident_source
from .store import Store, Writer, pending_raw_event

Progress = Callable[[int, int], None]  # (done, total)
BATCH_COMMITS = 20_000


@dataclass
class IngestResult:
    source: str
    kind: str  # git, deployments, incidents or alerts
    new_changes: int = 0
    new_deployments: int = 0
    new_incidents: int = 0
    new_alerts: int = 0
    new_flags: int = 0
    skipped: int = 0
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)
    unresolved_deployments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _services_for_repo(config: Config, info: git.RepoInfo, service: str | None,
                       deploy_tags: str | None) -> list[dict]:
    configured = config.services_in_repo(info.path)
    if service:
        svc = configured.get(service)
        return [{"name": service, "paths": svc.paths if svc else [],
                 "deploy_tags": deploy_tags or (svc.deploy_tags if svc else None) or config.deploy_tags}]
    if configured:
        return [{"name": n, "paths": s.paths, "deploy_tags": (deploy_tags if len(configured) == 1 else None)
                 or s.deploy_tags or config.deploy_tags}
                for n, s in configured.items()]
    return [{"name": info.name, "paths": [], "deploy_tags": deploy_tags or config.deploy_tags}]


def ingest_git(store: Store, config: Config, path: str | Path, *, service: str | None = None,
               deploy_tags: str | None = None, progress: Progress | None = None) -> IngestResult:
    info = git.open_repo(path)
    result = IngestResult(source=str(info.path), kind="git")
    if info.shallow:
        result.warnings.append(f"{info.path}: shallow clone: history is truncated, so lead times "
                               "of the oldest commits may be too short")
    tips = git.list_tips(info.path)
    services = _services_for_repo(config, info, service, deploy_tags)
    state = store.repo_state(info.name)
    if state and Path(state.path) != info.path:
        raise UserError(f"a different repository named {info.name!r} is already in the store "
                        f"({state.path})", where=str(info.path))
    previous_services = store.repo_services().get(info.name)
    if state and state.tips == tips and previous_services == services:
        result.unchanged = True
        return result

    exclude = git.existing_commits(info.path, set(state.tips.values())) if state else []
    # Commits first seen in webhooks carry inferred parents: the git pass replaces them.
    known = store.known_shas(info.name, origin="git") if state else set()
    inferred = store.known_shas(info.name) - known
    # Counting costs a second walk of the history: only worth it for a progress bar.
    total = git.count_commits(info.path, set(tips.values()), exclude) if progress else 0
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)

    tag_deployments = _tag_deployments(info, services)
    # One transaction for the whole pass (all or nothing), written in batches so memory
    # stays flat however long the history is.
    with store.transaction() as tx:
        columns = ChangeColumns()
        for change in git.iter_changes(info, set(tips.values()), exclude, on_commit=tick):
            if change.sha in known:
                continue
            columns.add(change)
            if len(columns) >= BATCH_COMMITS:
                result.new_changes += _flush_replacing(tx, info.name, columns, inferred)
        result.new_changes += _flush_replacing(tx, info.name, columns, inferred)
        if progress:
            progress(total, total)
        result.new_deployments = _insert_deployments(store, tx, tag_deployments)
        tx.put_repo(info.name, str(info.path), tips, services, info.shallow)
        links = linking.relink(store, tx, config.production_environments)
    result.unresolved_deployments = links.unresolved_deployments
    return result


def _flush_replacing(tx: Writer, repo: str, columns: ChangeColumns, inferred: set[str]) -> int:
    tx.delete_commits(repo, [sha for sha in columns.changes["sha"] if sha in inferred])
    return columns.flush(tx)


def _tag_deployments(info: git.RepoInfo, services: list[dict]) -> list[Deployment]:
    found = []
    for svc in services:
        pattern = svc.get("deploy_tags")
        if not pattern:
            continue
        for tag in git.list_tags(info, pattern):
            found.append(Deployment(
                id=f"tag:{info.name}:{tag.name}" + ("" if len(services) == 1 else f":{svc['name']}"),
                service=svc["name"], environment="production", sha=tag.sha, time=tag.time,
                status="success", source="tag", ref=tag.name, repo=info.name,
            ))
    return found


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
        links = linking.relink(store, tx, config.production_environments) if kind == "deployments" else None
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
        linking.relink(store, tx, config.production_environments)
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

    Tag deployments come from git, not raw events; they are kept as they are. An event that
    today's parsers refuse is marked failed with its error (`fireline events failed`) and
    the rest are rebuilt.
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
        links = linking.relink(store, tx, config.production_environments)
    return {"deployments": len(grouped.get("deployments", [])), "incidents": len(grouped.get("incidents", [])),
            "feature_flags": len(grouped.get("feature_flags", [])),
            "webhook_events": webhook_events,
            "deployment_changes": links.deployment_changes, "incident_links": links.incident_links,
            "failed": len(normalise.failed_events(store))}


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
