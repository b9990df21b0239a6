"""The store flags revert/hotfix commits and copies each commit link's commit times when it writes them,
so `summarise` reads neither every subject nor every commit; an older store is brought up to date when
it is opened, and so is one whose rules differ. On DuckDB and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.store import SCHEMA_VERSION, Store

SCOPE = Scope(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
SUBJECTS = ["Add the export", 'Revert "Add the export"', "HOTFIX: disk full", "Hot fix for the purger", None]


def _fill(store: Store) -> None:
    shas = [f"{i:040x}" for i in range(1, len(SUBJECTS) + 1)]
    with store.transaction() as tx:
        tx.insert("changes", {
            "repo": ["r"] * len(shas), "sha": shas, "parents": ["", *shas[:-1]], "subject": SUBJECTS,
            "committer_time": [T0 + timedelta(hours=i) for i in range(len(shas))],
            "author_time": [T0 + timedelta(hours=i, minutes=-30) for i in range(len(shas))]})
        when = [T0 - timedelta(days=1), T0 + timedelta(days=1)] + [T0 + timedelta(days=2 + i) for i in range(3)]
        tx.insert("deployments", {
            "id": [f"d{i}" for i in range(5)], "service": ["api"] * 5, "environment": ["production"] * 5,
            "sha": shas, "time": when, "status": ["success"] * 5, "source": ["file"] * 5})
        tx.insert("deployment_changes", {
            "deployment_id": [f"d{i}" for i in range(5)], "service": ["api"] * 5, "repo": ["r"] * 5, "sha": shas,
            "baseline": [True, False, False, False, False], "via": ["ancestry"] * 5})


def _figures(store: Store, basis: str = "committer") -> tuple:
    scope = Scope(SCOPE.since, SCOPE.until, time_basis=basis)
    m = summarise(store.tables(), scope, SEED).overall.metrics
    return (m["rework_rate"].details["rework"], m["rework_rate"].count, m["lead_time"].value, m["lead_time"].count)


def test_commits_are_flagged_and_links_carry_their_commit_times(store):
    _fill(store)
    assert store.query("SELECT subject, rework_rule FROM changes ORDER BY sha") == [
        ("Add the export", None), ('Revert "Add the export"', "subject starts with 'revert'"),
        ("HOTFIX: disk full", "subject contains 'hotfix'"),
        ("Hot fix for the purger", "subject starts with 'hot fix'"), (None, None)]
    links = store.query("SELECT l.sha FROM deployment_changes l JOIN changes c ON c.repo = l.repo AND c.sha = l.sha "
                        "WHERE l.committer_time = c.committer_time AND l.author_time = c.author_time "
                        "AND l.rework_rule IS NOT DISTINCT FROM c.rework_rule")
    assert len(links) == 5
    # Three of the five deployments ship a revert or hotfix; lead times from the links' times.
    assert _figures(store)[:2] == (3, 5)
    assert _figures(store)[2] == _figures(store, "author")[2] - 0.5


def test_a_store_of_schema_2_gets_its_flags_and_link_times_when_opened(store):
    _fill(store)
    expected = (_figures(store), _figures(store, "author"))
    with store.transaction() as tx:
        # As schema 2 left them: no flags, no times on the links.
        tx.execute("UPDATE changes SET rework_rule = NULL")
        tx.execute("UPDATE deployment_changes SET committer_time = NULL, author_time = NULL, rework_rule = NULL")
        tx.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        tx.execute("DELETE FROM meta WHERE key = 'rework_rules'")
    reopened = Store.open(store.url, create=False)
    try:
        assert reopened.query("SELECT count(*) FROM changes WHERE rework_rule IS NOT NULL") == [(3,)]
        assert reopened.query("SELECT count(*) FROM deployment_changes WHERE rework_rule IS NOT NULL") == [(3,)]
        assert reopened.query("SELECT count(*) FROM deployment_changes WHERE committer_time IS NULL "
                              "OR author_time IS NULL") == [(0,)]
        assert reopened.query("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
        assert (_figures(reopened), _figures(reopened, "author")) == expected
    finally:
        reopened.close()


def test_flags_written_under_other_rules_are_recomputed_when_opened(store):
    _fill(store)
    with store.transaction() as tx:
        tx.execute("UPDATE changes SET rework_rule = 'an old rule' WHERE subject = 'Add the export'")
        tx.execute("UPDATE deployment_changes SET rework_rule = 'an old rule' WHERE sha = ?", [f"{1:040x}"])
        tx.execute("UPDATE meta SET value = '[]' WHERE key = 'rework_rules'")
    reopened = Store.open(store.url, create=False)
    try:
        assert reopened.query("SELECT rework_rule FROM changes WHERE subject = 'Add the export'") == [(None,)]
        assert reopened.query("SELECT count(*) FROM deployment_changes WHERE rework_rule IS NOT NULL") == [(3,)]
        assert _figures(reopened)[:2] == (3, 5)
    finally:
        reopened.close()


def test_postgres_can_look_commits_up_by_sha_alone(store):
    """A relink of only some services looks commits up by sha (deployed_commits, commits_with_prefix) and
    deletes those services' links: indexed on PostgreSQL, also after a full relink re-creates the links."""
    _fill(store)
    with store.transaction() as tx:
        tx.replace_all("deployment_changes", {"deployment_id": ["d1"], "service": ["api"], "repo": ["r"],
                                              "sha": [f"{2:040x}"], "baseline": [False], "via": ["ancestry"]})
    if store.kind == "postgres":
        assert store.engine.has_index("changes_sha")
        assert store.engine.has_index("deployment_changes_service")
        assert store.engine.has_index("deployment_changes_rework")
    assert store.query("SELECT committer_time FROM deployment_changes") == [(T0 + timedelta(hours=1),)]
    assert store.commits_with_prefix("00000000000000000000000000000000000000") == [("r", f"{i:040x}")
                                                                                   for i in range(1, 6)]


@pytest.mark.postgres
def test_a_postgres_store_without_the_rework_links_index_gets_it_when_opened(pg_url):
    """Stores made before the partial index on the links of revert and hotfix commits get it when next
    opened, and the rework flags' links are then read through it rather than by a scan of every link."""
    store = Store.open(pg_url)
    try:
        _fill(store)
        expected = _figures(store)
        with store.transaction() as tx:
            tx.execute("DROP INDEX deployment_changes_rework")
        assert not store.engine.has_index("deployment_changes_rework")
    finally:
        store.close()
    reopened = Store.open(pg_url, create=False)
    try:
        assert reopened.engine.has_index("deployment_changes_rework")
        with reopened.raw.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN SELECT deployment_id FROM deployment_changes "
                        "WHERE NOT baseline AND rework_rule IS NOT NULL")
            plan = "\n".join(row[0] for row in cur.fetchall())
            cur.execute("RESET enable_seqscan")
        assert "deployment_changes_rework" in plan, plan
        assert _figures(reopened) == expected
    finally:
        reopened.close()
