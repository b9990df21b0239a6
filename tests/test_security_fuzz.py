"""Hostile payloads at every intake route: never a 5xx, and nothing stored when a request is refused."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fireline.config import Config
from fireline.server.app import create_app
from fireline.server.auth import Secrets

# No secrets: on loopback every sender is accepted unsigned, so each payload reaches the parsers.
OPEN = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": None})
ROUTES = ["/events", "/webhooks/github", "/webhooks/gitlab", "/webhooks/alertmanager", "/webhooks/pagerduty"]

text = st.text(alphabet=st.characters(codec=None), max_size=20) | st.sampled_from(
    ["\u0000", "a\u0000b", "\ud800", "x\udfff", "\ufeff", " ", "\x85", "0001-01-01T00:00:00Z", "2026-03-02T10:00:00Z"])
numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([10**30, -(10**40)])
scalars = st.none() | st.booleans() | numbers | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                      max_leaves=10)
# Shapes close to what each sender sends, with hostile leaves, so the parsers' deeper paths run too.
shaped = st.fixed_dictionaries({}, optional={
    "id": values, "type": st.sampled_from(["deployment", "incident", "change", "feature_flag"]) | values,
    "time": values, "service": values, "sha": values, "author": values, "action": values, "started": values,
    "object_kind": st.sampled_from(["push", "deployment", "issue"]) | values, "alerts": st.lists(
        st.fixed_dictionaries({}, optional={"labels": st.dictionaries(text, values, max_size=3) | values,
                                            "status": st.sampled_from(["firing", "resolved"]) | values,
                                            "startsAt": values, "endsAt": values, "fingerprint": values}),
        max_size=3),
    "event": st.fixed_dictionaries({}, optional={"id": values, "event_type": values, "occurred_at": values,
                                                 "data": values})})


def _encode(payload: object) -> bytes:
    return json.dumps(payload).encode()  # lone surrogates and NUL go as \\u escapes


raw_bodies = st.one_of(
    shaped.map(_encode), values.map(_encode),
    st.binary(max_size=64),  # not UTF-8, not JSON
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
    st.integers(70, 400).map(lambda n: b'{"id": ' + b'{"a": ' * n + b"1" + b"}" * n + b"}"),
    st.integers(100, 6000).map(lambda n: b'{"id": "x", "time": ' + b"9" * n + b"}"),  # huge numbers
    st.sampled_from([b'{"id": NaN}', b'{"id": 1e999}', b"\xef\xbb\xbf{}", "{}".encode("utf-16"), b"{}", b"[]"]),
)
headers = st.fixed_dictionaries({"content-type": st.sampled_from(["application/json", "text/plain",
                                                                   "application/x-www-form-urlencoded"])},
                                optional={"x-github-event": st.sampled_from(["push", "issues", "deployment_status",
                                                                             "workflow_run", "ping", " "]),
                                          "x-github-delivery": st.sampled_from(["d1", " ", "d" * 300, "dé"]),
                                          "x-gitlab-event": st.sampled_from(["Push Hook", "Issue Hook",
                                                                             "System Hook"])})


@pytest.fixture
def client(store):
    app = create_app(lambda: store, Config(), secrets=OPEN, normaliser=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.store = store
        yield c


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_payloads_never_get_a_server_error(client, route):
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(body=raw_bodies, head=headers)
    def run(body: bytes, head: dict[str, str]) -> None:
        before = client.store.count("raw_events")
        wire = {k: v.encode("utf-8") for k, v in head.items()}
        response = client.post(route, content=body, headers=wire)
        assert response.status_code < 500, (route, body[:200], head, response.text[:300])
        stored = client.store.count("raw_events") - before
        if response.status_code >= 400:
            assert stored == 0, (route, body[:200], response.text[:300])
            assert response.json()["error"]
        else:
            assert stored == response.json()["stored"]

    run()
