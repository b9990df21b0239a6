"""GitHub webhook events as domain records.

What each event kind yields:

- push: one Change per listed commit. Tag pushes and branch deletions yield nothing.
- deployment_status: one Deployment (a partial view: the caller merges the statuses of
  one deployment, and a success wins).
- issues: one Incident when the issue carries the incident label, built exactly as the
  GitHub issues export is (`sources.incidents`).
- pull_request, pull_request_review, pull_request_review_comment: one partial PullRequest
  (pull_requests.py), merged by id with the other events of the same pull request.
- anything else (deployment, ping, workflow_run, release, ...): nothing; the caller keeps it raw.

Commit parents are INFERRED: push payloads carry none. The first listed commit's parent
is `before`, and each later commit's parent is the one listed before it (GitHub and
GitLab list pushed commits oldest first). That is exact for a linear push. It is not
exact for a merge (its second parent is unknown), nor when the sender truncated the
list (GitHub keeps at most 2048 commits, GitLab 20: `before` is then an ancestor rather
than the parent, which keeps "which deployment contains this commit" right). A new
branch (`before` all zeros) or a forced push (`before` was rewritten away) gives the
first commit no parent rather than a wrong one. `fireline ingest git` reads the real
parents and is exact for merges; prefer it where the repository is reachable.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ...errors import UserError
from ...model import Change, Deployment, FileChange, Incident
from .. import incidents
from ..records import parse_time
from . import Normalised, PayloadError, payload_time
from . import pull_requests as prs

SOURCE = "github"
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")
_ZERO_SHA = re.compile(r"^0+$")


def event_kind(headers: Mapping[str, str], payload: dict) -> str:
    kind = _header(headers, "x-github-event")
    if not kind:
        raise PayloadError("x-github-event: missing")
    return kind.strip().lower()


def delivery_ids(kind: str, headers: Mapping[str, str], payload: dict) -> list[tuple[str, dict]]:
    # X-GitHub-Delivery stays the same when GitHub redelivers an event, so it deduplicates.
    delivery = _header(headers, "x-github-delivery")
    if not delivery or not delivery.strip():
        raise PayloadError("x-github-delivery: missing")
    return [(delivery.strip(), payload)]


def normalise(kind: str, payload: dict, *, incident_label: str = "incident",
              deploy_workflows: tuple[str, ...] = (), **_options: Any) -> Normalised:
    if not isinstance(payload, dict):
        raise PayloadError("payload: expected a JSON object")
    if kind == "workflow_run":
        deployment = _workflow_deployment(payload, deploy_workflows)
        return Normalised(deployments=[deployment] if deployment else [])
    if kind == "push":
        return Normalised(changes=_push(payload))
    if kind == "deployment_status":
        return Normalised(deployments=[_deployment_status(payload)])
    if kind == "issues":
        incident = _issue(payload, incident_label)
        return Normalised(incidents=[incident] if incident else [])
    if kind in prs.GITHUB_KINDS:
        return Normalised(pull_requests=[prs.github(kind, payload)])
    # `deployment` (created) carries no outcome; its statuses do. Others are not measured.
    return Normalised()


def _workflow_deployment(payload: dict, patterns: tuple[str, ...]) -> Deployment | None:
    """A finished run of a workflow named as a deploy in config (`deploy_workflows`): teams that
    deploy from GitHub Actions without the deployments API still get measured."""
    run = field(payload, "workflow_run")
    if not patterns or not isinstance(run, dict) or field(payload, "action") != "completed":
        return None
    name = str(run.get("name") or "")
    if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
        return None
    repo = need(payload, "repository.name")
    conclusion = str(run.get("conclusion") or "unknown").lower()
    when = payload_time(run.get("updated_at"), "workflow_run.updated_at", required=True)
    assert when is not None
    return Deployment(id=f"github-run-{need(run, 'id', name='workflow_run.id')}", service=repo,
                      environment="production", sha=need(run, "head_sha", name="workflow_run.head_sha").lower(),
                      time=when, status=conclusion, source="github", ref=run.get("head_branch"), repo=repo)


# -- helpers shared with gitlab.py ---------------------------------------------------------

def field(obj: Any, path: str) -> Any:
    """The value at a dotted path ("deployment.sha"), or None when any step is missing."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def need(obj: dict, path: str, *, name: str | None = None) -> str:
    """A required non-empty scalar at `path`; the error names `name` (default: `path`)."""
    value = field(obj, path)
    if value is None or isinstance(value, dict | list) or not str(value).strip():
        raise PayloadError(f"{name or path}: missing")
    return str(value).strip()


def check_sha(value: str, name: str) -> str:
    if not _SHA.match(value):
        raise PayloadError(f"{name}: not a commit sha: {value!r}")
    return value.lower()


def time_of(value: object, name: str) -> datetime:
    """An ISO 8601 time with its offset; a bare time is UTC (webhooks carry no zone setting)."""
    try:
        when = parse_time(value, where=name, field=name)
    except UserError:
        blank = value is None or (isinstance(value, str) and not value.strip())
        raise PayloadError(f"{name}: missing" if blank else f"{name}: not an ISO 8601 time: {value!r}") from None
    assert when is not None
    return when


