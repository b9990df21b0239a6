"""Webhook payloads as domain records.

One module per sender (github, gitlab, alertmanager, pagerduty, events). Each exposes
the same three pure functions, so the intake server and `fireline rebuild` treat every
sender alike:

    event_kind(headers, payload) -> str            # e.g. "deployment_status"
    delivery_ids(kind, headers, payload) -> list[tuple[str, dict]]
        # (delivery id, payload to store raw) pairs: usually one; an Alertmanager
        # notification splits into one raw event per alert, keyed fingerprint+startsAt+status
    normalise(kind, payload) -> Normalised         # records derived from one raw event

`headers` is a case-insensitive mapping (lower-case keys). Missing or malformed fields
raise PayloadError naming the field. An event kind the module does not measure gives an
empty Normalised (it is stored raw and ignored for metrics, never rejected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...errors import UserError
from ...model import AlertEvent, Change, Deployment, FeatureFlag, Incident, PullRequest
from ..records import parse_time


class PayloadError(ValueError):
    """A payload the sender could fix: the message names the field."""


@dataclass
class Normalised:
    changes: list[Change] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    # Partial views of an incident: later events (acknowledged, resolved) update earlier
    # ones by id; None fields mean "not said by this event".
    incidents: list[Incident] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    flags: list[FeatureFlag] = field(default_factory=list)  # only /events sends feature flag changes
    # Partial views of a pull/merge request, merged by id like incidents.
    pull_requests: list[PullRequest] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.deployments or self.incidents or self.alerts or self.flags
                    or self.pull_requests)


def payload_time(value: Any, where: str, *, required: bool) -> datetime | None:
    """An ISO 8601 time from a payload; errors name the JSON path, not a file line."""
    try:
        return parse_time(value, where=where, field=where, required=required)
    except UserError:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise PayloadError(f"{where}: missing") from None
        raise PayloadError(f"{where}: not an ISO 8601 time: {value!r}") from None
