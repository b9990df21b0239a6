"""GitLab webhook payloads as records, checked against the real go-gitlab examples.

The payloads live read-only in tests/data/webhooks/gitlab/*.json (copied from ../shared/data (Apache-2.0, licence
beside them); each test copies what it changes.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fireline.model import FileChange
from fireline.sources.webhooks import PayloadError
from fireline.sources.webhooks import gitlab as gl

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "gitlab"
assert DATA.is_dir(), f"the test payloads are missing: {DATA}"

FILES = sorted(DATA.glob("*.json"))
# The X-Gitlab-Event header GitLab sends for each payload's object_kind.
HEADER = {"push": "Push Hook", "tag_push": "Tag Push Hook", "merge_request": "Merge Request Hook",
          "deployment": "Deployment Hook", "pipeline": "Pipeline Hook", "issue": "Issue Hook",
          "release": "Release Hook", "build": "Job Hook", "feature_flag": "Feature Flag Hook"}


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_real_payload(path: Path) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    object_kind = payload["object_kind"]
    headers = {"x-gitlab-event": HEADER[object_kind], "x-gitlab-event-uuid": "e-1", "x-gitlab-instance": "x"}
    kind = gl.event_kind(headers, payload)
    assert kind == object_kind
    assert gl.event_kind({}, payload) == kind  # no header: object_kind says the same
    assert gl.delivery_ids(kind, headers, payload) == [("e-1", payload)]
    result = gl.normalise(kind, payload)
    expected = {"push": ("changes", len(payload.get("commits") or [])), "deployment": ("deployments", 1),
                "merge_request": ("pull_requests", 1)}
    if kind in expected:
        attr, count = expected[kind]
        assert len(getattr(result, attr)) == count
        assert sum(len(getattr(result, a)) for a in ("changes", "deployments", "incidents", "alerts",
                                                      "pull_requests")) == count
    else:
        # issue.json is an ordinary issue (label "API"); the rest are stored raw only.
        assert not result, f"{path.name} should give nothing"


# -- event kinds and delivery ids -----------------------------------------------------------

@pytest.mark.parametrize(("header", "kind"), [
    ("Push Hook", "push"), ("Tag Push Hook", "tag_push"), ("Job Hook", "build"),
    ("Confidential Issue Hook", "issue"), ("Note Hook", "note"), ("Confidential Note Hook", "note"),
    ("Wiki Page Hook", "wiki_page"), ("  merge request hook ", "merge_request"),
])
def test_header_names(header: str, kind: str) -> None:
    assert gl.event_kind({"x-gitlab-event": header}, {}) == kind


def test_system_hook_takes_the_kind_from_the_payload() -> None:
    assert gl.event_kind({"x-gitlab-event": "System Hook"}, load("push.json")) == "push"


def test_no_header_and_no_object_kind() -> None:
    with pytest.raises(PayloadError, match="x-gitlab-event: missing"):
        gl.event_kind({}, {"foo": 1})


def test_delivery_id_precedence() -> None:
    payload = load("push.json")
    full = {"idempotency-key": "idem", "x-gitlab-event-uuid": "event", "x-gitlab-webhook-uuid": "hook"}
    assert gl.delivery_ids("push", full, payload)[0][0] == "idem"
    del full["idempotency-key"]
    assert gl.delivery_ids("push", full, payload)[0][0] == "event"
    del full["x-gitlab-event-uuid"]
    assert gl.delivery_ids("push", full, payload)[0][0] == "hook"


def test_body_hash_deduplicates_an_identical_redelivery() -> None:
    payload = load("push.json")
    [(first, stored)] = gl.delivery_ids("push", {}, payload)
    assert stored is payload
    assert first.startswith("body-") and len(first) == len("body-") + 64
    reordered = json.loads(json.dumps(payload, sort_keys=True))  # same body, other key order
    assert gl.delivery_ids("push", {"x-gitlab-event": "Push Hook"}, reordered)[0][0] == first
    changed = copy.deepcopy(payload)
    changed["after"] = "f" * 40
    assert gl.delivery_ids("push", {}, changed)[0][0] != first


# -- push -----------------------------------------------------------------------------------

def test_push_changes_and_inferred_parents() -> None:
    payload = load("push.json")
    first, second = gl.normalise("push", payload).changes
    assert first.repo == second.repo == "diaspora"  # the project path, as a clone directory is named
    assert first.sha == "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"
    assert first.parents == ("95790bf891e76fee5e1747ab589903a6a1f80f22",)  # `before`
    assert second.parents == (first.sha,)
    assert second.sha == payload["after"]
    assert (first.author_name, first.author_email) == ("Jordi Mallach", "jordi@softcatala.org")
    assert (first.committer_name, first.committer_email) == ("Jordi Mallach", "jordi@softcatala.org")
    assert first.author_time == first.committer_time == datetime(2011, 12, 12, 12, 27, 31, tzinfo=UTC)
    assert first.subject == "Merge branch 'some-feature' into 'master'"
    assert first.files == [FileChange("CHANGELOG", None, None), FileChange("app/controller/application.rb", None, None)]


def test_push_repo_falls_back_to_the_project_name() -> None:
    payload = load("push.json")
    del payload["project"]["path_with_namespace"]
    assert gl.normalise("push", payload).changes[0].repo == "Diaspora"
    payload["project"]["path"] = "diaspora-core"
    assert gl.normalise("push", payload).changes[0].repo == "diaspora-core"


def test_new_branch_and_deleted_branch() -> None:
    payload = load("push.json")
    payload["before"] = "0" * 40
    assert gl.normalise("push", payload).changes[0].parents == ()
    payload.update(after="0" * 40, commits=[])
    assert not gl.normalise("push", payload)


def test_tag_push_gives_nothing() -> None:
    payload = load("tag_push.json")
    assert payload["commits"]  # a tag push lists the tagged commit, still not a new change
    assert not gl.normalise("tag_push", payload)
    assert not gl.normalise("push", payload)  # even if a caller mislabels it


def test_push_commit_without_id() -> None:
    payload = load("push.json")
    del payload["commits"][0]["id"]
    with pytest.raises(PayloadError, match=r"^commits\[0\]\.id: missing$"):
        gl.normalise("push", payload)


def test_push_commit_with_a_bad_timestamp() -> None:
    payload = load("push.json")
    payload["commits"][1]["timestamp"] = "soon"
    with pytest.raises(PayloadError, match=r"^commits\[1\]\.timestamp: not a time"):
        gl.normalise("push", payload)


# -- deployment -----------------------------------------------------------------------------

def test_deployment_fields() -> None:
    [dep] = gl.normalise("deployment", load("deployment.json")).deployments
    assert dep.id == "gitlab-15"
    assert dep.service == dep.repo == "test-deployment-webhooks"
    assert dep.environment == "staging"
    # No `sha` in the payload: the full sha comes from commit_url, not the 8-char short_sha.
    assert dep.sha == "279484c09fbe69ededfced8c1bb6e6d24616b468"
    assert dep.time == datetime(2021, 4, 28, 19, 50, tzinfo=UTC)
    assert (dep.status, dep.source, dep.ref, dep.type) == ("success", "gitlab", "1.0.0", None)


def test_deployment_sha_sources() -> None:
    payload = load("deployment.json")
    payload["sha"] = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
    assert gl.normalise("deployment", payload).deployments[0].sha == "abcdef0123456789abcdef0123456789abcdef01"
    del payload["sha"]
    del payload["commit_url"]
    assert gl.normalise("deployment", payload).deployments[0].sha == "279484c0"
    del payload["short_sha"]
    with pytest.raises(PayloadError, match=r"^sha: missing"):
        gl.normalise("deployment", payload)


@pytest.mark.parametrize("field", ["status", "deployment_id", "environment", "status_changed_at"])
def test_deployment_without_a_field(field: str) -> None:
    payload = load("deployment.json")
    del payload[field]
    with pytest.raises(PayloadError, match=f"^{field}: missing$"):
        gl.normalise("deployment", payload)


def test_failed_deployment_keeps_its_status() -> None:
    payload = load("deployment.json")
    payload["status"] = "failed"
    assert gl.normalise("deployment", payload).deployments[0].status == "failed"


# -- issue ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mark", [
    lambda p: p["object_attributes"].update(issue_type="incident"),
    lambda p: p["object_attributes"].update(type="Incident"),
    lambda p: p["labels"].append({"id": 7, "title": "Incident"}),
    lambda p: p["object_attributes"]["labels"].append({"id": 7, "title": "incident"}),
], ids=["issue_type", "type", "label", "attribute-label"])
def test_marked_issue_is_an_incident(mark) -> None:
    payload = load("issue.json")
    assert not gl.normalise("issue", payload)
    mark(payload)
    [inc] = gl.normalise("issue", payload).incidents
    assert inc.id == "gitlab-gitlab-test-23"
    assert inc.service == "gitlab-test"
    assert inc.started == inc.detected == datetime(2013, 12, 3, 17, 15, 43, tzinfo=UTC)
    assert inc.resolved is None  # state "opened"
    assert (inc.title, inc.severity, inc.source) == ("New API: create/update/delete file", "high", "gitlab")


def test_closed_incident_is_resolved() -> None:
    payload = load("issue.json")
    payload["object_attributes"].update(issue_type="incident", state="closed", closed_at="2013-12-04 09:00:00 UTC",
                                        severity="unknown", description="root cause: deadbeef")
    payload["labels"].append({"title": "service:purger"})
    [inc] = gl.normalise("issue", payload).incidents
    assert inc.resolved == datetime(2013, 12, 4, 9, tzinfo=UTC)
    assert (inc.severity, inc.cause, inc.service) == (None, "deadbeef", "purger")
    del payload["object_attributes"]["closed_at"]  # older hooks: the change set says when
    assert gl.normalise("issue", payload).incidents[0].resolved == datetime(2017, 9, 15, 16, 56, tzinfo=UTC)


def test_incident_label_is_configurable() -> None:
    assert gl.normalise("issue", load("issue.json"), incident_label="api").incidents


def test_incident_without_iid() -> None:
    payload = load("issue.json")
    payload["object_attributes"].update(issue_type="incident")
    del payload["object_attributes"]["iid"]
    with pytest.raises(PayloadError, match=r"^object_attributes\.iid: missing$"):
        gl.normalise("issue", payload)


# -- times ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "2021-04-20 08:28:43 UTC", "2021-04-20T08:28:43Z", "2021-04-20 10:28:43 +0200",
    "2021-04-20T10:28:43+02:00", "2021-04-20 08:28:43", "2021-04-20 03:28:43 -0500",
])
def test_gitlab_time_spellings(text: str) -> None:
    when = gl.parse_gitlab_time(text, "t")
    assert when.tzinfo is not None
    assert when == datetime(2021, 4, 20, 8, 28, 43, tzinfo=UTC)


def test_gitlab_time_keeps_the_offset() -> None:
    assert gl.parse_gitlab_time("2021-04-20 10:28:43 +0200", "t").utcoffset() == timedelta(hours=2)
    assert gl.parse_gitlab_time("2021-04-20 10:28:43 +0200", "t").tzinfo == timezone(timedelta(hours=2))


@pytest.mark.parametrize(("value", "message"), [
    (None, "^when: missing$"), ("  ", "^when: missing$"), ("20 April", "^when: not a time"), (12, "^when: not a time"),
])
def test_gitlab_time_errors(value: object, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        gl.parse_gitlab_time(value, "when")
