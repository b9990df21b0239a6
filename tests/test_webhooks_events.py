"""Fireline's own /events format: each type, each error path, and the examples in docs/events.md."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fireline.model import Change, Deployment, Incident
from fireline.sources.webhooks import PayloadError, events

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"
SHA = "ac364a85959ca946fc6b7caa9b9f8c948c410a9d"
PARENT = "88e5fae1a6b62cac81ad7c1c8780a4a12d2c50bc"

DEPLOYMENT = {"id": "purger-deploy-1842", "type": "deployment", "time": "2026-11-18T16:42:10Z",
              "service": "purger", "sha": PARENT}
OPENED = {"id": "INC-2041-opened", "type": "incident", "action": "opened", "incident_id": "INC-2041",
          "service": "purger", "time": "2026-11-20T02:31:12Z", "started": "2026-11-19T22:05:00Z",
          "title": "Nightly export failed", "severity": "SEV2", "detected_by": "customer",
          "cause": "purger-deploy-1842"}
RESOLVED = {"id": "INC-2041-resolved", "type": "incident", "action": "resolved", "incident_id": "INC-2041",
            "service": "purger", "time": "2026-11-20T04:05:09Z"}
CHANGE = {"id": f"data-platform@{SHA}", "type": "change", "repo": "data-platform", "sha": SHA.upper(),
          "parents": [PARENT], "time": "2026-11-20T03:12:44+01:00", "author": "Priya Raman <priya@example.com>",
          "message": "purger: alert when a run deletes nothing\n\nIt failed silently."}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def intake(payload: dict):
    """What the server does: kind, delivery ids, then the stored payload normalised."""
    kind = events.event_kind({}, payload)
    [(delivery, stored)] = events.delivery_ids(kind, {}, payload)
    return kind, delivery, events.normalise(kind, json.loads(json.dumps(stored)))


def test_deployment_with_defaults():
    kind, delivery, out = intake(DEPLOYMENT)
    assert (kind, delivery) == ("deployment", "purger-deploy-1842")
    assert out.deployments == [Deployment(id="purger-deploy-1842", service="purger", environment="production",
                                          sha=PARENT, time=utc(2026, 11, 18, 16, 42, 10), status="success",
                                          type=None, source="events")]
    assert not (out.changes or out.incidents or out.alerts)


def test_deployment_with_its_own_id_and_kind():
    payload = {**DEPLOYMENT, "id": "jenkins/311", "deployment_id": "purger-deploy-1843", "kind": "hotfix",
               "sha": "AA09AC9", "environment": "staging", "status": "Failure", "repo": "data-platform",
               "ref": "v2.14.1", "time": "2026-11-20T04:50:27+01:00"}
    _, delivery, out = intake(payload)
    [dep] = out.deployments
    assert delivery == "jenkins/311" and dep.id == "purger-deploy-1843"
    assert (dep.type, dep.sha, dep.environment, dep.status, dep.repo, dep.ref) == (
        "hotfix", "aa09ac9", "staging", "failure", "data-platform", "v2.14.1")
    assert dep.time == utc(2026, 11, 20, 3, 50, 27)  # the offset is respected


def test_incident_opened_and_resolved_are_partial_views():
    _, _, opened = intake(OPENED)
    _, _, resolved = intake(RESOLVED)
    assert opened.incidents == [Incident(
        id="INC-2041", service="purger", started=utc(2026, 11, 19, 22, 5), title="Nightly export failed",
        detected=utc(2026, 11, 20, 2, 31, 12), resolved=None, severity="SEV2", detected_by="customer",
        cause="purger-deploy-1842", source="events")]
    [view] = resolved.incidents
    # `started` is a placeholder on a resolution: the merge keeps the earliest start.
    assert (view.id, view.started, view.detected, view.resolved) == (
        "INC-2041", utc(2026, 11, 20, 4, 5, 9), None, utc(2026, 11, 20, 4, 5, 9))


def test_incident_opened_without_started_starts_when_detected():
    payload = {k: v for k, v in OPENED.items() if k != "started"}
    [inc] = intake(payload)[2].incidents
    assert inc.started == inc.detected == utc(2026, 11, 20, 2, 31, 12)


def test_change():
    _, delivery, out = intake(CHANGE)
    assert delivery == f"data-platform@{SHA}"
    when = datetime(2026, 11, 20, 3, 12, 44, tzinfo=timezone(timedelta(hours=1)))
    assert out.changes == [Change(
        repo="data-platform", sha=SHA, parents=(PARENT,), author_name="Priya Raman",
        author_email="priya@example.com", author_time=when, committer_name="Priya Raman",
        committer_email="priya@example.com", committer_time=when, message=CHANGE["message"])]
    assert out.changes[0].subject == "purger: alert when a run deletes nothing"


def test_a_root_commit_has_no_parents():
    payload = {k: v for k, v in CHANGE.items() if k != "parents"}
    assert intake(payload)[2].changes[0].parents == ()


def without(payload: dict, key: str) -> dict:
    return {k: v for k, v in payload.items() if k != key}


@pytest.mark.parametrize(("payload", "message"), [
    (without(DEPLOYMENT, "id"), "id: missing"),
    ({**DEPLOYMENT, "id": "  "}, "id: must not be empty"),
    ({**DEPLOYMENT, "id": "x" * 201}, "id: String should have at most 200 characters"),
    ({**DEPLOYMENT, "id": 1842}, "id: Input should be a valid string"),
    ({**DEPLOYMENT, "time": "yesterday"}, "time: not an ISO 8601 time: 'yesterday'"),
    ({**DEPLOYMENT, "time": "2026-11-18T16:42:10"}, "time: needs a UTC offset or Z"),
    ({**DEPLOYMENT, "time": 1763484130}, "time: expected an ISO 8601 time"),
    (without(DEPLOYMENT, "time"), "time: missing"),
    ({**DEPLOYMENT, "type": "deploy"}, "type: unknown event type 'deploy'; known types: deployment, incident, change"),
    (without(DEPLOYMENT, "type"), "type: missing; known types: deployment, incident, change"),
    (without(DEPLOYMENT, "sha"), "sha: missing"),
    ({**DEPLOYMENT, "sha": "main"}, "sha: not a commit sha: 'main'"),
    ({**DEPLOYMENT, "colour": "blue"}, "colour: unknown field"),
    (without(DEPLOYMENT, "service"), "service: missing"),
    ({**RESOLVED, "action": "closed"}, "action: Input should be 'opened' or 'resolved', got 'closed'"),
    ({**RESOLVED, "started": "2026-11-19T22:05:00Z"}, "started: only an 'opened' event"),
    ({**OPENED, "started": "2026-11-21T00:00:00Z"}, "started: later than time"),
    (without(OPENED, "incident_id"), "incident_id: missing"),
    (without(CHANGE, "sha"), "sha: missing"),
    ({**CHANGE, "sha": SHA[:7]}, f"sha: not a full commit sha: '{SHA[:7]}'"),
    ({**CHANGE, "parents": [PARENT, "nope"]}, "parents[1]: not a full commit sha: 'nope'"),
    ({**CHANGE, "author": "Priya Raman"}, "author: expected 'Name <email>'"),
])
def test_errors_name_the_field(payload, message):
    with pytest.raises(PayloadError) as refused:
        intake(payload)
    assert str(refused.value).startswith(message)
    # normalise refuses the same, so a stored event that a parser change made invalid is reported, not guessed at
    with pytest.raises(PayloadError):
        events.normalise(str(payload.get("type")), payload)


def test_several_faults_are_reported_together():
    with pytest.raises(PayloadError) as refused:
        intake({"id": "x", "type": "change", "repo": "r"})
    assert str(refused.value) == "sha: missing; time: missing; author: missing; message: missing"


def test_a_payload_that_is_not_an_object_is_refused():
    with pytest.raises(PayloadError, match=r"^payload: expected a JSON object"):
        events.event_kind({}, ["deployment"])


def test_json_schema_is_a_union_told_apart_by_type():
    schema = events.JSON_SCHEMA
    assert set(schema["discriminator"]["mapping"]) == {"deployment", "incident", "change", "feature_flag"}
    assert len(schema["oneOf"]) == 4
    deployment = schema["$defs"]["DeploymentEvent"]
    assert set(deployment["required"]) == {"id", "type", "time", "service", "sha"}
    assert deployment["additionalProperties"] is False
    json.dumps(schema)  # serialisable as it stands, for the OpenAPI document


# ---------------------------------------------------------------- docs/events.md stays true

def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def _doc_payloads() -> list[dict]:
    bodies = [json.loads(block) for block in _blocks("json")]
    # The curl examples carry their bodies inline: --data '{...}'
    for block in _blocks("sh"):
        bodies += [json.loads(m) for m in re.findall(r"--data '(\{.*?\})'", block, flags=re.DOTALL)]
    return bodies


def test_every_example_in_the_docs_normalises():
    bodies = _doc_payloads()
    assert len(bodies) >= 7  # five json blocks, two curl bodies
    kinds = set()
    for body in bodies:
        kind, _, out = intake(body)
        assert out, body
        kinds.add((kind, body.get("action")))
    assert kinds >= {("deployment", None), ("incident", "opened"), ("incident", "resolved"), ("change", None)}


def test_the_docs_examples_tell_one_story():
    # The incident's cause is a deployment from the same page, so the example links.
    bodies = _doc_payloads()
    deployment_ids = {d.id for b in bodies for d in intake(b)[2].deployments}
    causes = {i.cause for b in bodies for i in intake(b)[2].incidents if i.cause}
    assert causes and causes <= deployment_ids


def test_error_messages_in_the_docs_are_the_real_ones():
    [listed] = _blocks("text")
    produced = set()
    base = {"id": "d", "type": "deployment", "time": "2026-11-18T16:42:10Z", "service": "purger", "sha": PARENT}
    for payload in (without(base, "id"), {**base, "time": "yesterday"}, {**base, "time": "2026-11-20T14:03:00"},
                    {**base, "type": "deploy"}, without(base, "sha"), {**CHANGE, "sha": "ac364a8"},
                    {**CHANGE, "author": "Priya Raman"}, {**base, "colour": "blue"},
                    {**base, "time": "9999-12-31T23:00:00-05:00"}):
        with pytest.raises(PayloadError) as refused:
            intake(payload)
        produced.add(str(refused.value))
    assert set(listed.strip().splitlines()) == produced
