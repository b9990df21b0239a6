"""Alert history from a file: NDJSON, a JSON array, or one Alertmanager notification.

Each record is either an Alertmanager alert object (status, labels, annotations, startsAt,
endsAt, fingerprint), a whole Alertmanager webhook notification (its `alerts` are read), or
a flat record (fingerprint, name, status, starts_at, ends_at, service, severity, labels,
annotations, acknowledged_at). Alertmanager objects go through the webhook parser, so a file
and the intake agree on every field. Delivery ids are `fingerprint:startsAt:status`, as the
intake makes them, so an alert already received by webhook is not counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import safe_load
from ..errors import UserError
from ..model import AlertEvent
from .records import check_file, optional, parse_time, records_from_text, require
from .webhooks import PayloadError, alertmanager

SOURCE = "alertmanager"  # stored as Alertmanager events: the same normaliser derives both
_STATUSES = ("firing", "resolved")


def read_alert_events(path: str | Path, tz: str = "UTC") -> list[tuple[str, AlertEvent]]:
    """(delivery id, event) for every alert in the file; errors name the file and line.

    `tz` is the zone for flat records' times written without an offset (Alertmanager always
    sends offsets).
    """
    path = Path(path)
    events = []
    for where, record in _records(path):
        if isinstance(record.get("alerts"), list):
            # A whole webhook notification (as saved from Alertmanager): read every alert in it.
            for index, alert in enumerate(record["alerts"]):
                events.append(_alertmanager(alert, f"{where}: alerts[{index}]"))
        elif "labels" in record and ("startsAt" in record or "startsat" in record):
            events.append(_alertmanager(record, where))
        else:
            events.append(_flat(record, where, tz))
    return events


def _records(path: Path) -> Iterator[tuple[str, dict]]:
    """read_records, plus one pretty-printed JSON object (how notifications are usually saved),
    which read_records would take for NDJSON and refuse at its first line."""
    check_file(path)
    text = safe_load.decode(safe_load.read_bytes(path), str(path))
    if text.lstrip().startswith("{"):
        safe_load.check_json_depth(text, str(path))  # before json.loads, which recurses
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None  # NDJSON (several objects) or bad input: records_from_text explains which line
        if isinstance(whole, dict):
            safe_load.check_text(whole, f"{path}:1")
            yield f"{path}:1", whole
            return
    yield from records_from_text(path, text)


def _alertmanager(alert: Any, where: str) -> tuple[str, AlertEvent]:
    try:
        event = alertmanager._alert_event(alert, "alert")
    except PayloadError as exc:
        raise UserError(str(exc), where=where) from None
    # The raw startsAt text, as intake keys it: the same alert from both paths has one id.
    return f"{event.fingerprint}:{str(alert['startsAt']).strip()}:{event.status}", event


def _string_map(record: dict, field: str, where: str) -> dict[str, str]:
    value = record.get(field)
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # a CSV cell holding JSON
        try:
            value = safe_load.loads_json(value, where, first_line=None)
        except UserError as exc:
            raise UserError(f"field {field!r}: expected a JSON object ({safe_load.reason(exc)})",
                            where=where) from None
    if not isinstance(value, dict):
        raise UserError(f"field {field!r}: expected an object of strings", where=where)
    for key, item in value.items():
        # The normaliser (shared with the webhook) refuses non-strings; say so here, with the line.
        if not isinstance(item, str):
            raise UserError(f"field {field}.{safe_load.clip(key)[1:-1]}: expected a string, got "
                            f"{safe_load.clip(item)}", where=where)
    return dict(value)


def _flat(record: dict, where: str, tz: str) -> tuple[str, AlertEvent]:
    name = require(record, "name", where=where)
    status = require(record, "status", where=where).lower()
    if status not in _STATUSES:
        raise UserError(f"field 'status': expected 'firing' or 'resolved', got {safe_load.clip(record['status'])}",
                        where=where)
    starts_at = parse_time(record.get("starts_at"), where=where, field="starts_at", tz=tz)
    ends_at = parse_time(record.get("ends_at"), where=where, field="ends_at", tz=tz, required=False)
    # Read only to refuse a malformed value: the store has no acknowledgement column yet.
    parse_time(record.get("acknowledged_at"), where=where, field="acknowledged_at", tz=tz, required=False)
    assert starts_at is not None
    if status == "firing":
        ends_at = None  # a firing alert's end is a guess at its timeout, as in Alertmanager
    elif ends_at is None:
        raise UserError("field 'ends_at' is missing (a resolved alert needs its end time)", where=where)
    elif ends_at < starts_at:
        raise UserError(f"field 'ends_at' ({ends_at.isoformat()}) is before 'starts_at' "
                        f"({starts_at.isoformat()})", where=where)
    labels = {**_string_map(record, "labels", where), "alertname": name}
    service, severity = optional(record, "service"), optional(record, "severity")
    # The event travels to the store as an Alertmanager alert, whose service and severity are labels.
    if service:
        labels["service"] = service
    if severity:
        labels["severity"] = severity
    fingerprint = optional(record, "fingerprint") or alertmanager.fingerprint(labels)
    event = AlertEvent(
        source=SOURCE, fingerprint=fingerprint, name=name, status=status, starts_at=starts_at, ends_at=ends_at,
        service=service or next((labels[k] for k in ("service", "job", "app") if labels.get(k)), None),
        severity=severity or labels.get("severity") or None, labels=labels,
        annotations=_string_map(record, "annotations", where),
    )
    return f"{fingerprint}:{str(record['starts_at']).strip()}:{status}", event
