"""Deployments from a deployments file (CSV/NDJSON) or a GitHub "list deployments" export.

The same file may carry feature flag changes: a record with a `flag` field is one (flag,
service, time, state on|off, optional incident_id); `fireline ingest flags FILE` reads a file
of flag changes only. A deployment row may name its rollout `stage` (canary, partial, full).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UserError
from ..model import FLAG_STATES, STAGES, Deployment, FeatureFlag, RawEvent
from ..safe_load import clip
from .records import optional, parse_time, read_records, repo_name, require, stable_id

ROW_KIND = "deployment-row"
GITHUB_KIND = "github-deployment"
FLAG_KIND = "feature-flag-row"
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")


def read_deployment_events(path: Path, *, service: str | None = None, tz: str = "UTC") -> list[RawEvent]:
    """Raw events, one per record; validated now so a bad file is refused whole.

    `service` is a fallback for records that name none; it never overrides a record's own.
    """
    events = []
    now = datetime.now(UTC)
    for where, record in read_records(path):
        github = "statuses_url" in record or "creator" in record or "task" in record
        kind = FLAG_KIND if optional(record, "flag") else GITHUB_KIND if github else ROW_KIND
        events.append(_raw(kind, record, where, service, tz, now))
    return events


def read_flag_events(path: Path, *, service: str | None = None, tz: str = "UTC") -> list[RawEvent]:
    """Feature flag changes only: every record must name its `flag`."""
    now = datetime.now(UTC)
    return [_raw(FLAG_KIND, record, where, service, tz, now) for where, record in read_records(path)]


def _raw(kind: str, record: dict, where: str, service: str | None, tz: str, now: datetime) -> RawEvent:
    if service:
        record = {**record, "_service": service}
    parsed = normalise(kind, record, where=where, tz=tz)
    return RawEvent(source=kind, delivery_id=parsed.id, kind=kind,
                    payload=json.dumps(record, sort_keys=True, default=str), received_at=now)


def normalise(kind: str, record: dict, *, where: str, tz: str = "UTC") -> Deployment | FeatureFlag:
    if kind == FLAG_KIND:
        return _flag(record, where=where, tz=tz)
    if kind == GITHUB_KIND:
        return _from_github(record, where=where)
    return _from_row(record, where=where, tz=tz)


def _flag(record: dict, *, where: str, tz: str) -> FeatureFlag:
    flag = require(record, "flag", where=where)
    service = optional(record, "service") or optional(record, "_service")
    if not service:
        raise UserError("field 'service' is missing (or pass --service)", where=where)
    time = parse_time(record.get("time"), where=where, field="time", tz=tz)
    state = (optional(record, "state") or "").lower()
    if state not in FLAG_STATES:
        raise UserError(f"field 'state': on or off, got {clip(record.get('state'))}", where=where)
    incident = optional(record, "incident_id") or optional(record, "incident")
    flag_id = optional(record, "id") or stable_id("flag", {k: v for k, v in record.items() if k != "_service"})
    assert time is not None
    return FeatureFlag(id=flag_id, service=service, flag=flag, time=time, state=state, source="file",
                       incident_id=incident)


def _check_sha(sha: str, where: str) -> str:
    if not _SHA.match(sha):
        raise UserError(f"field 'sha': not a commit sha: {clip(sha)}", where=where)
    return sha.lower()


def _from_row(record: dict, *, where: str, tz: str) -> Deployment:
    sha = _check_sha(require(record, "sha", where=where), where)
    service = optional(record, "service") or optional(record, "_service")
    if not service:
        raise UserError("field 'service' is missing (or pass --service)", where=where)
    time = parse_time(record.get("time"), where=where, field="time", tz=tz)
    status = (optional(record, "status") or "success").lower()
    environment = optional(record, "environment") or "production"
    dep_id = optional(record, "id") or stable_id("dep", {k: v for k, v in record.items() if k != "_service"})
    stage = (optional(record, "stage") or "").lower() or None
    if stage is not None and stage not in STAGES:
        raise UserError(f"field 'stage': one of {', '.join(STAGES)}, got {clip(record.get('stage'))}", where=where)
    assert time is not None
    return Deployment(id=dep_id, service=service, environment=environment, sha=sha, time=time,
                      status=status, type=(optional(record, "type") or None), source="file", stage=stage)


def _from_github(record: dict, *, where: str) -> Deployment:
    sha = _check_sha(require(record, "sha", where=where), where)
    payload: dict = record["payload"] if isinstance(record.get("payload"), dict) else {}
    service = optional(payload, "service") or optional(record, "_service") or repo_name(record)
    if not service:
        raise UserError("cannot tell the service: pass --service or add payload.service", where=where)
    created = parse_time(record.get("created_at"), where=where, field="created_at")
    status, when = _github_status(record, where)
    environment = optional(record, "environment") or "production"
    dep_type = None
    task = optional(record, "task") or ""
    if "hotfix" in task.lower() or "hotfix" in (optional(record, "description") or "").lower():
        dep_type = "hotfix"
    assert created is not None
    return Deployment(id=f"github-{require(record, 'id', where=where)}", service=service,
                      environment=environment, sha=sha, time=when or created, status=status,
                      type=dep_type, source="github", ref=optional(record, "ref"))


def _github_status(record: dict, where: str) -> tuple[str, datetime | None]:
    """Whether the deployment succeeded, and when.

    GitHub marks a successful deployment `inactive` once a newer one reaches the same
    environment, so any `success` status means it succeeded, at that status's time.
    """
    statuses = [s for s in record.get("statuses") or [] if isinstance(s, dict)]
    if statuses:
        successes = [s for s in statuses if str(s.get("state", "")).lower() == "success"]
        chosen = min(successes, key=lambda s: str(s.get("created_at", ""))) if successes else \
            max(statuses, key=lambda s: str(s.get("created_at", "")))
        state = "success" if successes else str(chosen.get("state", "unknown")).lower()
        when = parse_time(chosen.get("created_at"), where=where, field="statuses.created_at", required=False)
        return state, when
    for key in ("state", "status", "latest_status"):
        if record.get(key):
            return str(record[key]).lower(), None
    # The plain list endpoint carries no status: an exported deployment is taken as done.
    return "success", None
