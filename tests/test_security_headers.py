"""DNS rebinding and framing: only known Host names are answered, and pages say they may not be framed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fireline.config import Config, ServerConfig, parse_config
from fireline.errors import UserError
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.server.guard import allowed_hosts, host_of
from fireline.store import Store

SECRETS = Secrets({"github": "g", "gitlab": "t", "pagerduty": "p", "ingest": "i"})


@pytest.fixture
def duck_store(tmp_path):
    store = Store.open(str(tmp_path / "s.duckdb"))
    yield store
    store.close()


def _client(store: Store, hosts: list[str] | None, host: str = "127.0.0.1") -> TestClient:
    app = create_app(lambda: store, Config(), host=host, secrets=SECRETS, normaliser=False, page_wait=120,
                     allowed_hosts=allowed_hosts(hosts, host))
    return TestClient(app, base_url="http://127.0.0.1:8080")


def test_a_rebinding_host_is_refused(duck_store):
    with _client(duck_store, None) as client:
        assert client.get("/").status_code == 200
        for name in ("localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST."):
            assert client.get("/", headers={"host": name}).status_code == 200, name
        for name in ("evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[::2]"):
            refused = client.get("/", headers={"host": name})
            assert refused.status_code == 400, name
            assert "allowed_hosts" in refused.text
        assert client.post("/events", json={}, headers={"host": "evil.example"}).status_code == 400
        assert client.get("/healthz", headers={"host": "10.1.2.3:8080"}).status_code == 200  # probes


def test_configured_hosts_and_domains(duck_store):
    with _client(duck_store, ["fireline.example.com", "*.corp.example"], host="0.0.0.0") as client:
        for name in ("fireline.example.com", "fireline.example.com:443", "ci.corp.example", "localhost"):
            assert client.get("/healthz", headers={"host": name}).status_code == 200
            assert client.get("/metrics", headers={"host": name}).status_code == 200, name
        for name in ("corp.example", "evil.example", "fireline.example.com.evil.example"):
            assert client.get("/metrics", headers={"host": name}).status_code == 400, name
    with _client(duck_store, ["*"]) as client:
        assert client.get("/metrics", headers={"host": "anything.example"}).status_code == 200


def test_the_bound_host_is_allowed_by_default():
    assert "fireline.internal" in allowed_hosts(None, "fireline.internal")
    assert "10.0.0.5" in allowed_hosts(None, "10.0.0.5")
    assert "[fe80::1]" in allowed_hosts(None, "fe80::1")
    assert host_of("[::1]:8080") == "[::1]" and host_of("Example.COM.:80") == "example.com"


def test_allowed_hosts_is_validated():
    config = parse_config({"server": {"allowed_hosts": ["fireline.example.com", "*.corp.example"]}},
                          source="fireline.toml", base_dir=".")
    assert config.server.allowed_hosts == ["fireline.example.com", "*.corp.example"]
    with pytest.raises(UserError, match=r"server\.allowed_hosts: not a host name: 'https://x'"):
        parse_config({"server": {"allowed_hosts": ["https://x"]}}, source="fireline.toml", base_dir=".")
    assert ServerConfig().header_timeout_seconds > 0


def test_pages_may_not_be_framed_or_sniffed(duck_store):
    with _client(duck_store, None) as client:
        for path in ("/", "/report.html", "/explain/lead-time", "/healthz", "/metrics", "/openapi.json"):
            response = client.get(path)
            assert response.headers["x-frame-options"] == "DENY", path
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        page = client.get("/").headers["content-security-policy"]
        assert "default-src 'none'" in page
        # Swagger UI loads from a CDN: its page keeps only the framing rule.
        assert client.get("/docs").headers["content-security-policy"] == "frame-ancestors 'none'"
