"""Incidents from an incidents file (CSV/NDJSON) or a GitHub "list issues" export."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UserError
from ..model import Incident, RawEvent
from .records import optional, parse_time, read_records, repo_name, require

ROW_KIND = "incident-row"
GITHUB_KIND = "github-issue"
# As Four Keys reads it: "root cause: <sha>" anywhere in the issue body.
_ROOT_CAUSE = re.compile(r"root\s*cause\s*:\s*([0-9a-fA-F]{7,64}|[A-Za-z][\w.:-]*)", re.IGNORECASE)


def read_incident_events(path: Path, *, service: str | None = None, label: str = "incident", tz: str = "UTC"
                         ) -> tuple[list[RawEvent], int]:
    """Raw events for the incidents in a file, and how many GitHub issues were skipped.

    `service` is a fallback for records that name none; it never overrides a record's own.
    """
    events = []
    skipped = 0
    now = datetime.now(UTC)
    for where, record in read_records(path):
        github = "labels" in record and "number" in record
        kind = GITHUB_KIND if github else ROW_KIND
        if github and ("pull_request" in record or not _has_label(record, label)):
            skipped += 1
            continue
        if service:
            record = {**record, "_service": service}
        incident = normalise(kind, record, where=where, tz=tz)
        events.append(RawEvent(source=kind, delivery_id=incident.id, kind=kind,
                               payload=json.dumps(record, sort_keys=True, default=str), received_at=now))
    return events, skipped


def _has_label(record: dict, label: str) -> bool:
    names = [(lab.get("name") if isinstance(lab, dict) else str(lab)) for lab in record.get("labels") or []]
    return any(str(n).lower() == label.lower() for n in names if n)


def normalise(kind: str, record: dict, *, where: str, tz: str = "UTC") -> Incident:
    if kind == GITHUB_KIND:
        return _from_github(record, where=where)
    return _from_row(record, where=where, tz=tz)


def _from_row(record: dict, *, where: str, tz: str) -> Incident:
    started = parse_time(record.get("started"), where=where, field="started", tz=tz)
    detected = parse_time(record.get("detected"), where=where, field="detected", tz=tz, required=False)
    resolved = parse_time(record.get("resolved"), where=where, field="resolved", tz=tz, required=False)
    service = optional(record, "service") or optional(record, "_service")
    if not service:
        raise UserError("field 'service' is missing", where=where)
    assert started is not None
    _check_order(started, detected, resolved, where)
    return Incident(
        id=require(record, "id", where=where), service=service, started=started,
        title=optional(record, "title"), detected=detected, resolved=resolved,
        severity=optional(record, "severity"),
        detected_by=(optional(record, "detected_by") or "").lower() or None,
        cause=optional(record, "cause"), source="file",
    )


def _check_order(started: datetime, detected: datetime | None, resolved: datetime | None, where: str) -> None:
    if resolved is not None and resolved < started:
        raise UserError(f"field 'resolved' ({resolved.isoformat()}) is before 'started' "
                        f"({started.isoformat()})", where=where)
    if detected is not None and detected < started:
        raise UserError(f"field 'detected' ({detected.isoformat()}) is before 'started' "
                        f"({started.isoformat()})", where=where)


def _from_github(record: dict, *, where: str) -> Incident:
    started = parse_time(record.get("created_at"), where=where, field="created_at")
    resolved = parse_time(record.get("closed_at"), where=where, field="closed_at", required=False)
    assert started is not None
    service = _service_label(record) or optional(record, "_service") or repo_name(record)
    if not service:
        raise UserError("cannot tell the service: pass --service or add a 'service:NAME' label", where=where)
    body = str(record.get("body") or "")
    match = _ROOT_CAUSE.search(body)
    _check_order(started, None, resolved, where)
    return Incident(
        # Issue numbers are unique within a repository only.
        id=f"github-{repo_name(record) or 'issue'}-{require(record, 'number', where=where)}",
        service=service, started=started,
        title=optional(record, "title"), detected=started, resolved=resolved,
        severity=_label_value(record, "severity"),
        detected_by=_label_value(record, "detected-by") or _label_value(record, "detected_by"),
        cause=match.group(1) if match else None, source="github",
    )


def _labels(record: dict) -> list[str]:
    return [str(lab.get("name") if isinstance(lab, dict) else lab) for lab in record.get("labels") or []]


def _label_value(record: dict, key: str) -> str | None:
    for name in _labels(record):
        if name.lower().startswith(key + ":"):
            return name.split(":", 1)[1].strip().lower() or None
    return None


def _service_label(record: dict) -> str | None:
    for name in _labels(record):
        if name.lower().startswith("service:"):
            return name.split(":", 1)[1].strip() or None
    return None
