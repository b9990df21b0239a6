"""PagerDuty v3 webhooks: incident events as incidents and alert states.

Each delivery holds one event (`event.id` is unique, so re-delivery is harmless).
Only events whose `event.data` is an incident object give records: `incident.triggered`,
`.acknowledged`, `.resolved`, `.reopened`, `.escalated`, `.priority_updated` ...
Events about notes, responders, status updates or services are stored raw and ignored.

Every incident event gives a partial view of one Incident (id `pagerduty-<data.id>`).
`Incident.started` is required, so every view carries the incident's `created_at`
(else the event's `occurred_at`); the caller merging views keeps the EARLIEST started,
the earliest detected and the LATEST resolved.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...model import AlertEvent, Incident
from . import Normalised, PayloadError, payload_time

SOURCE = "pagerduty"
# The incident's alert state after each event; other incident events (escalated,
# reassigned, priority_updated ...) change who or how urgent, not whether it fires.
_ALERT_STATUS = {
    "incident.triggered": "firing",
    "incident.acknowledged": "firing",
    "incident.reopened": "firing",
    "incident.resolved": "resolved",
}


def event_kind(headers: Mapping[str, str], payload: Any) -> str:
    """The event type, e.g. `incident.triggered` (`pagey.ping` for a test delivery)."""
    return _text(_event(payload), "event_type", "event.event_type")


def delivery_ids(kind: str, headers: Mapping[str, str], payload: Any) -> list[tuple[str, dict]]:
    """One delivery, keyed by `event.id`; validated now so nothing unreadable is stored."""
    event_id = _text(_event(payload), "id", "event.id")
    normalise(kind, payload)
    return [(event_id, payload)]


def normalise(kind: str, payload: Any, *, pagerduty_services: dict[str, str] | None = None,
              **_options: Any) -> Normalised:
    event = _event(payload)
    event_type = _text(event, "event_type", "event.event_type")
    data = event.get("data")
    # Only the incident object has a service and a title; an incident_note or
    # incident_responder only references its incident.
    if not event_type.startswith("incident.") or not isinstance(data, dict) or data.get("type") != "incident":
        return Normalised()
    occurred = _time(event.get("occurred_at"), "event.occurred_at", required=True)
    created = _time(data.get("created_at"), "event.data.created_at", required=False)
    assert occurred is not None
    incident_id = _text(data, "id", "event.data.id")
    title = _text(data, "title", "event.data.title")
    service_ref = data.get("service")
    if not isinstance(service_ref, dict):
        raise PayloadError("event.data.service: missing" if service_ref is None else
                           "event.data.service: expected an object")
    # `[sync.pagerduty] services` names a PagerDuty service (by id) as a Fireline service.
    mapped = (pagerduty_services or {}).get(str(service_ref.get("id") or ""))
    service = mapped or _text(service_ref, "summary", "event.data.service.summary")
    priority = data.get("priority")
    if priority is not None and not isinstance(priority, dict):
        raise PayloadError("event.data.priority: expected an object or null")
    priority_name = _optional(priority or {}, "summary", "event.data.priority.summary")
    urgency = _optional(data, "urgency", "event.data.urgency")
    severity = priority_name or urgency
    # created_at is when PagerDuty opened the incident: the same on every event about it,
    # so a view from an acknowledgement alone still starts the incident at the right time.
    started = min(created, occurred) if created else occurred
    triggered = event_type == "incident.triggered"
    resolved = event_type == "incident.resolved"
    incident = Incident(
        id=f"pagerduty-{incident_id}",
        service=service,
        started=started,
        title=title,
        detected=occurred if triggered else None,
        resolved=occurred if resolved else None,
        severity=severity,
        detected_by="monitoring",
        source=SOURCE,
        reopened=event_type == "incident.reopened",
    )
    out = Normalised(incidents=[incident])
    status = _ALERT_STATUS.get(event_type)
    if status:
        out.alerts.append(AlertEvent(
            source=SOURCE,
            fingerprint=incident_id,
            name=title,
            status=status,
            # One incident, one start: re-notifications share (fingerprint, starts_at)
            # as Alertmanager's repeats do, and a resolution carries its end time.
            starts_at=started,
            ends_at=occurred if resolved else None,
            service=service,
            severity=severity,
            labels=_labels(data, urgency, priority_name),
            annotations={"html_url": data["html_url"]} if isinstance(data.get("html_url"), str) else {},
        ))
    return out


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """True when any `v1=` entry of X-PagerDuty-Signature is the HMAC-SHA256 of body.

    The header may carry several signatures during a secret rotation; entries of
    other versions are ignored. The body must be the raw bytes as received.
    """
    if not secret or not header:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode()
    matched = False
    for entry in header.split(","):
        version, _, value = entry.strip().partition("=")
        if version == "v1" and value:
            # No early return: every entry is compared, so timing says nothing about which.
            # Bytes, since compare_digest refuses non-ASCII str and a header may hold any.
            matched |= hmac.compare_digest(expected, value.strip().lower().encode("utf-8", "replace"))
    return matched


def _event(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise PayloadError("payload: expected a JSON object (a PagerDuty v3 webhook)")
    event = payload.get("event")
    if not isinstance(event, dict):
        raise PayloadError("event: missing" if event is None else "event: expected an object")
    return event


def _text(obj: dict, key: str, where: str) -> str:
    value = _optional(obj, key, where)
    if value is None:
        raise PayloadError(f"{where}: missing")
    return value


def _optional(obj: dict, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PayloadError(f"{where}: expected a string, got {value!r}")
    return str(value).strip() or None


def _labels(data: dict, urgency: str | None, priority: str | None) -> dict[str, str]:
    labels = {"urgency": urgency, "priority": priority,
              "number": str(data["number"]) if isinstance(data.get("number"), int) else None}
    assignees = [a.get("summary") for a in data.get("assignees") or [] if isinstance(a, dict)]
    names = [str(name) for name in assignees if name]
    if names:
        labels["assignees"] = ", ".join(names)
    return {k: v for k, v in labels.items() if v}


def _time(value: Any, where: str, *, required: bool) -> datetime | None:
    return payload_time(value, where, required=required)
