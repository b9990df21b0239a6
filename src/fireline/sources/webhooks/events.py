"""Fireline's own event format, for any CI/CD system or script (`POST /events`).

Four event types, told apart by `type`: a deployment (optionally one stage of a
canary rollout), an incident opening or resolving, a change (a commit) and a feature
flag turned on or off. docs/events.md documents them with examples;
JSON_SCHEMA is the same contract for the OpenAPI docs. Unknown fields are refused,
like unknown config keys, so a typo never silently drops data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from ...errors import UserError
from ...model import Change, Deployment, FeatureFlag, Incident
from ..records import parse_time
from . import Normalised, PayloadError

SOURCE = "events"


def _time(value: Any) -> Any:
    # An offset is required, unlike in files: a raw event is re-derived on every
    # `fireline rebuild`, and its meaning must not move if the configured zone changes.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an ISO 8601 time such as 2026-11-20T14:03:00Z")
    try:
        when = parse_time(value, where="", field="")
    except UserError as exc:
        why = "out of range in UTC" if "out of range" in str(exc) else "not an ISO 8601 time"
        raise ValueError(f"{why}: {value!r}") from None
    # parse_time gives a time that said its offset (or Z) a fixed `timezone`, and one
    # that said none the configured ZoneInfo: only the latter is refused.
    if when is None or isinstance(when.tzinfo, ZoneInfo):
        raise ValueError(f"needs a UTC offset or Z, e.g. 2026-11-20T14:03:00Z: {value!r}")
    return when


Time = Annotated[datetime, BeforeValidator(_time)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
EventId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A deployment may name an abbreviated sha (resolved against ingested repositories, as
# in a deployments file); a change is a row of the commit graph, keyed by its full sha.
Sha = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{4,64}$")]
FullSha = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                           pattern=r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")]
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: EventId = Field(description="Unique per event: a re-sent id is stored once (1–200 characters).")


class DeploymentEvent(_Event):
    """A deployment of one commit of one service to one environment."""

    type: Literal["deployment"]
    time: Time = Field(description="When it finished: ISO 8601 with an offset or Z.")
    service: Text
    sha: Sha = Field(description="The commit deployed (hex, 4–64 digits).")
    environment: Text = "production"
    status: Text = Field("success", description="Only `success` counts as a deployment.")
    deployment_id: EventId | None = Field(None, description="The deployment's own id (default: `id`), "
                                                             "what an incident's `cause` may name.")
    kind: Text | None = Field(None, description="hotfix, rollback, revert, fix or patch make it rework.")
    repo: Text | None = Field(None, description="The repository, when the service has several.")
    ref: Text | None = Field(None, description="The tag or branch deployed.")
    stage: Literal["canary", "partial", "full"] | None = Field(
        None, description="The rollout stage: canary, partial or full (absent: a plain deployment, counted as "
                          "full). A canary linked to an incident whose commit never went full was caught in canary.")


class IncidentEvent(_Event):
    """An incident opened or resolved; both events name the same `incident_id`."""

    type: Literal["incident"]
    action: Literal["opened", "resolved"]
    incident_id: EventId
    service: Text
    time: Time = Field(description="When it was opened (detected) or resolved.")
    started: Time | None = Field(None, description="opened only: when the problem began, if before `time` "
                                                   "(e.g. a disk filling up for hours before anyone noticed).")
    title: Text | None = None
    severity: Text | None = None
    detected_by: Text | None = Field(None, description="monitoring, customer, ...")
    cause: Text | None = Field(None, description="A commit sha or a deployment id.")

    @model_validator(mode="after")
    def _started_before_time(self) -> IncidentEvent:
        if self.started is not None:
            if self.action != "opened":
                raise ValueError("started: only an 'opened' event says when the problem began")
            if self.started > self.time:
                raise ValueError("started: later than time")
        return self


class ChangeEvent(_Event):
    """A commit, for systems Fireline cannot read with git itself."""

    type: Literal["change"]
    repo: Text
    sha: FullSha = Field(description="The full commit sha (40 hex digits, or 64 for SHA-256 repositories).")
    parents: list[FullSha] = Field(default_factory=list, description="Full parent shas; empty for a root commit.")
    time: Time = Field(description="The commit time (author and committer time alike).")
    author: Text = Field(description="`Name <email>`, as git prints it.")
    message: str = Field(description="The commit message; the first line is its subject.")

    @field_validator("author")
    @classmethod
    def _author_format(cls, value: str) -> str:
        if not _AUTHOR.match(value):
            raise ValueError("expected 'Name <email>'")
        return value


class FeatureFlagEvent(_Event):
    """A feature flag turned on or off; turning one off during an incident restores the service."""

    type: Literal["feature_flag"]
    flag: Text = Field(description="The flag's name, as the flag system calls it.")
    service: Text
    time: Time = Field(description="When it was flipped: ISO 8601 with an offset or Z.")
    state: Literal["on", "off"]
    incident_id: EventId | None = Field(None, description="The incident this flip was made for: the flip is "
                                                           "that incident's restore time.")


AnyEvent = DeploymentEvent | IncidentEvent | ChangeEvent | FeatureFlagEvent
Event = Annotated[AnyEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
KNOWN_TYPES = ("deployment", "incident", "change", "feature_flag")


JSON_SCHEMA: dict[str, Any] = _ADAPTER.json_schema()


def event_kind(headers: Mapping[str, str], payload: Any) -> str:
    """The event's `type`, checked against the known types."""
    if not isinstance(payload, dict):
        raise PayloadError("payload: expected a JSON object")
    kind = payload.get("type")
    if kind not in KNOWN_TYPES:
        raise PayloadError(f"type: {'missing' if kind is None else f'unknown event type {kind!r}'}; "
                           f"known types: {', '.join(KNOWN_TYPES)}")
    return kind


