"""The intake server with real payloads: authentic events are stored once, the rest refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fireline import normalise
from fireline.config import Config, ServerConfig
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.store import Store

DATA = Path(__file__).resolve().parent / "data" / "webhooks"
SECRETS = Secrets({"github": "gh-secret", "gitlab": "gl-token", "pagerduty": "pd-secret", "ingest": "in-token"})
GITHUB = sorted((DATA / "github").glob("*/*.json"))
GITLAB = sorted((DATA / "gitlab").glob("*.json"))
ALERTMANAGER = sorted((DATA / "alertmanager").glob("*.json"))
GITLAB_EVENTS = {"push": "Push Hook", "tag_push": "Tag Push Hook", "merge_request": "Merge Request Hook",
                 "deployment": "Deployment Hook", "pipeline": "Pipeline Hook", "issue": "Issue Hook",
                 "release": "Release Hook", "build": "Job Hook", "feature_flag": "Feature Flag Hook"}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_request(path: Path, secret: str = "gh-secret", delivery: str | None = None) -> tuple[bytes, dict]:
    body = path.read_bytes()
    return body, {"content-type": "application/json", "x-github-event": path.parent.name,
                  "x-github-delivery": delivery or str(uuid.uuid5(uuid.NAMESPACE_URL, str(path))),
                  "x-hub-signature-256": sign(secret, body)}


def gitlab_request(path: Path, token: str = "gl-token") -> tuple[bytes, dict]:
    body = path.read_bytes()
    kind = json.loads(body).get("object_kind", path.stem)
    return body, {"content-type": "application/json", "x-gitlab-event": GITLAB_EVENTS.get(kind, "Push Hook"),
                  "x-gitlab-event-uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, str(path))), "x-gitlab-token": token}


@pytest.fixture
def server(store):
    config = Config(server=ServerConfig(normalise_interval_seconds=0.05))
    app = create_app(lambda: store, config, secrets=SECRETS, normaliser=False)
    with TestClient(app) as client:
        client.store = store
        client.config = config
        yield client


def raw_count(store: Store) -> int:
    return store.count("raw_events")


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_github_payload_is_accepted_once_and_refused_when_forged(server, path):
    body, headers = github_request(path)
    forged = {**headers, "x-hub-signature-256": sign("wrong", body)}
    refused = server.post("/webhooks/github", content=body, headers=forged)
    assert refused.status_code == 401 and raw_count(server.store) == 0
    first = server.post("/webhooks/github", content=body, headers=headers)
    assert first.status_code == 202, first.text
    again = server.post("/webhooks/github", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert raw_count(server.store) == 1
    assert normalise.normalise_pending(server.store, server.config) == 1


@pytest.mark.parametrize("path", GITLAB, ids=lambda p: p.name)
def test_every_gitlab_payload_is_accepted_and_refused_with_a_wrong_token(server, path):
    body, headers = gitlab_request(path)
    assert server.post("/webhooks/gitlab", content=body, headers={**headers, "x-gitlab-token": "no"}
                       ).status_code == 401
    assert raw_count(server.store) == 0
    assert server.post("/webhooks/gitlab", content=body, headers=headers).status_code == 202
    assert normalise.normalise_pending(server.store, server.config) == 1


@pytest.mark.parametrize("path", ALERTMANAGER, ids=lambda p: p.name)
def test_alertmanager_notifications_store_one_event_per_alert(server, path):
    body = path.read_bytes()
    alerts = json.loads(body)["alerts"]
    assert server.post("/webhooks/alertmanager", content=body,
                       headers={"content-type": "application/json"}).status_code == 401
    ok = server.post("/webhooks/alertmanager", content=body,
                     headers={"content-type": "application/json", "authorization": "Bearer in-token"})
    assert ok.status_code == 202 and ok.json()["stored"] == len(alerts)
    normalise.normalise_pending(server.store, server.config)
    assert server.store.count("alert_events") == len(alerts)


def test_deployments_and_incidents_are_derived_and_merged(server):
    status = json.loads((DATA / "github/deployment_status/payload.json").read_text())
    pending = json.loads(json.dumps(status))
    pending["deployment_status"]["state"] = "pending"
    for n, payload in enumerate((pending, status)):
        body = json.dumps(payload).encode()
        response = server.post("/webhooks/github", content=body, headers={
            "content-type": "application/json", "x-github-event": "deployment_status",
            "x-github-delivery": f"d-{n}", "x-hub-signature-256": sign("gh-secret", body)})
        assert response.status_code == 202
    normalise.normalise_pending(server.store, server.config)
    rows = server.store.query("SELECT id, status FROM deployments")
    assert rows == [(f"github-{status['deployment']['id']}", status["deployment_status"]["state"])]


@pytest.mark.parametrize(("body", "content_type", "code", "message"), [
    (b"{not json", "application/json", 400, "malformed JSON"),
    (b"[1, 2]", "application/json", 400, "JSON object"),
    (b"{}", "text/plain", 415, "application/json"),
])
def test_bad_requests_say_what_is_wrong(server, body, content_type, code, message):
    response = server.post("/events", content=body, headers={"content-type": content_type,
                                                             "authorization": "Bearer in-token"})
    assert response.status_code == code and message in response.json()["error"]
    assert raw_count(server.store) == 0


def test_missing_fields_are_422_naming_the_field(server):
    body = json.dumps({"type": "deployment", "time": "2026-03-01T10:00:00Z", "service": "shop"}).encode()
    response = server.post("/events", content=body, headers={"content-type": "application/json",
                                                             "authorization": "Bearer in-token"})
    assert response.status_code == 422 and "id" in response.json()["error"]
    assert raw_count(server.store) == 0


def test_oversized_bodies_are_refused(store):
    app = create_app(lambda: store, Config(server=ServerConfig(max_body_bytes=100)), secrets=SECRETS,
                     normaliser=False)
    with TestClient(app) as client:
        body = json.dumps({"id": "x" * 200}).encode()
        response = client.post("/events", content=body, headers={"content-type": "application/json",
                                                                 "authorization": "Bearer in-token"})
        assert response.status_code == 413 and "limit of 100 bytes" in response.json()["error"]
        assert raw_count(store) == 0


def test_unknown_but_well_formed_events_are_kept_raw(server):
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    response = server.post("/webhooks/github", content=body, headers={
        "content-type": "application/json", "x-github-event": "star", "x-github-delivery": "s-1",
        "x-hub-signature-256": sign("gh-secret", body)})
    assert response.status_code == 202
    normalise.normalise_pending(server.store, server.config)
    assert raw_count(server.store) == 1 and server.store.count("deployments") == 0


def test_public_address_without_a_secret_refuses_that_sender(duck):
    secrets = Secrets({"github": "gh-secret", "gitlab": None, "pagerduty": None, "ingest": None})
    app = create_app(lambda: duck, Config(), host="0.0.0.0", secrets=secrets, normaliser=False)
    with TestClient(app) as client:
        body, headers = gitlab_request(GITLAB[0])
        response = client.post("/webhooks/gitlab", content=body, headers=headers)
        assert response.status_code == 401 and "no secret" in response.json()["error"]


def test_health_and_prometheus_metrics(server):
    assert server.get("/healthz").json() == {"status": "ok", "pending": 0, "failed": 0, "lag_seconds": 0.0}
    body, headers = github_request(GITHUB[0])
    server.post("/webhooks/github", content=body, headers=headers)
    server.post("/webhooks/github", content=body, headers={**headers, "x-hub-signature-256": "sha256=00"})
    text = server.get("/metrics").text
    assert 'fireline_intake_stored_total{source="github"} 1.0' in text
    assert 'fireline_intake_rejected_total{reason="signature",source="github"} 1.0' in text
    assert "fireline_normalisation_lag_seconds" in text


def test_background_normaliser_catches_up(duck):
    config = Config(server=ServerConfig(normalise_interval_seconds=0.05))
    app = create_app(lambda: duck, config, secrets=SECRETS)
    with TestClient(app) as client:
        body, headers = github_request(DATA / "github/deployment_status/payload.json")
        assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202
        deadline = time.monotonic() + 20
        # The store belongs to the server while it runs: ask it, not the connection.
        while client.get("/healthz").json()["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/healthz").json()["pending"] == 0
    reopened = Store.open(duck.url)  # the server closed its connection when it stopped
    assert reopened.count("deployments") == 1
    reopened.close()


def _push_payload(repo_name: str, before: str, commits: list[tuple[str, str]]) -> dict:
    return {"ref": "refs/heads/main", "before": before, "after": commits[-1][0], "deleted": False, "forced": False,
            "repository": {"name": repo_name, "full_name": f"acme/{repo_name}"},
            "commits": [{"id": sha, "message": msg, "timestamp": "2026-03-02T10:00:00+01:00",
                         "author": {"name": "Ada", "email": "ada@example.com"},
                         "added": [f"{msg}.txt"], "modified": [], "removed": []} for sha, msg in commits]}


def _send_push(client, payload: dict, delivery: str) -> None:
    body = json.dumps(payload).encode()
    response = client.post("/webhooks/github", content=body, headers={
        "content-type": "application/json", "x-github-event": "push", "x-github-delivery": delivery,
        "x-hub-signature-256": sign("gh-secret", body)})
    assert response.status_code == 202, response.text


def test_a_re_sent_push_does_not_duplicate_files(server):
    payload = _push_payload("shop", "0" * 40, [("a" * 40, "one"), ("b" * 40, "two")])
    _send_push(server, payload, "p-1")
    _send_push(server, payload, "p-2")  # the same commits in another delivery (a retried push)
    normalise.normalise_pending(server.store, server.config)
    assert server.store.count("changes") == 2 and server.store.count("change_files") == 2


def test_the_git_pass_replaces_commits_whose_parents_a_push_inferred(server, repo):
    from fireline.ingest import ingest_git

    base = repo.commit("base", datetime_at(0))
    repo.git("checkout", "-q", "-b", "feature")
    side = repo.commit("side", datetime_at(1))
    repo.git("checkout", "-q", "main")
    main = repo.commit("main", datetime_at(2))
    repo.git("merge", "--no-ff", "-q", "-m", "merge", "feature", when=datetime_at(3))
    merge = repo.head()
    # A push webhook lists the merge after `main` and infers a single parent for it.
    _send_push(server, _push_payload("repo", base, [(side, "side"), (main, "main"), (merge, "merge")]), "p-3")
    normalise.normalise_pending(server.store, server.config)
    assert server.store.query("SELECT parents FROM changes WHERE sha = ?", [merge]) == [(main,)]
    ingest_git(server.store, Config(), repo.path, service="repo")
    rows = server.store.query("SELECT parents, origin FROM changes WHERE sha = ?", [merge])
    assert rows == [(f"{main} {side}", "git")]
    assert server.store.count("change_files") == server.store.query(
        "SELECT count(*) FROM (SELECT DISTINCT repo, sha, path FROM change_files) AS files")[0][0]


def datetime_at(hours: float):
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(hours=hours)


def test_a_reopened_github_incident_is_open_again(server):
    issue = json.loads((DATA / "github/issues/opened.payload.json").read_text())
    issue["issue"]["labels"] = [{"name": "incident"}]
    closed = json.loads(json.dumps(issue))
    closed["action"], closed["issue"]["state"] = "closed", "closed"
    closed["issue"]["closed_at"] = "2019-05-15T16:00:00Z"
    reopened = json.loads(json.dumps(issue))
    reopened["action"], reopened["issue"]["state"] = "reopened", "open"
    for n, payload in enumerate((issue, closed)):
        _send_event(server, "issues", f"i-{n}", payload)
    normalise.normalise_pending(server.store, server.config)
    assert server.store.query("SELECT resolved IS NOT NULL FROM incidents") == [(True,)]
    _send_event(server, "issues", "i-2", reopened)
    normalise.normalise_pending(server.store, server.config)
    assert server.store.query("SELECT resolved IS NULL FROM incidents") == [(True,)]


def _send_event(client, event: str, delivery: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    response = client.post("/webhooks/github", content=body, headers={
        "content-type": "application/json", "x-github-event": event, "x-github-delivery": delivery,
        "x-hub-signature-256": sign("gh-secret", body)})
    assert response.status_code == 202, response.text


def test_github_form_encoded_payloads_are_accepted(server):
    from urllib.parse import urlencode

    payload = (DATA / "github/deployment_status/payload.json").read_text()
    body = urlencode({"payload": payload}).encode()
    response = server.post("/webhooks/github", content=body, headers={
        "content-type": "application/x-www-form-urlencoded", "x-github-event": "deployment_status",
        "x-github-delivery": "form-1", "x-hub-signature-256": sign("gh-secret", body)})
    assert response.status_code == 202, response.text
    normalise.normalise_pending(server.store, server.config)
    assert server.store.count("deployments") == 1
    assert server.store.query("SELECT count(*) FROM raw_events WHERE error IS NOT NULL") == [(0,)]


def test_successful_runs_of_a_deploy_workflow_are_deployments(store):
    """Teams deploying from GitHub Actions without the deployments API (config deploy_workflows)."""
    payload = json.loads((DATA / "github/workflow_run/completed.payload.json").read_text())
    name = payload["workflow_run"]["name"]
    config = Config(deploy_workflows=[name[:3] + "*"])
    app = create_app(lambda: store, config, secrets=SECRETS, normaliser=False)
    with TestClient(app) as client:
        for n, conclusion in enumerate(("success", "failure")):
            event = json.loads(json.dumps(payload))
            event["workflow_run"]["conclusion"] = conclusion
            event["workflow_run"]["id"] = 1000 + n
            _send_event(client, "workflow_run", f"run-{n}", event)
        normalise.normalise_pending(store, config)
        rows = store.query("SELECT id, status, sha FROM deployments ORDER BY id")
    assert rows == [("github-run-1000", "success", payload["workflow_run"]["head_sha"]),
                    ("github-run-1001", "failure", payload["workflow_run"]["head_sha"])]


def test_workflow_runs_are_not_deployments_unless_configured(server):
    payload = json.loads((DATA / "github/workflow_run/completed.payload.json").read_text())
    _send_event(server, "workflow_run", "run-x", payload)
    normalise.normalise_pending(server.store, server.config)
    assert server.store.count("deployments") == 0
