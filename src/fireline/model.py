"""Domain records: what sources produce and the store keeps.

Plain dataclasses on purpose: a git pass makes hundreds of thousands of them and
validation belongs at the edges (files, webhooks, config), not here.
All datetimes are timezone-aware; the store converts them to UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

# The group of whatever no configured team owns, in every table and report.
NO_TEAM = "(no team)"
SEVERITIES = ("info", "warning", "error")  # of lint findings, ascending, so the index is a rank


@dataclass(frozen=True)
class Finding:
    """One lint finding (alert rules, postmortems), at a file and line."""

    check_id: str
    severity: str  # "error" | "warning" | "info"
    message: str
    file: str
    line: int
    group: str | None = None
    rule: str | None = None


@dataclass(slots=True)
class FileChange:
    path: str
    added: int | None  # None for binary files
    removed: int | None
    old_path: str | None = None  # set when git saw a rename


@dataclass(slots=True)
class Change:
    """A commit."""

    repo: str
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: datetime
    committer_name: str
    committer_email: str
    committer_time: datetime
    message: str
    files: list[FileChange] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass(slots=True)
class Deployment:
    id: str
    service: str
    environment: str
    sha: str
    time: datetime
    status: str = "success"
    type: str | None = None  # hotfix, rollback, ... (free text from the source)
    source: str = "file"
    ref: str | None = None  # the tag name for tag deployments
    repo: str | None = None
    stage: str | None = None  # canary, partial or full; None is a plain deployment, counted as full
    # The time is not the deployment's own: a lightweight tag's is its commit's committer time.
    time_inferred: bool | None = None
    aliases: str | None = None  # other tags on the same commit, ", "-separated (one deployment)

    def __post_init__(self) -> None:
        # Compared case-insensitively, so kept lower-cased from the start (as the store keeps them):
        # "Production" from one source and "production" from another are one environment.
        self.environment = self.environment.lower() if self.environment else self.environment
        self.status = self.status.lower() if self.status else self.status
        self.stage = self.stage.lower() if self.stage else self.stage


STAGES = ("canary", "partial", "full")
FLAG_STATES = ("on", "off")


@dataclass(slots=True)
class FeatureFlag:
    """A feature flag turned on or off for one service; turning one off can end an incident."""

    id: str
    service: str
    flag: str
    time: datetime
    state: str  # on or off
    source: str = "file"
    incident_id: str | None = None  # the incident this flip was made for, when the sender says so

    def __post_init__(self) -> None:
        self.state = self.state.lower() if self.state else self.state


@dataclass(slots=True)
class Incident:
    id: str
    service: str
    started: datetime
    title: str | None = None
    detected: datetime | None = None
    resolved: datetime | None = None
    severity: str | None = None
    detected_by: str | None = None
    cause: str | None = None  # a commit sha or a deployment id
    source: str = "file"
    # Set by an event that reopens the incident: clears an earlier resolution when merged.
    # Not stored: only the merge of webhook views reads it.
    reopened: bool = False


@dataclass(slots=True)
class PullRequest:
    """A pull (GitHub) or merge (GitLab) request: one view per event, merged by id (normalise.py).

    None means "not said by this event". Times of the lead-time stages (docs/metrics.md):
    first commit, opened (`created_at`), ready (`ready_at`, when opened as a draft), first
    review by someone other than the author, merged; `merge_commit` is what ships (a merge,
    squash or rebase commit).
    """

    id: str  # "<source>:<repo>#<number>"
    source: str
    repo: str
    number: int
    url: str | None = None
    title: str | None = None
    author: str | None = None  # GitHub login, GitLab username (or "id:<n>" when only the id is known)
    created_at: datetime | None = None
    draft: bool | None = None  # opened as a draft
    ready_at: datetime | None = None  # first marked ready for review after a draft opening
    first_commit_at: datetime | None = None  # from the commit list sync adds; else derived from git
    first_review_at: datetime | None = None
    first_reviewer: str | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    merge_commit: str | None = None
    head_sha: str | None = None
    base_sha: str | None = None
    state: str | None = None  # open, closed or merged
    reopened: int = 0
    reopened_at: str | None = None  # distinct reopening times (ISO, space-separated): re-delivery counts once
    updated_at: datetime | None = None  # the latest event's time, which decides `state`


@dataclass(slots=True)
class AlertEvent:
    """One state of one alert: firing or resolved (Alertmanager, PagerDuty, ...)."""

    source: str
    fingerprint: str
    name: str
    status: str  # firing or resolved
    starts_at: datetime
    ends_at: datetime | None = None
    service: str | None = None
    severity: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RawEvent:
    """An inbound event kept verbatim so normalised tables can be re-derived."""

    source: str
    delivery_id: str
    kind: str
    payload: str
    received_at: datetime


@dataclass(slots=True)
class RepoState:
    """What the store last saw of a repository, for incremental ingestion."""

    repo: str
    path: str
    tips: dict[str, str]  # ref name -> object id
    shallow: bool = False


def json_list(text: str | None) -> list[str]:
    """A list stored as JSON text (postmortem services, incidents, tags); anything else reads as empty."""
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
