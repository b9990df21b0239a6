"""Pull and merge request events as partial PullRequest records (the lead-time stages).

Each event is one view of one request; `normalise.py` merges the views by id, so a request
seen by webhook and by `fireline sync` (which stores what it pulls in the webhook shapes) is
one record, and later events update it. What each event says:

GitHub (`X-GitHub-Event`):
- pull_request: number, title, url, author, opened time, head and base; `opened` says whether
  it opened as a draft, `ready_for_review` when it became ready, `reopened` a reopening,
  `closed` with `merged: true` the merge time and the commit that ships (`merge_commit_sha`:
  the merge, squash or rebase commit). Only a merged request's merge_commit_sha is kept: an
  open one's is GitHub's throw-away test merge. Sync adds a top-level `commits` list (the API's
  GET /pulls/{n}/commits): its earliest `commit.author.date` is the first commit; a webhook has
  none, and the first commit then comes from git (pr_commits.py) or stays unknown.
- pull_request_review (`submitted`) and pull_request_review_comment (`created`): a review by
  someone other than the author; the author's own reviews and comments are not a review.

GitLab (`Merge Request Hook`, object_kind merge_request): `open`, `reopen`, `update` (a draft
marked ready: `changes.draft` or `changes.work_in_progress` from true to false), `approved`
(or `approval`) by someone other than the author, `merge` and `close`. The commit that ships is
`merge_commit_sha`, else `squash_commit_sha`, else (a fast-forward merge) `last_commit.id`.
Sync adds top-level `approvals` and `notes` lists (API shapes): the earliest approval or
non-system note by someone else is the first review. `note` hooks on a merge request count too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...model import PullRequest
from . import PayloadError, payload_time

GITHUB_KINDS = ("pull_request", "pull_request_review", "pull_request_review_comment")
GITLAB_KINDS = ("merge_request", "note")
_REVIEW_STATES = ("approved", "changes_requested", "commented")


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _text(obj: Any, path: str) -> str | None:
    value = _get(obj, path)
    return str(value).strip() if value is not None and str(value).strip() else None


def _time(value: Any, where: str) -> datetime | None:
    return payload_time(value, where, required=False) if value not in (None, "") else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise PayloadError(f"{where}: missing" if value is None else f"{where}: not a number: {value!r}")
    return int(value)


def _first_commit(commits: Any, where: str, path: str, parse: Callable[[Any, str], datetime | None]) -> datetime | None:
    """The earliest author time in a commit list that sync adds (absent from webhooks)."""
    if commits is None:
        return None
    if not isinstance(commits, list):
        raise PayloadError(f"{where}: expected a list")
    times = [parse(_get(c, path), f"{where}[{i}].{path}") for i, c in enumerate(commits) if _get(c, path)]
    return min((t for t in times if t is not None), default=None)


# -- GitHub ---------------------------------------------------------------------------------

def github(kind: str, payload: dict) -> PullRequest:
    pr = payload.get("pull_request")
    if not isinstance(pr, dict):
        raise PayloadError("pull_request: missing")
    repo = _text(payload, "repository.name")
    if not repo:
        raise PayloadError("repository.name: missing")
    number = _number(payload.get("number", pr.get("number")), "pull_request.number")
    created = _time(pr.get("created_at"), "pull_request.created_at")
    if created is None:
        raise PayloadError("pull_request.created_at: missing")
    author = _text(pr, "user.login")
    action = str(payload.get("action") or "")
    record = PullRequest(
        id=f"github:{repo}#{number}", source="github", repo=repo, number=number,
        url=_text(pr, "html_url"), title=_text(pr, "title"), author=author, created_at=created,
        head_sha=(_text(pr, "head.sha") or "").lower() or None, base_sha=(_text(pr, "base.sha") or "").lower() or None,
        updated_at=_time(pr.get("updated_at"), "pull_request.updated_at") or created)
    if kind == "pull_request":
        _github_pull_request(record, action, pr, payload)
    elif kind == "pull_request_review" and action == "submitted":
        review = payload.get("review")
        state = str(_get(review, "state") or "").lower()
        who = _text(review, "user.login")
        if state in _REVIEW_STATES and who and who != author:
            record.first_review_at = _time(_get(review, "submitted_at"), "review.submitted_at")
            record.first_reviewer = who if record.first_review_at else None
    elif kind == "pull_request_review_comment" and action == "created":
        who = _text(payload, "comment.user.login")
        if who and who != author:
            record.first_review_at = _time(_get(payload, "comment.created_at"), "comment.created_at")
            record.first_reviewer = who if record.first_review_at else None
    return record


def _github_pull_request(record: PullRequest, action: str, pr: dict, payload: dict) -> None:
    updated = record.updated_at
    if action == "opened":
        record.draft = pr.get("draft") is True
    elif action == "ready_for_review":
        record.ready_at = updated
    elif action == "reopened":
        record.reopened_at, record.reopened = _iso(updated), 1
    merged = pr.get("merged") is True or (pr.get("merged") is None and bool(pr.get("merged_at")))
    if merged:
        record.merged_at = _time(pr.get("merged_at"), "pull_request.merged_at") or updated
        sha = _text(pr, "merge_commit_sha")
        record.merge_commit = sha.lower() if sha else None
        record.state = "merged"
    elif action in ("opened", "reopened", "ready_for_review", "converted_to_draft", "closed", "synchronize",
                    "edited") or pr.get("state"):
        record.state = "closed" if str(pr.get("state")) == "closed" else "open"
    record.closed_at = _time(pr.get("closed_at"), "pull_request.closed_at") if record.state != "open" else None
    record.first_commit_at = _first_commit(payload.get("commits"), "commits", "commit.author.date", _time)


# -- GitLab ---------------------------------------------------------------------------------

def gitlab(kind: str, payload: dict, project: str, parse: Callable[[Any, str], datetime]) -> PullRequest | None:
    """A merge request event (or a note on one) of `project`; None for notes on anything else."""
    def when(value: Any, where: str) -> datetime | None:
        return parse(value, where) if value not in (None, "") else None

    if kind == "note":
        if str(_get(payload, "object_attributes.noteable_type") or "") != "MergeRequest":
            return None
        mr = payload.get("merge_request")
        if not isinstance(mr, dict):
            raise PayloadError("merge_request: missing")
        record = _gitlab_base(mr, project, when, "merge_request")
        who_id = _get(payload, "object_attributes.author_id") or _get(payload, "user.id")
        if who_id is not None and str(who_id) != str(mr.get("author_id")) and \
                not _get(payload, "object_attributes.system"):
            record.first_review_at = when(_get(payload, "object_attributes.created_at"),
                                          "object_attributes.created_at")
            record.first_reviewer = _text(payload, "user.username") or f"id:{who_id}"
        return record
    attrs = payload.get("object_attributes")
    if not isinstance(attrs, dict):
        raise PayloadError("object_attributes: missing")
    record = _gitlab_base(attrs, project, when, "object_attributes")
    action = str(attrs.get("action") or "")
    user_id, user = _get(payload, "user.id"), _text(payload, "user.username")
    author_id = attrs.get("author_id")
    if action == "open":
        record.draft = attrs.get("draft") is True or attrs.get("work_in_progress") is True
        if user and str(user_id) == str(author_id):
            record.author = user
    elif action == "reopen":
        record.reopened_at, record.reopened = _iso(record.updated_at), 1
    elif action == "update":
        for key in ("draft", "work_in_progress"):
            change = _get(payload, f"changes.{key}")
            if isinstance(change, dict) and change.get("previous") is True and change.get("current") is False:
                record.ready_at = record.updated_at
    elif action in ("approved", "approval") and user_id is not None and str(user_id) != str(author_id):
        record.first_review_at, record.first_reviewer = record.updated_at, user or f"id:{user_id}"
    state = str(attrs.get("state") or "").lower()
    record.state = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "open"}.get(state)
    if action == "merge" or state == "merged":
        record.state = "merged"
        record.merged_at = when(attrs.get("merged_at"), "object_attributes.merged_at") or record.updated_at
        sha = attrs.get("merge_commit_sha") or attrs.get("squash_commit_sha") or _get(attrs, "last_commit.id")
        record.merge_commit = str(sha).lower() if sha else None
    if record.state == "closed":
        record.closed_at = when(attrs.get("closed_at"), "object_attributes.closed_at") or record.updated_at
    record.first_commit_at = _first_commit(payload.get("commits"), "commits", "authored_date", when)
    _gitlab_reviews(record, payload, author_id, when)
    return record


def _gitlab_base(mr: dict, project: str, when: Callable[[Any, str], datetime | None], where: str) -> PullRequest:
    iid = _number(mr.get("iid"), f"{where}.iid")
    created = when(mr.get("created_at"), f"{where}.created_at")
    if created is None:
        raise PayloadError(f"{where}.created_at: missing")
    author_id = mr.get("author_id")
    return PullRequest(
        id=f"gitlab:{project}#{iid}", source="gitlab", repo=project, number=iid, url=_text(mr, "url"),
        title=_text(mr, "title"), author=f"id:{author_id}" if author_id is not None else None, created_at=created,
        head_sha=(_text(mr, "last_commit.id") or "").lower() or None,
        updated_at=when(mr.get("updated_at"), f"{where}.updated_at") or created)


def _gitlab_reviews(record: PullRequest, payload: dict, author_id: Any,
                    when: Callable[[Any, str], datetime | None]) -> None:
    """The earliest approval or human note by someone else, from the lists sync adds."""
    found: list[tuple[datetime, str]] = []
    for key, time_key in (("approvals", "approved_at"), ("notes", "created_at")):
        items = payload.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise PayloadError(f"{key}: expected a list")
        for i, item in enumerate(items):
            person = _get(item, "user") if key == "approvals" else _get(item, "author")
            who_id = _get(person, "id")
            if who_id is None or str(who_id) == str(author_id) or (key == "notes" and _get(item, "system")):
                continue
            at = when(_get(item, time_key) or _get(item, "created_at"), f"{key}[{i}].{time_key}")
            if at is not None:
                found.append((at, _text(person, "username") or f"id:{who_id}"))
    if found:
        at, who = min(found)
        if record.first_review_at is None or at < record.first_review_at:
            record.first_review_at, record.first_reviewer = at, who