def delivery_ids(kind: str, headers: Mapping[str, str], payload: Any) -> list[tuple[str, dict]]:
    """One delivery keyed by the event's `id`; validated whole, so nothing bad is stored."""
    return [(parse(payload).id, payload)]


def normalise(kind: str, payload: Any, **_options: Any) -> Normalised:
    """The records one event stands for. The payload's own `type` decides, not `kind`."""
    event = parse(payload)
    if isinstance(event, FeatureFlagEvent):
        return Normalised(flags=[FeatureFlag(
            id=event.id, service=event.service, flag=event.flag, time=event.time, state=event.state, source=SOURCE,
            incident_id=event.incident_id)])
    if isinstance(event, DeploymentEvent):
        return Normalised(deployments=[Deployment(
            id=event.deployment_id or event.id, service=event.service, environment=event.environment,
            sha=event.sha, time=event.time, status=event.status.lower(), type=event.kind, source=SOURCE,
            ref=event.ref, repo=event.repo, stage=event.stage)])
    if isinstance(event, IncidentEvent):
        opened = event.action == "opened"
        # A resolution alone does not know when the incident started; `time` stands in
        # (Incident.started is required) and the caller merging views keeps the earliest.
        return Normalised(incidents=[Incident(
            id=event.incident_id, service=event.service, started=event.started or event.time,
            title=event.title, detected=event.time if opened else None,
            resolved=None if opened else event.time, severity=event.severity,
            detected_by=event.detected_by, cause=event.cause, source=SOURCE)])
    match = _AUTHOR.match(event.author)
    assert match is not None  # checked by the model
    name, email = match["name"], match["email"].strip()
    return Normalised(changes=[Change(
        repo=event.repo, sha=event.sha, parents=tuple(event.parents), author_name=name, author_email=email,
        author_time=event.time, committer_name=name, committer_email=email, committer_time=event.time,
        message=event.message)])


def parse(payload: Any) -> AnyEvent:
    """The validated event; any fault becomes a PayloadError naming the field path."""
    event_kind({}, payload)  # a clear message for a missing or unknown type first
    try:
        return _ADAPTER.validate_python(payload)
    except ValidationError as exc:
        raise PayloadError("; ".join(_describe(error) for error in exc.errors())) from None


def _describe(error: Mapping[str, Any]) -> str:
    # The discriminated union puts the tag first in the path ("deployment.sha");
    # the sender wrote "sha".
    loc = list(error["loc"])
    if loc and loc[0] in KNOWN_TYPES:
        loc = loc[1:]
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        message = "missing"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        message = "must not be empty"
    elif kind == "string_pattern_mismatch":
        full = "{40}" in str(error.get("ctx", {}).get("pattern"))
        message = f"not a {'full ' if full else ''}commit sha: {error.get('input')!r}"
    elif kind == "literal_error":
        message = f"{message}, got {error.get('input')!r}"
    message = message.removeprefix("Value error, ")
    # A model-level check names its own field ("started: later than time").
    return f"{path}: {message}" if path else message
