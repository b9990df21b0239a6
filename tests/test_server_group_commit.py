"""Group commit: a request whose rows the store refuses fails alone; the others in its batch are stored."""

from __future__ import annotations

import json
import random
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from fireline.config import Config
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.server.group_commit import GroupCommitter, RowRefused
from fireline.store import Store, pending_raw_event

SECRETS = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})
INNOCENT = 9
HEADERS = {"authorization": "Bearer in-token", "content-type": "application/json"}


def _event(n: int, event_id: str | None = None) -> dict:
    return {"id": event_id or f"e{n}", "type": "deployment", "time": f"2026-03-02T10:{n % 60:02d}:00Z",
            "service": "shop", "sha": f"{n + 1:07x}"}


def _one_batch(client: TestClient, events: list[dict]) -> list:
    """Post the events so that they share one group commit: the committer is paused until all wait."""
    committer = client.app.state.committer
    with ThreadPoolExecutor(len(events)) as pool, committer.paused():
        futures = [pool.submit(client.post, "/events", content=json.dumps(e), headers=HEADERS) for e in events]
        # Every request is either waiting for the commit or already answered (refused before it).
        while committer.waiting + sum(f.done() for f in futures) < len(events):
            threading.Event().wait(0.01)
    return [f.result() for f in futures]


@pytest.mark.parametrize("bad_id", ["nul\u0000id", "lone\ud800surrogate"], ids=["nul", "surrogate"])
def test_a_refused_event_fails_alone_in_its_batch(store, bad_id):
    # On PostgreSQL a NUL (or a lone surrogate) in one /events id failed all 200 requests of its round.
    # The store now writes such text as U+FFFD: either it is stored, or refused alone, never a 500.
    app = create_app(lambda: store, Config(), secrets=SECRETS, normaliser=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        events = [_event(n) for n in range(INNOCENT)]
        events.insert(4, _event(99, bad_id))
        answers = _one_batch(client, events)
        statuses = [a.status_code for a in answers]
        assert statuses[:4] + statuses[5:] == [202] * INNOCENT, [a.text for a in answers]
        assert statuses[4] in (202, 422), answers[4].text
        if statuses[4] == 422:
            assert answers[4].json()["error"]
        assert store.count("raw_events") == INNOCENT + (statuses[4] == 202)


def _rows(n: int, delivery_id: str | None = None) -> list[tuple]:
    return [pending_raw_event("events", delivery_id or f"d{n}", "deployment", "{}", datetime.now(UTC), "{}")]


@pytest.mark.postgres
def test_a_batch_with_a_row_the_store_refuses_commits_everything_else(pg_url):
    # A key too large for PostgreSQL's primary-key index is a refusal of that one row: the others commit.
    store = Store.open(pg_url)
    try:
        committer = GroupCommitter(lambda: store, threading.Lock())
        huge = "".join(random.Random(7).choices(string.ascii_letters, k=9000))
        requests = [_rows(n) for n in range(5)] + [_rows(5, huge)] + [_rows(n) for n in range(6, 12)]
        requests.append(_rows(0))  # a re-delivery of d0 in the same batch
        outcomes = committer.commit_batch(requests)
        assert isinstance(outcomes[5], RowRefused) and "the store refused" in str(outcomes[5])
        assert outcomes[:5] + outcomes[6:] == [1] * 11 + [0]
        assert store.count("raw_events") == 11
    finally:
        store.close()


def test_a_server_fault_is_not_blamed_on_the_request(tmp_path):
    store = Store.open(str(tmp_path / "s.duckdb"))
    committer = GroupCommitter(lambda: store, threading.Lock())
    store.close()  # the database is gone: every request fails, none as the input's fault
    outcomes = committer.commit_batch([_rows(n) for n in range(4)])
    assert all(isinstance(o, Exception) and not isinstance(o, RowRefused) for o in outcomes)
