"""One bad event never stops the intake.

Regression tests for the poison event: an accepted event whose text the store could not
encode (a lone surrogate on DuckDB, NUL on PostgreSQL) rolled back the normaliser's whole
batch every round, so nothing after it was ever normalised, `/healthz` said "ok" and
`fireline rebuild` died with a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fireline import failures, ingest, normalise
from fireline.cli import app as cli
from fireline.config import Config, ServerConfig
from fireline.errors import UserError
from fireline.server.app import create_app
from fireline.store import Store, pending_raw_event

from . import test_server as intake

SECRETS = intake.SECRETS
server = intake.server  # the intake on both engines, as test_server runs it

DATA = Path(__file__).resolve().parent / "data" / "webhooks"
TOKEN = {"authorization": "Bearer in-token", "content-type": "application/json"}
SHA = "88e5fae1a6b62cac81ad7c1c8780a4a12d2c50bc"


def deployment_event(n: int, service: str = "purger") -> dict:
    return {"id": f"deploy-{n}", "type": "deployment", "time": f"2026-11-18T16:{n:02d}:00Z",
            "service": service, "sha": SHA}


def post_event(client: TestClient, event: dict | str) -> int:
    body = event if isinstance(event, str) else json.dumps(event)
    return client.post("/events", content=body, headers=TOKEN).status_code


def github_issue_with_title(title_json: str) -> tuple[bytes, dict]:
    """A real GitHub `issues` payload labelled incident, its title given as JSON source text."""
    payload = json.loads((DATA / "github/issues/labeled.payload.json").read_text())
    payload["issue"]["labels"] = [{"name": "incident"}]
    payload["issue"]["title"] = "@@TITLE@@"
    body = json.dumps(payload).replace('"@@TITLE@@"', title_json).encode()
    signature = "sha256=" + hmac.new(b"gh-secret", body, hashlib.sha256).hexdigest()
    return body, {"content-type": "application/json", "x-github-event": "issues",
                  "x-github-delivery": "poison-issue-1", "x-hub-signature-256": signature}


def drain(store: Store, config: Config) -> None:
    while normalise.normalise_pending(store, config):
        pass


def test_a_lone_surrogate_in_an_issue_title_is_stored_cleaned_and_the_rest_follow(server):
    body, headers = github_issue_with_title('"disk full \\ud800 on purger"')
    assert server.post("/webhooks/github", content=body, headers=headers).status_code == 202
    assert post_event(server, deployment_event(1)) == 202
    drain(server.store, server.config)
    titles = [r[0] for r in server.store.query("SELECT title FROM incidents")]
    assert titles == ["disk full \ufffd on purger"]
    assert server.store.count("deployments") == 1
    assert normalise.pending_count(server.store)[0] == 0
    assert failures.failed_events(server.store) == []


def test_a_lone_surrogate_in_an_alertname_is_stored_cleaned(server):
    notification = json.loads((DATA / "alertmanager/firing.json").read_text())
    notification["alerts"] = notification["alerts"][:1]
    notification["alerts"][0]["labels"]["alertname"] = "@@NAME@@"
    body = json.dumps(notification).replace('"@@NAME@@"', '"Disk\\udfffFull"')
    response = server.post("/webhooks/alertmanager", content=body, headers=TOKEN)
    assert response.status_code == 202, response.text
    assert post_event(server, deployment_event(2)) == 202
    drain(server.store, server.config)
    assert [r[0] for r in server.store.query("SELECT name FROM alert_events")] == ["Disk\ufffdFull"]
    assert server.store.count("deployments") == 1


def test_nul_in_an_events_service_is_stored_cleaned_and_the_rest_follow(server):
    poisoned = json.dumps(deployment_event(3, service="pur\u0000ger"))
    assert "\\u0000" in poisoned
    assert post_event(server, poisoned) == 202
    assert post_event(server, deployment_event(4)) == 202
    drain(server.store, server.config)
    services = {r[0] for r in server.store.query("SELECT service FROM deployments")}
    assert services == {"pur\ufffdger", "purger"}


def test_nul_in_an_events_id_is_stored_cleaned_and_a_surrogate_refused_naming_the_field(server):
    assert post_event(server, json.dumps({**deployment_event(5), "id": "a\u0000b"})) == 202
    refused = server.post("/events", headers=TOKEN, content=(
        '{"id": "c\\ud800d", "type": "deployment", "time": "2026-11-18T16:06:00Z", '
        f'"service": "purger", "sha": "{SHA}"}}'))
    assert refused.status_code == 422 and refused.json()["error"].startswith("id:")
    assert [r[0] for r in server.store.query("SELECT delivery_id FROM raw_events")] == ["a\ufffdb"]
    drain(server.store, server.config)
    assert server.store.count("deployments") == 1


def store_raw(store: Store, delivery_id: str, payload: str, source: str = "events", kind: str = "deployment") -> None:
    """A raw event as an older version of the intake stored it, before today's checks at the door."""
    from datetime import UTC, datetime

    with store.transaction() as tx:
        tx.insert_values("raw_events", [pending_raw_event(source, delivery_id, kind, payload, datetime.now(UTC),
                                                          None)])


