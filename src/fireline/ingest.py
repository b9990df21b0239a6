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
from .config import Config, tag_patterns
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
    # Tag deployments that no longer match the pattern (or became another's alias): re-derived away.
    removed_deployments: int = 0

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


Patterns = str | list[str] | tuple[str, ...]


def _services_for_repo(config: Config, info: git.RepoInfo, service: str | None, deploy_tags: Patterns | None,
                       previous: list[dict] | None = None) -> list[dict]:
    """The services a repository ships and each one's tag patterns.

    Patterns: the ones given now, else the service's in config, else its `[repos]` entry's, else the
    config's default, else those of the last ingest (so a scheduled re-run without the option keeps
    them). Services: the one given now, else those config names, else those of the last ingest.
    """
    given = tag_patterns(deploy_tags)
    entry = config.repo_entry(info.path)
    repo_tags = entry[1].deploy_tags if entry else None
    before = {s["name"]: s for s in previous or []}

    def patterns(name: str, own: list[str] | None, explicit: list[str] | None) -> list[str] | None:
        last = tag_patterns(before[name].get("deploy_tags")) if name in before else None
        return explicit or own or repo_tags or config.deploy_tags or last

    configured = config.services_in_repo(info.path)
    if service:
        svc = configured.get(service)
        return [{"name": service, "paths": svc.paths if svc else [],
                 "deploy_tags": patterns(service, svc.deploy_tags if svc else None, given)}]
    if configured:
        return [{"name": n, "paths": s.paths, "deploy_tags": patterns(n, s.deploy_tags,
                                                                      given if len(configured) == 1 else None)}
                for n, s in configured.items()]
    if before:
        return [{"name": n, "paths": s.get("paths") or [], "deploy_tags": patterns(n, None,
                                                                                   given if len(before) == 1 else None)}
                for n, s in before.items()]
    return [{"name": info.name, "paths": [], "deploy_tags": patterns(info.name, None, given)}]


def ingest_git(store: Store, config: Config, path: str | Path, *, service: str | None = None,
               deploy_tags: Patterns | None = None, progress: Progress | None = None) -> IngestResult:
    info = git.open_repo(path)
    result = IngestResult(source=str(info.path), kind="git")
    if info.shallow:
        result.warnings.append(f"{info.path}: shallow clone: history is truncated, so lead times "
                               "of the oldest commits may be too short")
    tips = git.list_tips(info.path)
    state = store.repo_state(info.name)
    if state and Path(state.path) != info.path:
        raise UserError(f"a different repository named {info.name!r} is already in the store "
                        f"({state.path})", where=str(info.path))
    previous_services = store.repo_services().get(info.name)
    services = _services_for_repo(config, info, service, deploy_tags, previous_services)
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
        result.new_deployments, result.removed_deployments = _replace_tag_deployments(
            store, tx, info.name, tag_deployments)
        tx.put_repo(info.name, str(info.path), tips, services, info.shallow)
        links = linking.relink(store, tx, config.production_environments)
    result.unresolved_deployments = links.unresolved_deployments
    return result


@dataclass
class RepoOutcome:
    """One configured repository's ingest: its result, or the error that left the store as it was."""

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


def ingest_repos(store: Store, config: Config, *, deploy_tags: Patterns | None = None,
                 progress: Callable[[str], Progress | None] | None = None,
                 on_done: Callable[[RepoOutcome], None] | None = None) -> list[RepoOutcome]:
    """Every `[repos.<name>]` of the config, in order, each in its own transaction (all or nothing):
    one that fails is reported and the others are read. `progress(name)` gives each one's commit
    progress callback; `on_done` hears of each as it finishes."""
    require_repos(config)
    outcomes = []
    for name in config.repos:
        where = config.repo_dir(name)
        outcome = RepoOutcome(name, str(where))
        try:
            outcome.result = ingest_git(store, config, where, deploy_tags=deploy_tags,
                                        progress=progress(name) if progress else None)
        except UserError as exc:
            outcome.error = f"repos.{name}: {exc}"
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes


def _flush_replacing(tx: Writer, repo: str, columns: ChangeColumns, inferred: set[str]) -> int:
    tx.delete_commits(repo, [sha for sha in columns.changes["sha"] if sha in inferred])
    return columns.flush(tx)


def _tag_deployments(info: git.RepoInfo, services: list[dict]) -> list[Deployment]:
    """One deployment per service and tagged commit. Several matching tags on one commit (a release
    tagged twice, `v3.14.0` and `v0.314.0`) are one deployment, named after and timed by the earliest
    tag with a time of its own; the others are its aliases. A commit with only lightweight tags gets
    its committer time, marked as inferred."""
    found = []
    for svc in services:
        patterns = tag_patterns(svc.get("deploy_tags"))
        if not patterns:
            continue
        by_commit: dict[str, list[git.Tag]] = {}
        for tag in git.list_tags(info, patterns):
            by_commit.setdefault(tag.sha, []).append(tag)
        for sha, tags in by_commit.items():
            first = min([t for t in tags if not t.inferred] or tags, key=lambda t: (t.time, t.name))
            aliases = [t.name for t in tags if t is not first]
            found.append(Deployment(
                id=f"tag:{info.name}:{first.name}" + ("" if len(services) == 1 else f":{svc['name']}"),
                service=svc["name"], environment="production", sha=sha, time=first.time,
                status="success", source="tag", ref=first.name, repo=info.name,
                time_inferred=first.inferred, aliases=", ".join(aliases) or None,
            ))
    return found


def _replace_tag_deployments(store: Store, tx: Writer, repo: str, found: list[Deployment]) -> tuple[int, int]:
    """Make `repo`'s tag deployments exactly `found` (the current pattern's); returns (added, removed).
    A deployment that stays keeps its id, so incidents naming it still link to it."""
    stored = {row["id"]: Deployment(**row) for row in store.tag_deployments(repo)}
    wanted = {d.id: d for d in found}
    stale = [i for i, d in stored.items() if wanted.get(i) != d]
    tx.delete_ids("deployments", stale)
    tx.insert("deployments", record_columns("deployments", [d for i, d in wanted.items() if stored.get(i) != d]))
    return len(wanted.keys() - stored.keys()), len(stored.keys() - wanted.keys())


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
        services = _services_for_repo(config, info, None, None, previous)
        removed += _replace_tag_deployments(store, tx, repo, _tag_deployments(info, services))[1]
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