def is_zero_sha(value: object) -> bool:
    return isinstance(value, str) and bool(_ZERO_SHA.match(value))


def commits_to_changes(repo: str, commits: object, *, before: object, forced: bool = False,
                       parse: Callable[[object, str], datetime] = time_of) -> list[Change]:
    """Changes for a push's commit list, oldest first, with inferred parents (see module doc)."""
    if not isinstance(commits, list):
        raise PayloadError("commits: missing" if commits is None else "commits: expected a list")
    previous: str | None = None
    if isinstance(before, str) and not is_zero_sha(before) and not forced and _SHA.match(before):
        previous = before.lower()
    changes = []
    for index, commit in enumerate(commits):
        where = f"commits[{index}]"
        if not isinstance(commit, dict):
            raise PayloadError(f"{where}: expected an object")
        sha = check_sha(need(commit, "id", name=f"{where}.id"), f"{where}.id")
        when = parse(commit.get("timestamp"), f"{where}.timestamp")
        author: dict = commit["author"] if isinstance(commit.get("author"), dict) else {}
        # GitLab commits have no committer; GitHub's usually match the author.
        committer: dict = commit["committer"] if isinstance(commit.get("committer"), dict) else author
        files = [FileChange(str(path), None, None)
                 for key in ("added", "modified", "removed") for path in commit.get(key) or []]
        changes.append(Change(
            repo=repo, sha=sha, parents=(previous,) if previous else (),
            author_name=str(author.get("name") or ""), author_email=str(author.get("email") or ""),
            author_time=when,
            committer_name=str(committer.get("name") or ""), committer_email=str(committer.get("email") or ""),
            committer_time=when, message=str(commit.get("message") or ""), files=files,
        ))
        previous = sha
    return changes


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # the interface promises lower-case keys; tolerate a caller that forgot
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


# -- GitHub events ------------------------------------------------------------------------

def _push(payload: dict) -> list[Change]:
    ref = str(payload.get("ref") or "")
    if ref.startswith("refs/tags/") or payload.get("deleted") is True:
        return []
    repo = need(payload, "repository.name")
    return commits_to_changes(repo, payload.get("commits"), before=payload.get("before"),
                              forced=payload.get("forced") is True)


def _deployment_status(payload: dict) -> Deployment:
    deployment = field(payload, "deployment")
    if not isinstance(deployment, dict):
        raise PayloadError("deployment: missing")
    repo = need(payload, "repository.name")
    extra = deployment.get("payload")
    if isinstance(extra, str):  # the API accepts the deployment payload as a JSON string too
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    service = field(extra, "service") if isinstance(extra, dict) else None
    environment = field(deployment, "environment") or field(payload, "deployment_status.environment")
    if not environment:
        raise PayloadError("deployment.environment: missing")
    words = f"{deployment.get('task') or ''} {deployment.get('description') or ''}".lower()
    return Deployment(
        id=f"github-{need(payload, 'deployment.id')}",
        service=str(service).strip() if service and str(service).strip() else repo,
        environment=str(environment),
        sha=check_sha(need(payload, "deployment.sha"), "deployment.sha"),
        time=time_of(field(payload, "deployment_status.created_at"), "deployment_status.created_at"),
        status=need(payload, "deployment_status.state").lower(),
        type="hotfix" if "hotfix" in words else None,
        source=SOURCE, ref=field(deployment, "ref") or None, repo=repo,
    )


def _issue(payload: dict, label: str) -> Incident | None:
    issue = field(payload, "issue")
    if not isinstance(issue, dict):
        raise PayloadError("issue: missing")
    names = [str(lab.get("name") if isinstance(lab, dict) else lab) for lab in issue.get("labels") or []]
    if "pull_request" in issue or label.lower() not in (n.lower() for n in names):
        return None
    need(issue, "number", name="issue.number")
    need(issue, "created_at", name="issue.created_at")
    record = dict(issue)
    if not record.get("repository_url"):
        record["repository_url"] = _repository_api_url(payload)
    # A reopened issue still carries its old closed_at (see issues/reopened.payload.json):
    # only a closed issue is resolved.
    if payload.get("action") == "reopened" or record.get("state") != "closed":
        record["closed_at"] = None
    try:
        incident = incidents.normalise(incidents.GITHUB_KIND, record, where="issue")
        incident.reopened = payload.get("action") == "reopened"
        return incident
    except UserError as exc:
        raise PayloadError(str(exc)) from None


def _repository_api_url(payload: dict) -> str | None:
    """The API URL `repo_name` understands; push-style payloads give an HTML `url` instead."""
    url = field(payload, "repository.url")
    if isinstance(url, str) and "/repos/" in url:
        return url
    full_name = field(payload, "repository.full_name")
    return f"https://api.github.com/repos/{full_name}" if full_name else None
