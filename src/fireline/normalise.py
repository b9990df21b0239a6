"""From raw webhook events to normalised tables.

The intake server stores each event raw and answers; this module derives the
records afterwards, in batches, so a burst of webhooks costs one relink, not one
each. `fireline rebuild` runs the same code over every raw event.

Several events describe one thing over time (a deployment's statuses, an incident
opened then resolved); they are merged: a success wins for a deployment, the earliest
start and the latest resolution win for an incident.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import import_module
from types import ModuleType
from typing import Any

from . import linking
from .columns import ChangeColumns, record_columns
from .config import Config
from .model import AlertEvent, Change, Deployment, FeatureFlag, Incident, PullRequest
from .sources.webhooks import Normalised
from .store import Store, Writer

log = logging.getLogger("fireline.normalise")
WEBHOOK_SOURCES = ("github", "gitlab", "alertmanager", "pagerduty", "events")


def sender(source: str) -> ModuleType:
    if source not in WEBHOOK_SOURCES:
        raise KeyError(source)
    return import_module(f".sources.webhooks.{source}", __package__)


@dataclass(frozen=True)
class QueueState:
    """What `/healthz` and `/metrics` say about the normaliser's queue."""

    pending: int
    oldest_pending: datetime | None
    failed: int

    def oldest_age(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_pending).total_seconds()) if self.oldest_pending else 0.0


@dataclass(frozen=True)
class FailedEvent:
    source: str
    delivery_id: str
    kind: str
    received_at: datetime
    error: str

    def as_dict(self) -> dict:
        return {"source": self.source, "delivery_id": self.delivery_id, "kind": self.kind,
                "received_at": self.received_at.astimezone(UTC).isoformat(), "error": self.error}


def pending_count(store: Store) -> tuple[int, datetime | None]:
    """Raw webhook events not yet normalised, and when the oldest of them arrived."""
    return store.pending_count(WEBHOOK_SOURCES)


def queue_state(store: Store) -> QueueState:
    pending, oldest = pending_count(store)
    return QueueState(pending, oldest, store.failed_count())


def failed_events(store: Store) -> list[FailedEvent]:
    """Raw events whose records could not be derived, each with its error, oldest first."""
    return [FailedEvent(*row) for row in store.failed_raw_events()]


def normalise_pending(store: Store, config: Config, limit: int = 5000) -> int:
    """Normalise up to `limit` pending raw events; returns how many were taken.

    One transaction for the batch. When it fails, the batch is halved until the events that
    fail stand alone: each is marked failed with its error (`failed_events`), the rest commit,
    so one poison event never stalls the queue.
    """
    rows: list[tuple] = []
    try:
        with store.transaction() as tx:
            # Several server workers share a PostgreSQL store: one normaliser at a time.
            if not tx.try_lock("normaliser"):
                return 0
            rows = store.pending_raw_events(WEBHOOK_SOURCES, limit)
            if not rows:
                return 0
            repos, services = _apply(store, tx, config, rows)
            linking.relink(store, tx, config.production_environments, repos=repos, services=services)
        return len(rows)
    except Exception:
        if not rows:
            raise
        log.warning("a batch of %d raw events failed; isolating the events that fail", len(rows), exc_info=True)
    kept_repos: set[str] = set()
    kept_services: set[str] = set()
    _commit_isolating(store, config, rows, kept_repos, kept_services)
    with store.transaction() as tx:
        linking.relink(store, tx, config.production_environments, repos=kept_repos, services=kept_services)
    return len(rows)


def _commit_isolating(store: Store, config: Config, rows: list[tuple], repos: set[str], services: set[str]) -> None:
    """Commit `rows`, halving on failure until each failing event is alone, then mark it failed.
    The repositories and services of what was committed are added to `repos` and `services`."""
    try:
        with store.transaction() as tx:
            tx.lock("normaliser")
            touched = _apply(store, tx, config, rows)
        repos |= touched[0]
        services |= touched[1]
        return
    except Exception as exc:
        if len(rows) == 1:
            source, delivery_id = rows[0][0], rows[0][1]
            log.error("raw event %s/%s failed: %s", source, delivery_id, exc)
            with store.transaction() as tx:
                tx.mark_raw_events([], [(source, delivery_id, describe(exc))])
            return
    middle = len(rows) // 2
    _commit_isolating(store, config, rows[:middle], repos, services)
    _commit_isolating(store, config, rows[middle:], repos, services)


