"""GitHub webhook payloads as records, checked against the real octokit/webhooks examples.

The payloads live read-only in tests/data/webhooks/github/<event>/*.json (copied from ../shared/data (MIT, licence
beside them); each test copies what it changes.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fireline.model import FileChange
from fireline.sources.webhooks import PayloadError
from fireline.sources.webhooks import github as gh

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "github"
assert DATA.is_dir(), f"the test payloads are missing: {DATA}"

FILES = sorted(DATA.glob("*/*.json"))
SHA_A, SHA_B, SHA_C, SHA_BEFORE = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def load(relative: str) -> dict:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def headers(event: str) -> dict[str, str]:
    return {"x-github-event": event, "x-github-delivery": str(uuid.uuid4()), "content-type": "application/json"}


def with_label(payload: dict, name: str = "incident") -> dict:
    payload = copy.deepcopy(payload)
    payload["issue"]["labels"].append({"id": 1, "name": name, "color": "d73a4a", "default": False})
    return payload


def test_every_event_folder_is_covered() -> None:
    # A new example folder must be looked at, not silently passed as "yields nothing".
    assert {p.parent.name for p in FILES} == {
        "check_suite", "deployment", "deployment_status", "issues", "ping", "pull_request", "pull_request_review",
        "pull_request_review_comment", "push", "release", "status", "workflow_job", "workflow_run"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_payload(path: Path) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    event = path.parent.name
    hdrs = headers(event)
    kind = gh.event_kind(hdrs, payload)
    assert kind == event
    assert gh.delivery_ids(kind, hdrs, payload) == [(hdrs["x-github-delivery"], payload)]
    result = gh.normalise(kind, payload)
    if event == "push":
        tag_or_deleted = payload["ref"].startswith("refs/tags/") or payload["deleted"]
        assert len(result.changes) == (0 if tag_or_deleted else len(payload["commits"]))
        assert not (result.deployments or result.incidents or result.alerts)
    elif event == "deployment_status":
        [dep] = result.deployments
        assert dep.status == payload["deployment_status"]["state"].lower()
        assert dep.sha == payload["deployment"]["sha"]
        assert dep.id == f"github-{payload['deployment']['id']}"
        assert not (result.changes or result.incidents)
    elif event == "issues":
        assert not result  # the examples carry only a "bug" label
        [incident] = gh.normalise(kind, with_label(payload)).incidents
        assert incident.id == "github-Hello-World-1"
        assert incident.title == payload["issue"]["title"]
    elif event.startswith("pull_request"):
        # One view of the pull request; the examples' reviews and comments are the author's own.
        [pr] = result.pull_requests
        assert (pr.id, pr.number, pr.author) == ("github:Hello-World#2", 2, "Codertocat")
        assert pr.first_review_at is None
        assert not (result.changes or result.deployments or result.incidents)
    else:
        assert not result, f"{event} should only be stored raw"


# -- push -----------------------------------------------------------------------------------

def test_new_branch_push_gives_a_root_commit() -> None:
    payload = load("push/with-new-branch.payload.json")
    [change] = gh.normalise("push", payload).changes
    assert change.repo == "Hello-World"
    assert change.sha == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert change.parents == ()  # before is all zeros: a new branch, parent unknown
    assert (change.author_name, change.author_email) == ("Codertocat", "21031067+Codertocat@users.noreply.github.com")
    assert change.author_time == change.committer_time == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    assert change.message == "Initial commit"
    assert change.files == [FileChange("README.md", None, None)]


def multi_commit_push() -> dict:
    payload = load("push/with-new-branch.payload.json")
    template = payload["commits"][0]
    payload["before"] = SHA_BEFORE
    payload["created"] = False
    payload["commits"] = []
    for sha, stamp, files in ((SHA_A, "2024-03-01T10:00:00+02:00", {"added": ["a.py"]}),
                              (SHA_B, "2024-03-01T11:00:00+02:00", {"modified": ["a.py"], "removed": ["old.txt"]}),
                              (SHA_C, "2024-03-01T12:00:00-05:00", {})):
        commit = {**copy.deepcopy(template), "id": sha, "timestamp": stamp, "message": f"commit {sha[0]}\n\nbody",
                  "added": [], "modified": [], "removed": []}
        commit.update(files)
        payload["commits"].append(commit)
    payload["after"] = SHA_C
    return payload


def test_push_infers_a_parent_chain_from_before() -> None:
    changes = gh.normalise("push", multi_commit_push()).changes
    assert [c.sha for c in changes] == [SHA_A, SHA_B, SHA_C]
    assert [c.parents for c in changes] == [(SHA_BEFORE,), (SHA_A,), (SHA_B,)]
    assert changes[0].subject == "commit a"
    assert changes[1].files == [FileChange("a.py", None, None), FileChange("old.txt", None, None)]
    assert changes[2].files == []
    # Offsets are kept: 12:00-05:00 is 17:00 UTC.
    assert changes[2].committer_time.utcoffset() == timedelta(hours=-5)
    assert changes[2].committer_time.astimezone(UTC) == datetime(2024, 3, 1, 17, tzinfo=UTC)
    assert changes[0].author_time == datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))


def test_forced_push_does_not_claim_the_rewritten_before() -> None:
    payload = multi_commit_push()
    payload["forced"] = True
    assert [c.parents for c in gh.normalise("push", payload).changes] == [(), (SHA_A,), (SHA_B,)]


def test_tag_push_and_branch_deletion_give_nothing() -> None:
    tag = multi_commit_push()
    tag["ref"] = "refs/tags/v1.0"
    assert not gh.normalise("push", tag)
    deleted = load("push/payload.json")  # the real example: a deleted tag, no commits
    assert deleted["deleted"] is True
    assert not gh.normalise("push", deleted)
    branch_deleted = multi_commit_push()
    branch_deleted.update(deleted=True, commits=[])
    assert not gh.normalise("push", branch_deleted)


def test_committer_without_username_is_fine() -> None:
    [change] = gh.normalise("push", load("push/with-no-username-committer.payload.json")).changes
    assert change.committer_name == "Codertocat"


# -- deployment_status ----------------------------------------------------------------------

def test_deployment_status_fields() -> None:
    [dep] = gh.normalise("deployment_status", load("deployment_status/payload.json")).deployments
    assert dep.id == "github-145988746"
    assert dep.service == dep.repo == "Hello-World"
    assert dep.environment == "production"
    assert dep.sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert dep.time == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)  # the status's time, not the deployment's
    assert (dep.status, dep.type, dep.source, dep.ref) == ("success", None, "github", "master")


def test_in_progress_status_is_kept_for_the_caller_to_merge() -> None:
    [dep] = gh.normalise("deployment_status", load("deployment_status/gh-pages.payload.json")).deployments
    assert (dep.status, dep.environment) == ("in_progress", "github-pages")


def test_deployment_payload_names_the_service_and_hotfix_is_seen() -> None:
    payload = load("deployment_status/payload.json")
    payload["deployment"]["payload"] = {"service": "purger"}
    payload["deployment"]["description"] = "Hotfix: disk purge"
    payload["deployment_status"]["state"] = "FAILURE"
    [dep] = gh.normalise("deployment_status", payload).deployments
    assert (dep.service, dep.repo, dep.type, dep.status) == ("purger", "Hello-World", "hotfix", "failure")
    payload["deployment"]["payload"] = json.dumps({"service": "export"})  # the API allows a JSON string
    payload["deployment"]["description"] = None
    payload["deployment"]["task"] = "deploy:hotfix"
    [dep] = gh.normalise("deployment_status", payload).deployments
    assert (dep.service, dep.type) == ("export", "hotfix")


def test_deployment_created_gives_nothing() -> None:
    assert not gh.normalise("deployment", load("deployment/payload.json"))


# -- issues ---------------------------------------------------------------------------------

def test_labelled_issue_is_an_incident_like_the_export() -> None:
    payload = with_label(load("issues/opened.payload.json"), "Incident")  # labels match case-insensitively
    payload["issue"]["labels"].append({"name": "service:purger"})
    payload["issue"]["body"] = "Disk full. Root cause: 0123abc4"
    [inc] = gh.normalise("issues", payload).incidents
    assert inc.id == "github-Hello-World-1"
    assert inc.service == "purger"
    assert inc.started == inc.detected == datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)
    assert inc.resolved is None
    assert (inc.cause, inc.source) == ("0123abc4", "github")


def test_closed_issue_is_resolved_and_reopened_is_not() -> None:
    payload = with_label(load("issues/opened.payload.json"))
    payload["action"] = "closed"
    payload["issue"].update(state="closed", closed_at="2019-05-15T18:00:00Z")
    [inc] = gh.normalise("issues", payload).incidents
    assert inc.resolved == datetime(2019, 5, 15, 18, tzinfo=UTC)
    reopened = with_label(load("issues/reopened.payload.json"))
    assert reopened["issue"]["closed_at"]  # GitHub leaves the old closed_at on a reopened issue
    [inc] = gh.normalise("issues", reopened).incidents
    assert inc.resolved is None


def test_repository_url_is_injected_when_the_issue_lacks_it() -> None:
    payload = with_label(load("issues/opened.payload.json"))
    del payload["issue"]["repository_url"]
    del payload["issue"]["url"]
    assert gh.normalise("issues", payload).incidents[0].id == "github-Hello-World-1"
    payload["repository"]["url"] = "https://github.com/Codertocat/Hello-World"  # HTML form: use full_name
    assert gh.normalise("issues", payload).incidents[0].id == "github-Hello-World-1"


def test_incident_label_is_configurable() -> None:
    payload = load("issues/labeled.payload.json")
    assert gh.normalise("issues", payload, incident_label="BUG").incidents
    assert not gh.normalise("issues", payload, incident_label="outage")


# -- errors ---------------------------------------------------------------------------------

def test_missing_headers() -> None:
    payload = load("ping/payload.json")
    with pytest.raises(PayloadError, match="x-github-delivery: missing"):
        gh.delivery_ids("ping", {"x-github-event": "ping"}, payload)
    with pytest.raises(PayloadError, match="x-github-event: missing"):
        gh.event_kind({"x-github-delivery": "1"}, payload)


def test_push_commit_without_id() -> None:
    payload = multi_commit_push()
    del payload["commits"][1]["id"]
    with pytest.raises(PayloadError, match=r"^commits\[1\]\.id: missing$"):
        gh.normalise("push", payload)


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p["commits"][0].update(id="not-a-sha"), r"commits\[0\]\.id: not a commit sha"),
    (lambda p: p["commits"][0].pop("timestamp"), r"commits\[0\]\.timestamp: missing"),
    (lambda p: p["commits"][2].update(timestamp="yesterday"), r"commits\[2\]\.timestamp: not an ISO 8601 time"),
    (lambda p: p.pop("commits"), r"^commits: missing"),
    (lambda p: p["repository"].pop("name"), r"^repository\.name: missing"),
])
def test_bad_push_fields(change, message: str) -> None:
    payload = multi_commit_push()
    change(payload)
    with pytest.raises(PayloadError, match=message):
        gh.normalise("push", payload)


@pytest.mark.parametrize(("path", "message"), [
    ("deployment.sha", r"^deployment\.sha: missing$"),
    ("deployment.id", r"^deployment\.id: missing$"),
    ("deployment_status.state", r"^deployment_status\.state: missing$"),
    ("deployment_status.created_at", r"^deployment_status\.created_at: missing$"),
])
def test_deployment_status_without_a_field(path: str, message: str) -> None:
    payload = load("deployment_status/payload.json")
    parent, key = path.split(".")
    del payload[parent][key]
    with pytest.raises(PayloadError, match=message):
        gh.normalise("deployment_status", payload)


def test_labelled_issue_without_created_at() -> None:
    payload = with_label(load("issues/opened.payload.json"))
    payload["issue"]["created_at"] = None
    with pytest.raises(PayloadError, match=r"^issue\.created_at: missing$"):
        gh.normalise("issues", payload)


def test_payload_must_be_an_object() -> None:
    with pytest.raises(PayloadError, match="payload"):
        gh.normalise("push", [])  # type: ignore[arg-type]
