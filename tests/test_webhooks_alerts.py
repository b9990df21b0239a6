"""Alertmanager and PagerDuty webhooks as raw events and records.

Alertmanager: the two real v4 payloads (tests/data, copied from ../shared/data). PagerDuty: samples written
here after PagerDuty's documented v3 webhook format (developer.pagerduty.com,
"Webhooks overview": one `event` per delivery, `event.data` an incident object).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fireline.model import AlertEvent, Incident
from fireline.sources.webhooks import PayloadError, alertmanager, pagerduty

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "alertmanager"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def stored(source, payload: dict, headers: dict | None = None) -> list[tuple[str, dict]]:
    """What intake stores: (delivery id, payload) after a JSON round trip, as in the raw table."""
    headers = headers or {}
    kind = source.event_kind(headers, payload)
    return [(i, json.loads(json.dumps(p))) for i, p in source.delivery_ids(kind, headers, payload)]


# ---------------------------------------------------------------- Alertmanager

def test_firing_notification_is_one_raw_event_per_alert():
    payload = load("firing.json")
    assert alertmanager.event_kind({}, payload) == "notification"
    [(delivery, raw)] = stored(alertmanager, payload)
    assert delivery == "5f3c1a9e0b7d2c44:2026-11-20T02:14:05.123Z:firing"
    assert raw["alerts"] == payload["alerts"] and raw["receiver"] == "sre-pager"
    [alert] = alertmanager.normalise("notification", raw).alerts
    assert alert == AlertEvent(
        source="alertmanager", fingerprint="5f3c1a9e0b7d2c44", name="HostDiskUsageHigh", status="firing",
        starts_at=datetime(2026, 11, 20, 2, 14, 5, 123000, tzinfo=UTC), ends_at=None, service="purger",
        severity="page", labels=payload["alerts"][0]["labels"], annotations=payload["alerts"][0]["annotations"])


def test_resolved_notification_ends_the_alert_under_a_new_id():
    firing, resolved = load("firing.json"), load("resolved.json")
    [(firing_id, _)] = stored(alertmanager, firing)
    [(resolved_id, raw)] = stored(alertmanager, resolved)
    assert resolved_id == "5f3c1a9e0b7d2c44:2026-11-20T02:14:05.123Z:resolved" != firing_id
    [alert] = alertmanager.normalise("notification", raw).alerts
    assert alert.status == "resolved"
    assert alert.starts_at == datetime(2026, 11, 20, 2, 14, 5, 123000, tzinfo=UTC)
    assert alert.ends_at == datetime(2026, 11, 20, 3, 2, 41, 870000, tzinfo=UTC)


def test_a_repeated_notification_has_the_same_ids():
    # Alertmanager re-sends a firing group every repeat_interval: the store must see it once.
    payload = load("firing.json")
    assert stored(alertmanager, payload) == stored(alertmanager, copy.deepcopy(payload))


def _group() -> dict:
    """The firing notification with a second alert that carries no fingerprint."""
    payload = load("firing.json")
    second = copy.deepcopy(payload["alerts"][0])
    del second["fingerprint"]
    second["labels"] = {"alertname": "HostDiskUsageHigh", "job": "node", "instance": "export-02:9100",
                        "mountpoint": "/data", "severity": "warning"}
    second["startsAt"] = "2026-11-20T02:20:00Z"
    payload["alerts"].append(second)
    return payload


def test_a_group_splits_and_each_part_normalises_alone():
    payload = _group()
    deliveries = stored(alertmanager, payload)
    assert len(deliveries) == 2
    (first_id, first), (second_id, second) = deliveries
    assert first_id.startswith("5f3c1a9e0b7d2c44:")
    fp = alertmanager.fingerprint(payload["alerts"][1]["labels"])
    assert second_id == f"{fp}:2026-11-20T02:20:00Z:firing"
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert first["alerts"] == [payload["alerts"][0]] and second["alerts"] == [payload["alerts"][1]]
    assert second["groupKey"] == payload["groupKey"]  # the rest of the notification is kept
    [alert] = alertmanager.normalise("notification", second).alerts
    assert (alert.fingerprint, alert.service, alert.severity) == (fp, "node", "warning")  # job stands in
    # The whole notification gives the same records as its parts.
    assert alertmanager.normalise("notification", payload).alerts == [
        alertmanager.normalise("notification", first).alerts[0], alert]


def test_a_computed_fingerprint_ignores_label_order():
    labels = {"alertname": "A", "instance": "x", "severity": "page"}
    assert alertmanager.fingerprint(labels) == alertmanager.fingerprint(dict(reversed(labels.items())))
    assert alertmanager.fingerprint(labels) != alertmanager.fingerprint({**labels, "instance": "y"})


def test_a_missing_version_is_accepted_and_another_refused():
    payload = load("firing.json")
    del payload["version"]
    assert alertmanager.event_kind({}, payload) == "notification"
    with pytest.raises(PayloadError, match=r"^version: expected \"4\""):
        alertmanager.event_kind({}, {**payload, "version": "3"})


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p["alerts"][1].update(startsAt="yesterday"), r"^alerts\[1\]\.startsAt: not an ISO 8601 time"),
    (lambda p: p["alerts"][1].pop("startsAt"), r"^alerts\[1\]\.startsAt: missing"),
    (lambda p: p["alerts"][0]["labels"].pop("alertname"), r"^alerts\[0\]\.labels\.alertname: missing"),
    (lambda p: p["alerts"][0].update(status="pending"), r"^alerts\[0\]\.status: expected 'firing' or 'resolved'"),
    (lambda p: p["alerts"][0]["labels"].update(severity=3), r"^alerts\[0\]\.labels\.severity: expected a string"),
    (lambda p: p["alerts"][1].update(status="resolved"), r"^alerts\[1\]\.endsAt: missing"),
    (lambda p: p["alerts"][0].update(fingerprint=""), r"^alerts\[0\]\.fingerprint: expected a non-empty"),
    (lambda p: p.update(alerts=[]), r"^alerts: expected a non-empty list"),
    (lambda p: p.pop("alerts"), r"^alerts: missing"),
])
def test_bad_alerts_are_refused_naming_the_field(change, message):
    payload = _group()
    change(payload)
    with pytest.raises(PayloadError, match=message):
        stored(alertmanager, payload)
    with pytest.raises(PayloadError, match=message):
        alertmanager.normalise("notification", payload)


def test_a_payload_that_is_not_an_object_is_refused():
    with pytest.raises(PayloadError, match=r"^payload: expected a JSON object"):
        alertmanager.event_kind({}, [])


# ---------------------------------------------------------------- PagerDuty

def _incident(status: str, **extra) -> dict:
    data = {
        "id": "Q2K8VNM4XA7R1B", "type": "incident",
        "self": "https://api.pagerduty.com/incidents/Q2K8VNM4XA7R1B",
        "html_url": "https://acme.pagerduty.com/incidents/Q2K8VNM4XA7R1B",
        "number": 4711, "status": status, "incident_key": "9c1b3e5f0d2a4c6e8b7a9d1f3e5c7b9a",
        "created_at": "2026-11-20T02:31:12Z",
        "title": "Nightly export failed: /data is full on purger-01",
        "service": {"html_url": "https://acme.pagerduty.com/service-directory/PSVC7EX", "id": "PSVC7EX",
                    "self": "https://api.pagerduty.com/services/PSVC7EX", "summary": "export-pipeline",
                    "type": "service_reference"},
        "assignees": [{"html_url": "https://acme.pagerduty.com/users/PUSR01A", "id": "PUSR01A",
                       "self": "https://api.pagerduty.com/users/PUSR01A", "summary": "Priya Raman",
                       "type": "user_reference"}],
        "escalation_policy": {"html_url": "https://acme.pagerduty.com/escalation_policies/PEPDATA", "id": "PEPDATA",
                              "self": "https://api.pagerduty.com/escalation_policies/PEPDATA",
                              "summary": "Data on call", "type": "escalation_policy_reference"},
        "teams": [{"html_url": "https://acme.pagerduty.com/teams/PTMDATA", "id": "PTMDATA",
                   "self": "https://api.pagerduty.com/teams/PTMDATA", "summary": "Data", "type": "team_reference"}],
        "priority": None, "urgency": "high",
        "conference_bridge": {"conference_number": None, "conference_url": None},
        "resolve_reason": None,
    }
    return {**data, **extra}


def _delivery(event_id: str, event_type: str, occurred_at: str, data: dict, agent: dict | None = None) -> dict:
    return {"event": {"id": event_id, "event_type": event_type, "resource_type": "incident",
                      "occurred_at": occurred_at, "agent": agent, "client": None, "data": data}}


_PRIYA = {"html_url": "https://acme.pagerduty.com/users/PUSR01A", "id": "PUSR01A",
          "self": "https://api.pagerduty.com/users/PUSR01A", "summary": "Priya Raman", "type": "user_reference"}
# Triggered by an integration (no agent), acknowledged and resolved by the on-call engineer.
TRIGGERED = _delivery("01FJ7Q3Z8K2M4N6P8R0S2T4V6X", "incident.triggered", "2026-11-20T02:31:12.418Z",
                      _incident("triggered"))
ACKNOWLEDGED = _delivery("01FJ7Q5B1C3D5E7F9G1H3J5K7L", "incident.acknowledged", "2026-11-20T02:38:40.052Z",
                         _incident("acknowledged", priority={
                             "html_url": "https://acme.pagerduty.com/account/incident_priorities", "id": "PPRIO1",
                             "self": "https://api.pagerduty.com/priorities/PPRIO1", "summary": "P1",
                             "type": "priority_reference"}), agent=_PRIYA)
RESOLVED = _delivery("01FJ7R0M2N4P6Q8R0S2T4U6V8W", "incident.resolved", "2026-11-20T04:05:09.771Z",
                     _incident("resolved", assignees=[]), agent=_PRIYA)
ANNOTATED = _delivery("01FJ7QZ9Y8X7W6V5U4T3S2R1Q0", "incident.annotated", "2026-11-20T03:10:00.000Z",
                      {"incident": {"html_url": "https://acme.pagerduty.com/incidents/Q2K8VNM4XA7R1B",
                                    "id": "Q2K8VNM4XA7R1B", "self": "https://api.pagerduty.com/incidents/Q2K8VNM4XA7R1B",
                                    "summary": "Nightly export failed", "type": "incident_reference"},
                       "id": "PNOTE42", "content": "Freed 40 GB; purger restarted.", "trimmed": False,
                       "type": "incident_note"}, agent=_PRIYA)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_pagerduty_kind_and_delivery_id():
    assert pagerduty.event_kind({}, TRIGGERED) == "incident.triggered"
    assert stored(pagerduty, TRIGGERED) == [("01FJ7Q3Z8K2M4N6P8R0S2T4V6X", TRIGGERED)]


def test_triggered_incident_opens_an_incident_and_fires_an_alert():
    out = pagerduty.normalise("incident.triggered", TRIGGERED)
    started = at("2026-11-20T02:31:12Z")
    assert out.incidents == [Incident(
        id="pagerduty-Q2K8VNM4XA7R1B", service="export-pipeline", started=started,
        title="Nightly export failed: /data is full on purger-01", detected=at("2026-11-20T02:31:12.418Z"),
        resolved=None, severity="high", detected_by="monitoring", source="pagerduty")]
    assert out.alerts == [AlertEvent(
        source="pagerduty", fingerprint="Q2K8VNM4XA7R1B", name="Nightly export failed: /data is full on purger-01",
        status="firing", starts_at=started, ends_at=None, service="export-pipeline", severity="high",
        labels={"urgency": "high", "number": "4711", "assignees": "Priya Raman"},
        annotations={"html_url": "https://acme.pagerduty.com/incidents/Q2K8VNM4XA7R1B"})]


def test_acknowledged_is_a_partial_view_still_firing():
    out = pagerduty.normalise("incident.acknowledged", ACKNOWLEDGED)
    [incident] = out.incidents
    # Not a detection, not a resolution; the start is the incident's created_at.
    assert (incident.detected, incident.resolved) == (None, None)
    assert incident.started == at("2026-11-20T02:31:12Z")
    assert incident.severity == "P1"  # a priority wins over the urgency
    [alert] = out.alerts
    assert (alert.status, alert.severity, alert.labels["priority"]) == ("firing", "P1", "P1")


def test_resolved_incident_ends_the_alert():
    out = pagerduty.normalise("incident.resolved", RESOLVED)
    [incident] = out.incidents
    assert incident.resolved == at("2026-11-20T04:05:09.771Z")
    assert incident.started == at("2026-11-20T02:31:12Z") and incident.detected is None
    [alert] = out.alerts
    assert (alert.status, alert.starts_at, alert.ends_at) == ("resolved", incident.started, incident.resolved)
    assert "assignees" not in alert.labels


def test_without_created_at_the_event_time_stands_in():
    payload = copy.deepcopy(RESOLVED)
    del payload["event"]["data"]["created_at"]
    [incident] = pagerduty.normalise("incident.resolved", payload).incidents
    assert incident.started == incident.resolved == at("2026-11-20T04:05:09.771Z")


def test_events_about_other_things_give_nothing():
    assert not pagerduty.normalise("incident.annotated", ANNOTATED)
    assert stored(pagerduty, ANNOTATED)[0][0] == "01FJ7QZ9Y8X7W6V5U4T3S2R1Q0"  # still stored raw
    ping = {"event": {"id": "01PING", "event_type": "pagey.ping", "resource_type": "pagey",
                      "occurred_at": "2026-11-20T00:00:00Z", "agent": None, "client": None, "data": None}}
    assert pagerduty.event_kind({}, ping) == "pagey.ping" and not pagerduty.normalise("pagey.ping", ping)
    # Incident events that change neither start nor end still update the incident (here: its priority).
    escalated = copy.deepcopy(ACKNOWLEDGED)
    escalated["event"]["event_type"] = "incident.priority_updated"
    out = pagerduty.normalise("incident.priority_updated", escalated)
    assert out.incidents[0].severity == "P1" and out.alerts == []


@pytest.mark.parametrize(("path", "value", "message"), [
    (("id",), None, r"^event\.id: missing"),
    (("event_type",), None, r"^event\.event_type: missing"),
    (("occurred_at",), "2 hours ago", r"^event\.occurred_at: not an ISO 8601 time"),
    (("data", "service"), None, r"^event\.data\.service: missing"),
    (("data", "service", "summary"), None, r"^event\.data\.service\.summary: missing"),
    (("data", "title"), None, r"^event\.data\.title: missing"),
    (("data", "id"), None, r"^event\.data\.id: missing"),
])
def test_bad_pagerduty_payloads_are_refused_naming_the_field(path, value, message):
    payload = copy.deepcopy(TRIGGERED)
    target = payload["event"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PayloadError, match=message):
        stored(pagerduty, payload)


def _sign(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_v1():
    body = json.dumps(TRIGGERED).encode()
    good = _sign("whsec-new", body)
    assert pagerduty.verify_signature("whsec-new", body, good)
    assert not pagerduty.verify_signature("whsec-new", body, _sign("whsec-wrong", body))
    assert not pagerduty.verify_signature("whsec-new", body + b" ", good)  # the raw body, byte for byte
    assert not pagerduty.verify_signature("whsec-new", body, "")
    assert not pagerduty.verify_signature("whsec-new", body, good.replace("v1=", "v2="))
    assert not pagerduty.verify_signature("whsec-new", body, "v1=résumé")


def test_signature_during_a_secret_rotation():
    # PagerDuty signs with every active secret, comma separated; either one may be ours.
    body = json.dumps(RESOLVED).encode()
    header = f"{_sign('whsec-old', body)},{_sign('whsec-new', body)}"
    assert pagerduty.verify_signature("whsec-old", body, header)
    assert pagerduty.verify_signature("whsec-new", body, header)
    assert pagerduty.verify_signature("whsec-new", body, header.replace(",", ", "))
    assert not pagerduty.verify_signature("whsec-other", body, header)