def describe(exc: BaseException) -> str:
    """How a failed event's error is kept on its raw row."""
    return f"{type(exc).__name__}: {str(exc).strip()}"[:1000]


def retry(store: Store, keys: list[tuple[str, str]]) -> None:
    """Put failed webhook events back in the queue (after a fix); `normalise_pending` takes them."""
    with store.transaction() as tx:
        tx.requeue_raw_events(keys)


def rebuild_webhooks(store: Store, tx: Writer, config: Config) -> int:
    """Re-derive everything webhooks produced (inside rebuild's transaction)."""
    rows = store.raw_events(WEBHOOK_SOURCES)
    tx.delete_all("alert_events")
    tx.delete_by_source("deployments", WEBHOOK_SOURCES)
    tx.delete_by_source("feature_flags", WEBHOOK_SOURCES)
    tx.delete_by_source("pull_requests", WEBHOOK_SOURCES)
    _apply(store, tx, config, rows)
    return len(rows)


def _apply(store: Store, tx: Writer, config: Config, rows: list[tuple]) -> tuple[set[str], set[str]]:
    """Derive and write the records of `rows`; returns the repositories whose commits and the services
    whose deployments they touched: the only ones whose commit links can change."""
    merged = Normalised()
    keys: list[tuple[str, str]] = []
    errors: list[tuple[str, str, str]] = []
    alert_keys: list[tuple[str, str]] = []
    change_origins: list[str] = []
    flags: list[FeatureFlag] = []
    for source, delivery_id, kind, payload in rows:
        keys.append((source, delivery_id))
        try:
            records = sender(source).normalise(kind, json.loads(payload), **config.normalise_options())
        except Exception as exc:
            # Validated at intake; a parser change can still refuse an old event. Keep it, say why.
            errors.append((source, delivery_id, describe(exc)))
            continue
        merged.changes += records.changes
        change_origins += [source] * len(records.changes)
        merged.deployments += records.deployments
        merged.incidents += records.incidents
        merged.pull_requests += records.pull_requests
        merged.alerts += records.alerts
        flags += records.flags
        alert_keys += [(source, delivery_id)] * len(records.alerts)
    _write_changes(store, tx, merged.changes, change_origins)
    _write_deployments(store, tx, merged.deployments)
    _write_incidents(store, tx, merged.incidents)
    _merge_write(store, tx, "pull_requests", merged.pull_requests, PullRequest, merge_pull_request)
    _write_alerts(tx, merged.alerts, alert_keys)
    _write_flags(tx, flags)
    tx.mark_raw_events(keys, errors)
    return {c.repo for c in merged.changes}, {d.service for d in merged.deployments}


def _write_flags(tx: Writer, flags: list[FeatureFlag]) -> None:
    """A flip is one event, never merged: a re-sent id is stored once."""
    tx.insert("feature_flags", record_columns("feature_flags", flags))


def _write_changes(store: Store, tx: Writer, changes: list[Change], origin_of: list[str]) -> None:
    """New commits only: a commit already stored (from git, or an earlier push) keeps its row."""
    seen: set[tuple[str, str]] = set()
    for repo in {c.repo for c in changes}:
        seen |= {(repo, sha) for sha in store.known_shas(repo)}
    by_origin: dict[str, ChangeColumns] = {}
    for change, origin in zip(changes, origin_of, strict=True):
        if (change.repo, change.sha) in seen:
            continue
        seen.add((change.repo, change.sha))
        by_origin.setdefault(origin, ChangeColumns(origin)).add(change)
    for columns in by_origin.values():
        columns.flush(tx)


def _merge_deployment(old: Deployment, new: Deployment) -> Deployment:
    if old.status == "success" and new.status != "success":
        return old
    if new.status == "success" and old.status == "success":
        return old if old.time <= new.time else new
    return new


def _write_deployments(store: Store, tx: Writer, deployments: list[Deployment]) -> None:
    _merge_write(store, tx, "deployments", deployments, Deployment, _merge_deployment)


