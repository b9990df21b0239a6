"""Hostile requests to the intake get a 4xx with a reason, never a 500, and every answer is counted."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from fastapi.testclient import TestClient

from fireline.config import Config, ServerConfig
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.store import Store

SECRETS = Secrets({"github": "gh-secret", "gitlab": "gl-token", "pagerduty": "pd-secret", "ingest": "in-token"})
BEARER = {"content-type": "application/json", "authorization": "Bearer in-token"}
EVENT = {"id": "e1", "type": "deployment", "time": "2026-03-02T10:00:00Z", "service": "shop", "sha": "abcdef1"}


@pytest.fixture
def client(store):
    app = create_app(lambda: store, Config(server=ServerConfig()), secrets=SECRETS, normaliser=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.store = store
        yield c


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _status_count(client: TestClient, status: int) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'fireline_http_responses_total{{status="{status}"}}'):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize(("path", "header"), [("/webhooks/github", "x-hub-signature-256"),
                                              ("/events", "x-fireline-signature-256"),
                                              ("/webhooks/alertmanager", "x-fireline-signature-256")])
def test_a_non_ascii_signature_is_a_401_not_a_500(client, path, header):
    body = json.dumps(EVENT).encode()
    # Starlette reads header bytes as Latin-1: "\xe9" arrives as "é", which hmac.compare_digest refused.
    response = client.post(path, content=body, headers={"content-type": "application/json",
                                                        "x-github-event": "ping", "x-github-delivery": "d1",
                                                        header: ("sha256=\xe9" + "0" * 63).encode("latin-1")})
    assert response.status_code == 401, response.text
    assert client.store.count("raw_events") == 0


def test_a_non_ascii_gitlab_token_or_bearer_is_a_401(client):
    body, json_type = b"{}", {"content-type": "application/json"}
    gitlab = {**json_type, "x-gitlab-token": "t\xe9".encode("latin-1")}
    bearer = {**json_type, "authorization": "Bearer \xe9".encode("latin-1")}
    pagerduty = {**json_type, "x-pagerduty-signature": "v1=\xe9".encode("latin-1")}
    assert client.post("/webhooks/gitlab", content=body, headers=gitlab).status_code == 401
    assert client.post("/events", content=body, headers=bearer).status_code == 401
    assert client.post("/webhooks/pagerduty", content=body, headers=pagerduty).status_code == 401


def test_every_answer_is_counted_by_status(client):
    assert client.post("/events", json=EVENT, headers={"authorization": "Bearer in-token"}).status_code == 202
    assert client.post("/events", json=EVENT).status_code == 401
    assert client.get("/no-such-page").status_code == 404
    assert _status_count(client, 202) == 1 and _status_count(client, 401) == 1 and _status_count(client, 404) == 1


def test_a_server_error_is_counted_too(tmp_path):
    store = Store.open(str(tmp_path / "s.duckdb"))
    app = create_app(lambda: store, Config(), secrets=SECRETS, normaliser=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/events", json=EVENT, headers={"authorization": "Bearer in-token"}).status_code == 202
        store.close()  # the database goes away under the running server
        response = client.post("/events", json={**EVENT, "id": "e2"}, headers={"authorization": "Bearer in-token"})
        assert response.status_code == 500
        assert _status_count(client, 500) == 1


@pytest.mark.parametrize("body", [
    b'{"id": "x", "type": "deployment", "nested": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",
    b"[" * 100_000,
], ids=["5000-deep", "200-deep-objects", "100000-open"])
def test_deep_nesting_is_a_400_with_a_reason(client, body):
    github = {"content-type": "application/json", "x-github-event": "push", "x-github-delivery": "d1",
              "x-hub-signature-256": _sign("gh-secret", body)}
    pagerduty = {"content-type": "application/json",
                 "x-pagerduty-signature": "v1=" + _sign("pd-secret", body).removeprefix("sha256=")}
    gitlab = {"content-type": "application/json", "x-gitlab-token": "gl-token"}
    for path, headers in (("/events", BEARER), ("/webhooks/alertmanager", BEARER), ("/webhooks/github", github),
                          ("/webhooks/pagerduty", pagerduty), ("/webhooks/gitlab", gitlab)):
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        assert "nested" in response.json()["error"]
    assert client.store.count("raw_events") == 0


@pytest.mark.parametrize("number", [b"1" * 4301, b"-" + b"9" * 5000, b"1e999", b"-1E400", b"NaN", b"Infinity"])
def test_huge_or_non_finite_numbers_are_a_400_with_a_reason(client, number):
    body = b'{"id": "x", "type": "deployment", "time": ' + number + b"}"
    response = client.post("/events", content=body, headers=BEARER)
    assert response.status_code == 400, response.text[:300]
    assert "number" in response.json()["error"]
    assert client.store.count("raw_events") == 0


@pytest.mark.parametrize("body", [b"\xff\xfe{\x00}\x00", "{}".encode("utf-16"), b'{"id": "\xe9"}'])
def test_a_body_that_is_not_utf8_is_a_400(client, body):
    response = client.post("/events", content=body, headers=BEARER)
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]