def test_an_event_that_cannot_be_parsed_fails_alone_and_the_batch_commits(store):
    config = Config()
    store_raw(store, "good-1", json.dumps(deployment_event(1)))
    store_raw(store, "deep", "[" * 100_000 + "]" * 100_000)
    store_raw(store, "good-2", json.dumps(deployment_event(2)))
    drain(store, config)
    assert store.count("deployments") == 2
    failed = failures.failed_events(store)
    assert [(f.source, f.delivery_id) for f in failed] == [("events", "deep")]
    assert "RecursionError" in failed[0].error or "nested" in failed[0].error
    assert normalise.pending_count(store)[0] == 0


@pytest.mark.postgres
def test_an_event_the_store_refuses_fails_alone_and_can_be_retried(pg_url, tmp_path):
    store = Store.open(pg_url)
    config = Config()
    # An operator's own rule on the table: the store refuses that one record, whatever Fireline does.
    store.query("ALTER TABLE deployments ADD CONSTRAINT no_test_service CHECK (service <> 'refused')")
    store.raw.commit()
    for n in range(1, 6):
        store_raw(store, f"e{n}", json.dumps(deployment_event(n, service="refused" if n == 3 else "purger")))
    drain(store, config)
    assert store.count("deployments") == 4
    failed = failures.failed_events(store)
    assert [f.delivery_id for f in failed] == ["e3"]
    assert "no_test_service" in failed[0].error

    runner = CliRunner()
    listed = runner.invoke(cli, ["events", "failed", "--db", pg_url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["source"], r["delivery_id"]) for r in rows] == [("events", "e3")]
    assert "no_test_service" in rows[0]["error"]

    again = runner.invoke(cli, ["events", "retry", "e3", "--db", pg_url, "--json"])
    assert again.exit_code == 1, again.output  # still failing: said, and the exit code tells a script
    assert json.loads(again.output)["still_failing"] == 1

    store.query("ALTER TABLE deployments DROP CONSTRAINT no_test_service")
    store.raw.commit()
    fixed = runner.invoke(cli, ["events", "retry", "--db", pg_url, "--json"])
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.output) == {"retried": 1, "normalised": 1, "still_failing": 0}
    assert store.count("deployments") == 5
    assert failures.failed_events(store) == []
    store.close()


def test_retrying_an_unknown_event_id_is_bad_input(duck):
    result = CliRunner().invoke(cli, ["events", "retry", "nope", "--db", duck.url])
    assert isinstance(result.exception, UserError)  # main() prints it and exits 2
    assert "'nope'" in str(result.exception) and "no failed event" in str(result.exception)


def test_healthz_is_degraded_while_events_fail_and_metrics_count_them(duck):
    config = Config(server=ServerConfig(normalise_interval_seconds=0.05))
    store_raw(duck, "deep", "[" * 100_000 + "]" * 100_000)
    app = create_app(lambda: duck, config, secrets=SECRETS, normaliser=False)
    with TestClient(app) as client:
        drain(duck, config)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["failed"] == 1
        assert any("failed" in reason for reason in health.json()["reasons"])
        text = client.get("/metrics").text
        assert "fireline_normalisation_failed 1.0" in text
        assert "fireline_normalisation_pending 0.0" in text


def test_healthz_is_degraded_when_the_queue_has_not_drained_in_time(duck):
    config = Config(server=ServerConfig(normalise_interval_seconds=0.05, max_pending_age_seconds=0))
    app = create_app(lambda: duck, config, secrets=SECRETS, normaliser=False)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert post_event(client, deployment_event(1)) == 202
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert health.json()["pending"] == 1
        assert "fireline_normalisation_pending 1.0" in client.get("/metrics").text
        drain(duck, config)
        assert client.get("/healthz").status_code == 200


def test_rebuild_reports_the_failed_events_and_rebuilds_the_rest(duck, tmp_path):
    config = Config()
    store_raw(duck, "good-1", json.dumps(deployment_event(1)))
    drain(duck, config)
    store_raw(duck, "deep", "[" * 100_000 + "]" * 100_000)
    # A deployments-file raw event an older parser accepted and today's refuses.
    store_raw(duck, "file-row-1", json.dumps({"id": "d1", "service": "purger"}), source=f"file:{tmp_path}/d.csv",
              kind="deployment-row")
    store_raw(duck, "good-2", json.dumps(deployment_event(2)))
    counts = ingest.rebuild(duck, config)
    assert counts["failed"] == 2
    assert duck.count("deployments") == 2
    assert sorted(f.delivery_id for f in failures.failed_events(duck)) == ["deep", "file-row-1"]

    result = CliRunner().invoke(cli, ["rebuild", "--db", duck.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["failed"] == 2
