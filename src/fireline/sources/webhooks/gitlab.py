"""GitLab webhook events as domain records.

What each event kind yields:

- push: one Change per listed commit, parents inferred as for GitHub (see github.py:
  exact for linear pushes; `fireline ingest git` is exact for merges). GitLab lists at
  most 20 commits (`total_commits_count` says how many were pushed): the first listed
  commit then gets `before`, an ancestor rather than its parent.
- deployment: one Deployment per status change (success, failed, running, canceled ...).
- issue: one Incident when the issue is an incident (`issue_type`/`type`) or carries the
  incident label.
- merge_request, and note on a merge request: one partial PullRequest (pull_requests.py).
- anything else (tag_push, pipeline, release, build, feature_flag, ...): nothing; the caller
  keeps it raw.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ...model import Change, Deployment, Incident
from ..incidents import _ROOT_CAUSE
from . import Normalised, PayloadError
from . import pull_requests as prs
from .github import check_sha, commits_to_changes, field, is_zero_sha, need

SOURCE = "gitlab"
# Header names whose event kind differs from the payload's object_kind.
_ALIASES = {"job": "build", "confidential_issue": "issue", "confidential_note": "note"}
_COMMIT_URL = re.compile(r"/commit/([0-9a-fA-F]{7,64})\b")
_UTC_SUFFIX = re.compile(r"\s*(UTC|GMT|Z)$", re.IGNORECASE)


def event_kind(headers: Mapping[str, str], payload: dict) -> str:
    header = _header(headers, "x-gitlab-event")
    if header and header.strip():
        name = header.strip().lower().removesuffix(" hook").strip().replace(" ", "_")
        # A system hook wraps project events; the payload then says what happened.
        if name != "system":
            return _ALIASES.get(name, name)
    kind = (payload.get("object_kind") or payload.get("event_name")) if isinstance(payload, dict) else None
    if not kind or not str(kind).strip():
        raise PayloadError("x-gitlab-event: missing (and no object_kind in the payload)")
    name = str(kind).strip().lower()
    return _ALIASES.get(name, name)


def delivery_ids(kind: str, headers: Mapping[str, str], payload: dict) -> list[tuple[str, dict]]:
    # Idempotency-Key is the one GitLab keeps across retries; the UUIDs are per attempt on
    # some versions. Without any, a hash of the body makes a verbatim re-delivery a no-op.
    for name in ("idempotency-key", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid"):
        value = _header(headers, name)
        if value and value.strip():
            return [(value.strip(), payload)]
    return [(body_id(payload), payload)]


def body_id(payload: object) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "body-" + hashlib.sha256(canonical.encode()).hexdigest()


def normalise(kind: str, payload: dict, *, incident_label: str = "incident", **_options: Any) -> Normalised:
    if not isinstance(payload, dict):
        raise PayloadError("payload: expected a JSON object")
    if kind == "push":
        return Normalised(changes=_push(payload))
    if kind == "deployment":
        return Normalised(deployments=[_deployment(payload)])
    if kind == "issue":
        incident = _issue(payload, incident_label)
        return Normalised(incidents=[incident] if incident else [])
    if kind in prs.GITLAB_KINDS:
        request = prs.gitlab(kind, payload, project_path(payload), parse_gitlab_time)
        return Normalised(pull_requests=[request] if request else [])
    return Normalised()


def parse_gitlab_time(value: object, name: str) -> datetime:
    """GitLab's spellings: "2021-04-20 08:28:43 UTC", "2021-04-20T08:28:43Z", "2021-04-20 10:28:43 +0200".

    Python 3.11's fromisoformat takes the last two (space before the offset included);
    only the zone name needs rewriting. A time with no zone at all is UTC, GitLab's default.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PayloadError(f"{name}: missing")
    if not isinstance(value, str):
        raise PayloadError(f"{name}: not a time: {value!r}")
    text = _UTC_SUFFIX.sub("+00:00", value.strip())
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{name}: not a time: {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def project_path(payload: dict) -> str:
    """The project's path (its clone directory, what `fireline ingest git` names the repo).

    Payloads carry `path_with_namespace`, not `path`; its last segment is the path.
    """
    path = field(payload, "project.path")
    if not path and field(payload, "project.path_with_namespace"):
        path = str(field(payload, "project.path_with_namespace")).rstrip("/").rsplit("/", 1)[-1]
    return str(path).strip() if path and str(path).strip() else need(payload, "project.name")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _push(payload: dict) -> list[Change]:
    ref = str(payload.get("ref") or "")
    # GitLab has no `deleted` flag: a deleted branch is a push whose `after` is all zeros.
    if ref.startswith("refs/tags/") or is_zero_sha(payload.get("after")):
        return []
    return commits_to_changes(project_path(payload), payload.get("commits"), before=payload.get("before"),
                              parse=parse_gitlab_time)


def _deployment(payload: dict) -> Deployment:
    service = project_path(payload)
    return Deployment(
        id=f"gitlab-{need(payload, 'deployment_id')}", service=service,
        environment=need(payload, "environment"), sha=_deployment_sha(payload),
        time=parse_gitlab_time(payload.get("status_changed_at"), "status_changed_at"),
        status=need(payload, "status").lower(), source=SOURCE,
        ref=str(payload["ref"]) if payload.get("ref") else None, repo=service,
    )


def _deployment_sha(payload: dict) -> str:
    # Deployment hooks carry no full `sha`, only `short_sha` and `commit_url`, whose last
    # segment is the full sha: prefer it, since lead time matches commits by sha.
    if payload.get("sha"):
        return check_sha(need(payload, "sha"), "sha")
    match = _COMMIT_URL.search(str(payload.get("commit_url") or ""))
    if match:
        return match.group(1).lower()
    if payload.get("short_sha"):
        return check_sha(need(payload, "short_sha"), "short_sha")
    raise PayloadError("sha: missing (and no commit_url or short_sha)")


def _label_titles(payload: dict) -> list[str]:
    labels = list(payload.get("labels") or []) + list(field(payload, "object_attributes.labels") or [])
    return [str(lab.get("title") if isinstance(lab, dict) else lab) for lab in labels]


def _issue(payload: dict, label: str) -> Incident | None:
    attrs = payload.get("object_attributes")
    if not isinstance(attrs, dict):
        raise PayloadError("object_attributes: missing")
    titles = _label_titles(payload)
    # `issue_type` on older GitLab, `type` ("Incident") since 17.2.
    kinds = {str(attrs.get(key) or "").lower() for key in ("issue_type", "type")}
    if "incident" not in kinds and label.lower() not in (t.lower() for t in titles):
        return None
    started = parse_gitlab_time(attrs.get("created_at"), "object_attributes.created_at")
    resolved = None
    if str(attrs.get("state") or "").lower() == "closed":
        # Older hooks omit closed_at; the change set or the update time then says when.
        closed = attrs.get("closed_at") or field(payload, "changes.closed_at.current") or attrs.get("updated_at")
        resolved = parse_gitlab_time(closed, "object_attributes.closed_at")
        if resolved < started:
            raise PayloadError(f"object_attributes.closed_at: before created_at ({started.isoformat()})")
    severity = str(attrs.get("severity") or "").strip().lower()
    match = _ROOT_CAUSE.search(str(attrs.get("description") or ""))
    service = next((t.split(":", 1)[1].strip() for t in titles
                    if t.lower().startswith("service:") and t.split(":", 1)[1].strip()), None)
    path = project_path(payload)
    return Incident(
        # iids are unique within a project only, as GitHub issue numbers are.
        id=f"gitlab-{path}-{need(payload, 'object_attributes.iid')}", service=service or path,
        started=started, title=str(attrs.get("title") or "") or None, detected=started, resolved=resolved,
        # GitLab sends severity "unknown" for every issue that is not an incident.
        severity=severity if severity and severity != "unknown" else None,
        cause=match.group(1) if match else None, source=SOURCE,
    )
