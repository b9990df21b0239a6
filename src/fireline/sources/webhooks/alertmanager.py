"""Alertmanager webhook notifications (the documented webhook payload, version 4).

A notification carries a group of alerts, and Alertmanager re-sends the whole group
on every `repeat_interval` and whenever one alert of it changes. So the raw store keeps
one event per alert and state, keyed `fingerprint:startsAt:status`: a repeat of a
firing alert is the same delivery (harmless), its resolution is a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...model import AlertEvent
from . import Normalised, PayloadError, payload_time

SOURCE = "alertmanager"
KIND = "notification"
_STATUSES = ("firing", "resolved")
# Labels that name the service, in order of preference: `service` is the convention
# this project documents; `job` is what every Prometheus target has; `app` is common
# in Kubernetes setups.
_SERVICE_LABELS = ("service", "job", "app")


def event_kind(headers: Mapping[str, str], payload: Any) -> str:
    """Every Alertmanager webhook is a notification; only version 4 is understood."""
    _check_notification(payload)
    return KIND


def delivery_ids(kind: str, headers: Mapping[str, str], payload: Any) -> list[tuple[str, dict]]:
    """One raw event per alert: the notification with `alerts` cut down to that alert.

    Each alert is validated here, so nothing is stored that `normalise` would refuse.
    """
    alerts = _check_notification(payload)
    deliveries = []
    for index, alert in enumerate(alerts):
        event = _alert_event(alert, f"alerts[{index}]")
        # The raw startsAt text, not the parsed time: it is what Alertmanager sends
        # again on a repeat, so the id stays byte-for-byte stable.
        deliveries.append((f"{event.fingerprint}:{alert['startsAt'].strip()}:{event.status}",
                           {**payload, "alerts": [alert]}))
    return deliveries


def normalise(kind: str, payload: Any, **_options: Any) -> Normalised:
    """One AlertEvent per alert in the notification (a stored raw event holds one)."""
    alerts = _check_notification(payload)
    return Normalised(alerts=[_alert_event(alert, f"alerts[{i}]") for i, alert in enumerate(alerts)])


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable stand-in for Alertmanager's fingerprint when a sender leaves it out.

    Alertmanager's own is a 64-bit hash of the label set (16 hex digits); this is the
    same length so ids look alike, and it depends only on the labels, not their order.
    """
    text = json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_notification(payload: Any) -> list[dict]:
    if not isinstance(payload, dict):
        raise PayloadError("payload: expected a JSON object (an Alertmanager notification)")
    version = payload.get("version")
    # Loose on purpose: some relays drop the version, and "4" may arrive as a number.
    if version is not None and str(version).strip() != "4":
        raise PayloadError(f"version: expected \"4\" (Alertmanager webhook v4), got {version!r}")
    alerts = payload.get("alerts")
    if alerts is None:
        raise PayloadError("alerts: missing")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts: expected a non-empty list of alerts")
    return alerts


def _alert_event(alert: Any, where: str) -> AlertEvent:
    if not isinstance(alert, dict):
        raise PayloadError(f"{where}: expected an object")
    labels = _string_map(alert.get("labels"), f"{where}.labels", required=True)
    annotations = _string_map(alert.get("annotations"), f"{where}.annotations", required=False)
    name = labels.get("alertname", "").strip()
    if not name:
        raise PayloadError(f"{where}.labels.alertname: missing")
    status = alert.get("status")
    if status not in _STATUSES:
        raise PayloadError(f"{where}.status: expected 'firing' or 'resolved', got {status!r}")
    starts_at = _time(alert.get("startsAt"), f"{where}.startsAt", required=True)
    assert starts_at is not None
    if _is_zero(starts_at):
        raise PayloadError(f"{where}.startsAt: the zero time is not a start time")
    ends_at = _time(alert.get("endsAt"), f"{where}.endsAt", required=False)
    # Alertmanager sends the zero time (0001-01-01) for "not ended", and for a firing
    # alert any endsAt is only a guess at when it would time out: neither is an end.
    if status == "firing" or (ends_at is not None and _is_zero(ends_at)):
        ends_at = None
    if status == "resolved" and ends_at is None:
        raise PayloadError(f"{where}.endsAt: missing, a resolved alert needs its end time")
    fp = alert.get("fingerprint")
    if fp is not None and (not isinstance(fp, str) or not fp.strip()):
        raise PayloadError(f"{where}.fingerprint: expected a non-empty string")
    return AlertEvent(
        source=SOURCE,
        fingerprint=fp.strip() if fp else fingerprint(labels),
        name=name,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        service=next((labels[k] for k in _SERVICE_LABELS if labels.get(k)), None),
        severity=labels.get("severity") or None,
        labels=labels,
        annotations=annotations,
    )


def _string_map(value: Any, where: str, *, required: bool) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: {'missing' if value is None else 'expected an object'}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key}: expected a string, got {item!r}")
    return dict(value)


def _time(value: Any, where: str, *, required: bool) -> datetime | None:
    return payload_time(value, where, required=required)


def _is_zero(when: datetime) -> bool:
    return when.year == 1
