"""GitLab merge requests for the lead-time stages, from the real merge request hook (tests/data/webhooks/gitlab,
go-gitlab, Apache-2.0) with its fields changed, and the approvals and notes lists that sync adds."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

from fireline.config import Config
from fireline.ingest import ingest_webhook_events
from fireline.normalise import merge_pull_request
from fireline.sources.webhooks import gitlab as gl

HOOK = json.loads((Path(__file__).resolve().parent / "data" / "webhooks" / "gitlab" / "merge_request.json").read_text())
AUTHOR_ID = HOOK["object_attributes"]["author_id"]  # 51; the hook's `user` (id 1) is someone else


def event(action: str, updated: str, *, user_id: int = AUTHOR_ID, username: str = "ada", **attrs) -> dict:
    payload = copy.deepcopy(HOOK)
    payload["user"].update(id=user_id, username=username)
    payload["object_attributes"].update(action=action, updated_at=updated, **attrs)
    payload.pop("changes")
    return payload


def views() -> list:
    ready = event("update", "2013-12-04T10:00:00Z", draft=False)
    ready["changes"] = {"draft": {"previous": True, "current": False}}
    merged = event("merge", "2013-12-05T09:00:00Z", state="merged", merge_commit_sha=None,
                   squash_commit_sha="AB" * 20, merged_at="2013-12-05 09:00:00 UTC")
    # What sync adds: approvals and notes in the API's shapes; the author's note and system notes are no review.
    merged["notes"] = [{"author": {"id": AUTHOR_ID, "username": "ada"}, "created_at": "2013-12-04T10:30:00Z",
                        "system": False},
                       {"author": {"id": 7, "username": "bot"}, "created_at": "2013-12-04T10:40:00Z", "system": True},
                       {"author": {"id": 9, "username": "carol"}, "created_at": "2013-12-04T12:00:00Z",
                        "system": False}]
    merged["approvals"] = [{"user": {"id": 1, "username": "user1"}, "approved_at": "2013-12-04T15:00:00Z"}]
    payloads = [event("open", "2013-12-03T17:23:34Z", draft=True, work_in_progress=True), ready,
                event("approved", "2013-12-04T15:00:00Z", user_id=1, username="user1"),
                event("approved", "2013-12-04T11:00:00Z", username="ada"),  # the author's own approval
                merged]
    return [gl.normalise("merge_request", p).pull_requests[0] for p in payloads]


def test_a_draft_merge_request_reviewed_then_squashed() -> None:
    record = reduce(merge_pull_request, views())
    assert record.id == "gitlab:gitlab-test#1" and record.author == "ada"
    assert record.draft is True and record.ready_at == datetime(2013, 12, 4, 10, tzinfo=UTC)
    # The earliest review by someone else: carol's note from sync, before user1's approval.
    assert (record.first_review_at, record.first_reviewer) == (datetime(2013, 12, 4, 12, tzinfo=UTC), "carol")
    assert record.merged_at == datetime(2013, 12, 5, 9, tzinfo=UTC)
    assert record.merge_commit == "ab" * 20 and record.state == "merged"


def test_merge_requests_in_the_store_are_one_record_whatever_the_order(duck) -> None:
    events = [("gitlab", "merge_request", f"e-{i}", v) for i, v in enumerate([
        event("open", "2013-12-03T17:23:34Z"), event("close", "2013-12-03T18:00:00Z", state="closed"),
        event("reopen", "2013-12-03T19:00:00Z", state="opened"),
        event("merge", "2013-12-05T09:00:00Z", state="merged", merge_commit_sha="CD" * 20)])]
    ingest_webhook_events(duck, Config(), list(reversed(events)))
    assert duck.query("SELECT id, state, reopened, merge_commit, closed_at FROM pull_requests") == [
        ("gitlab:gitlab-test#1", "merged", 1, "cd" * 20, datetime(2013, 12, 5, 9, tzinfo=UTC))]


def test_a_note_on_a_merge_request_by_someone_else_is_a_review() -> None:
    note = {"object_kind": "note", "user": {"id": 9, "username": "carol"}, "project": HOOK["project"],
            "object_attributes": {"noteable_type": "MergeRequest", "author_id": 9,
                                  "created_at": "2013-12-04 12:00:00 UTC", "note": "Looks good"},
            "merge_request": {"iid": 1, "author_id": AUTHOR_ID, "created_at": "2013-12-03T17:23:34Z", "title": "MS"}}
    [record] = gl.normalise("note", note).pull_requests
    assert (record.first_review_at, record.first_reviewer) == (datetime(2013, 12, 4, 12, tzinfo=UTC), "carol")
    issue_note = {**note, "object_attributes": {**note["object_attributes"], "noteable_type": "Issue"}}
    assert not gl.normalise("note", issue_note)