def _merge_incident(old: Incident, new: Incident) -> Incident:
    def first(a, b):
        return min(x for x in (a, b) if x is not None) if (a or b) else None

    return replace(
        old,
        started=min(old.started, new.started),
        detected=first(old.detected, new.detected),
        resolved=None if new.reopened else (new.resolved or old.resolved),
        title=new.title or old.title, severity=new.severity or old.severity,
        detected_by=old.detected_by or new.detected_by, cause=new.cause or old.cause,
        service=new.service or old.service,
    )


def _write_incidents(store: Store, tx: Writer, incidents: list[Incident]) -> None:
    _merge_write(store, tx, "incidents", incidents, Incident, _merge_incident)


def merge_pull_request(old: PullRequest, new: PullRequest) -> PullRequest:
    """Two views of one request: the earliest time of each stage, the latest event's state
    (a merge is final), reopenings counted once each however often they were delivered."""
    def first(a, b):
        return min(x for x in (a, b) if x is not None) if (a or b) else None

    newer = (new.updated_at or new.created_at or _EPOCH) >= (old.updated_at or old.created_at or _EPOCH)
    latest, other = (new, old) if newer else (old, new)
    reopenings = sorted({t for r in (old, new) for t in (r.reopened_at or "").split()})
    merged = next((r for r in (old, new) if r.state == "merged" and r.merged_at), None)
    reviews = [(r.first_review_at, r) for r in (old, new) if r.first_review_at is not None]
    review = min(reviews, key=lambda pair: pair[0])[1] if reviews else None
    state = "merged" if merged else (latest.state or other.state)
    # GitLab events other than `open` know the author by id only; the name wins once seen.
    author = next((a for a in (old.author, new.author) if a and not a.startswith("id:")), old.author or new.author)
    return replace(
        latest, url=latest.url or other.url, title=latest.title or other.title, author=author,
        created_at=first(old.created_at, new.created_at),
        draft=old.draft if old.draft is not None else new.draft,
        ready_at=first(old.ready_at, new.ready_at), first_commit_at=first(old.first_commit_at, new.first_commit_at),
        first_review_at=review.first_review_at if review else None,
        first_reviewer=review.first_reviewer if review else None,
        merged_at=merged.merged_at if merged else None,
        merge_commit=(merged.merge_commit if merged and merged.merge_commit else None),
        closed_at=(merged.closed_at or merged.merged_at) if merged else
        (latest.closed_at if state == "closed" else None),
        head_sha=latest.head_sha or other.head_sha, base_sha=latest.base_sha or other.base_sha, state=state,
        reopened=len(reopenings), reopened_at=" ".join(reopenings) or None,
        updated_at=max((x for x in (old.updated_at, new.updated_at) if x is not None), default=None),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _merge_write(store: Store, tx: Writer, table: str, records: list, record_type: type,
                 merge: Callable) -> None:
    """Fold new views of a record into the stored one (by id) and write the result back."""
    if not records:
        return
    latest: dict[str, Any] = {}
    for existing in store.rows_by_id(table, [r.id for r in records]):
        latest[existing["id"]] = record_type(**existing)
    for record in records:
        latest[record.id] = merge(latest[record.id], record) if record.id in latest else record
    tx.delete_ids(table, list(latest))
    tx.insert(table, record_columns(table, list(latest.values())))


def _write_alerts(tx: Writer, alerts: list[AlertEvent], keys: list[tuple[str, str]]) -> None:
    cols: dict[str, list] = {k: [] for k in ("source", "delivery_id", "fingerprint", "name", "status", "starts_at",
                                             "ends_at", "service", "severity", "labels", "annotations")}
    for alert, (_source, delivery_id) in zip(alerts, keys, strict=True):
        cols["source"].append(alert.source)
        cols["delivery_id"].append(delivery_id)
        cols["fingerprint"].append(alert.fingerprint)
        cols["name"].append(alert.name)
        cols["status"].append(alert.status)
        cols["starts_at"].append(alert.starts_at.astimezone(UTC))
        cols["ends_at"].append(alert.ends_at.astimezone(UTC) if alert.ends_at else None)
        cols["service"].append(alert.service)
        cols["severity"].append(alert.severity)
        cols["labels"].append(json.dumps(alert.labels, sort_keys=True))
        cols["annotations"].append(json.dumps(alert.annotations, sort_keys=True))
    tx.insert("alert_events", cols)
