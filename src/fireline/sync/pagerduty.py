"""PagerDuty incidents, with their log entries, as the V3 webhook events PagerDuty would have sent.

Each trigger, acknowledge and resolve log entry of an incident becomes one `incident.triggered`,
`incident.acknowledged` or `incident.resolved` event whose `data` is the incident (as
sources/webhooks/pagerduty.py reads it): the normaliser merges them into one Incident,
`pagerduty-<incident id>`, the same record a webhook gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from .client import Client, Page, iso
from .streams import Event, Stream

SOURCE = "pagerduty"
LIMIT = 100
_EVENT_TYPES = {"trigger_log_entry": "incident.triggered", "acknowledge_log_entry": "incident.acknowledged",
                "resolve_log_entry": "incident.resolved"}


def streams(client: Client, base_url: str, service_ids: list[str], now: Callable[[], datetime], *,
            lookback: timedelta = timedelta(days=7)) -> list[Stream]:
    """PagerDuty filters incidents by when they were created: a later sync asks again for those created
    `lookback` before its cursor, so an incident resolved since the last sync gets its resolution."""
    api = base_url.rstrip("/")
    params: dict[str, Any] = {"limit": LIMIT, "offset": 0, "total": "false", "sort_by": "created_at:asc",
                              "time_zone": "UTC",
                              "since": lambda after: iso(after - lookback) if after else None,
                              "until": lambda after: iso(now()) if after else None,
                              "date_range": lambda after: None if after else "all"}
    if service_ids:
        params["service_ids[]"] = list(service_ids)

    def incidents(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for incident in items:
            data = _incident(incident)
            for entry in _log_entries(client, f"{api}/incidents/{incident['id']}/log_entries"):
                kind = _EVENT_TYPES.get(str(entry.get("type")))
                if kind is None:
                    continue
                event_id = f"sync-{entry.get('id')}"
                event = {"id": event_id, "event_type": kind, "resource_type": "incident",
                         "occurred_at": entry.get("created_at"), "agent": entry.get("agent"), "data": data}
                events.append((event_id, kind, {"event": event}))
        return events, False

    target = ",".join(sorted(service_ids)) or "all"
    return [Stream(SOURCE, target, "incidents", f"{api}/incidents", params, incidents,
                   items=lambda body: body.get("incidents", []) if isinstance(body, dict) else [],
                   next_of=_next_offset)]


def _incident(incident: dict) -> dict:
    """The incident as a webhook's `event.data` carries it (`assignees`, not `assignments`)."""
    assignees = [a.get("assignee") for a in incident.get("assignments") or [] if isinstance(a, dict)]
    data = {key: incident.get(key) for key in ("id", "title", "status", "urgency", "priority", "html_url",
                                              "created_at", "service", "escalation_policy", "self")}
    # The REST API says `incident_number`, a webhook's data `number`.
    return {**data, "type": "incident", "number": incident.get("incident_number", incident.get("number")),
            "assignees": [a for a in assignees if isinstance(a, dict)]}


def _next_offset(page: Page) -> str | None:
    body = page.data if isinstance(page.data, dict) else {}
    if not body.get("more"):
        return None
    url = httpx.URL(page.url)
    offset = int(body.get("offset") or 0) + int(body.get("limit") or LIMIT)
    return str(url.copy_set_param("offset", offset))


def _log_entries(client: Client, url: str) -> list[dict]:
    entries: list[dict] = []
    next_url: str | None = str(httpx.URL(url, params={"is_overview": "true", "limit": LIMIT, "offset": 0,
                                                      "time_zone": "UTC"}))
    while next_url:
        page = client.get(next_url)
        body = page.data if isinstance(page.data, dict) else {}
        entries += [e for e in body.get("log_entries") or [] if isinstance(e, dict)]
        next_url = _next_offset(page)
    return sorted(entries, key=lambda e: str(e.get("created_at")))


def headers(token: str | None) -> dict[str, str]:
    base = {"Accept": "application/vnd.pagerduty+json;version=2"}
    return {**base, "Authorization": f"Token token={token}"} if token else base
