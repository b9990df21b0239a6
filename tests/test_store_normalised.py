"""Status and environment are compared case-insensitively: the store keeps them lower-cased, so the
metrics compare plain columns (a planner can use their statistics), on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from fireline.config import Config
from fireline.ingest import ingest_deployments
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.store import SCHEMA_VERSION, Store

SCOPE = Scope(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
WHEN = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _deployments(store: Store) -> int:
    return summarise(store.tables(), SCOPE, SEED).overall.metrics["deployment_frequency"].count


def test_a_deployment_written_as_SUCCESS_to_Production_counts(store):
    with store.transaction() as tx:
        tx.insert("deployments", {"id": ["d1", "d2"], "service": ["api", "api"], "environment": ["Production", "QA"],
                                  "sha": ["a" * 40, "b" * 40], "time": [WHEN, WHEN], "status": ["SUCCESS", "Success"],
                                  "source": ["file", "file"], "stage": ["Canary", None]})
    assert _deployments(store) == 1
    assert [r[0] for r in store.counted_deployments(["PRODUCTION"])] == ["d1"]
    assert store.query("SELECT environment, status, stage FROM deployments ORDER BY id") == [
        ("production", "success", "canary"), ("qa", "success", None)]


def test_a_deployment_file_saying_Production_counts(store, tmp_path):
    path = tmp_path / "deploys.csv"
    path.write_text(f"time,service,environment,sha,status,id\n{WHEN.isoformat()},api,Production,{'a' * 40},"
                    f"SUCCESS,d1\n")
    assert ingest_deployments(store, Config(), path).new_deployments == 1
    assert _deployments(store) == 1
    assert store.query("SELECT environment, status FROM deployments") == [("production", "success")]


def test_a_store_of_the_previous_schema_is_lower_cased_when_opened(store):
    with store.transaction() as tx:
        tx.insert("deployments", {"id": ["d1"], "service": ["api"], "environment": ["production"], "sha": ["a" * 40],
                                  "time": [WHEN], "status": ["success"], "source": ["file"]})
        tx.insert("feature_flags", {"id": ["f1"], "service": ["api"], "flag": ["x"], "time": [WHEN],
                                    "state": ["off"], "source": ["file"]})
        # As version 1 wrote them: the values as the source spelled them.
        tx.execute("UPDATE deployments SET environment = 'Production', status = 'SUCCESS'")
        tx.execute("UPDATE feature_flags SET state = 'OFF'")
        tx.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    reopened = Store.open(store.url, create=False)
    try:
        assert reopened.query("SELECT environment, status FROM deployments") == [("production", "success")]
        assert reopened.query("SELECT state FROM feature_flags") == [("off",)]
        assert reopened.query("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
        assert _deployments(reopened) == 1
    finally:
        reopened.close()
