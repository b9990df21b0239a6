"""Synthesise a large Fireline store directly with DuckDB SQL (no git, no Python loops).

Why SQL: 10,000,000 change rows built row by row in Python would take longer than the
benchmark itself; `INSERT ... SELECT ... FROM range(n)` builds them in seconds, in the
tables `fireline.store.Store.open` creates (so the schema, keys and indexes are real).

Everything is derived from `hash(row number, salt)`, so a given size gives the same data
on every run (DuckDB's `random()` is not reproducible across threads).

Shape: SERVICES services in TEAMS teams, one repository per service; rows/50 deployments
spread over DAYS days; every change belongs to one deployment (chosen by hash, so a
deployment ships ~50 changes) with a skewed lead time of up to two weeks (0.1% negative:
clock skew); rows/2000 incidents, each linked to the latest deployment of its service
before it started (what linking.py would derive).
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SERVICES = 20
TEAMS = 4
DAYS = 730
SINCE = datetime(2023, 1, 2, tzinfo=UTC)  # a Monday, so weeks line up with the window
CHANGES_PER_DEPLOYMENT = 50
CHANGES_PER_INCIDENT = 2000
# 4: store schema 3 (changes.rework_rule; commit times and rule on deployment_changes).
GEN_VERSION = 4


def window() -> tuple[datetime, datetime]:
    return SINCE, SINCE + timedelta(days=DAYS)


def service_names() -> list[str]:
    return [f"svc-{i:02d}" for i in range(SERVICES)]


def team_of() -> dict[str, str]:
    return {s: f"team-{i % TEAMS}" for i, s in enumerate(service_names())}


def _u(expr: str, salt: int) -> str:
    """A uniform double in [0, 1) from a hash of `expr` and a salt."""
    return f"((hash({expr}, {salt}) % 1000000)::DOUBLE / 1000000)"


def _statements(rows: int) -> list[str]:
    from fireline.store.schema import rework_rule_sql

    subject = ("CASE WHEN hash(j, 11) % 10000 < 5 THEN 'Revert \"change ' || (j - 1) || '\"' "
               "WHEN hash(j, 11) % 10000 < 15 THEN 'hotfix: change ' || j ELSE 'change ' || j END")
    deps = max(rows // CHANGES_PER_DEPLOYMENT, SERVICES)
    incidents = max(rows // CHANGES_PER_INCIDENT, 10)
    span = DAYS * 86400
    step = span / deps
    since = f"TIMESTAMPTZ '{SINCE.isoformat()}'"
    svc = f"'svc-' || lpad((({{d}}) % {SERVICES})::VARCHAR, 2, '0')"
    # Deployment d happens at d*step plus jitter inside its own step: times rise with d,
    # so each service's first deployment is d = service number (its baseline).
    dep_time = f"{since} + to_seconds(floor({{d}} * {step} + {_u('{d}', 1)} * {step})::BIGINT)"
    return [
        "SET TimeZone = 'UTC'",
        f"""INSERT INTO deployments (id, service, environment, sha, time, status, type, source, ref, repo)
        SELECT 'dep-' || d, {svc.format(d='d')},
               CASE WHEN d >= {SERVICES} AND hash(d, 2) % 100 = 0 THEN 'staging' ELSE 'production' END,
               md5('head' || d) || substr(md5('h2' || d), 1, 8),
               {dep_time.format(d='d')},
               CASE WHEN d >= {SERVICES} AND hash(d, 3) % 100 = 1 THEN 'failure' ELSE 'success' END,
               CASE WHEN hash(d, 4) % 100 < 2 THEN 'hotfix' WHEN hash(d, 4) % 200 = 2 THEN 'rollback' END,
               'file', NULL, 'repo-' || {svc.format(d='d')}
        FROM range({deps}) t(d)""",
        # Change j ships with deployment hash(j) % deps; lead = u^3 * 14 days (most are short).
        f"""CREATE TEMP TABLE _l AS
        SELECT j, hash(j, 5) % {deps} AS d,
               CASE WHEN hash(j, 6) % 1000 = 0 THEN -{_u('j', 7)} * 3600
                    ELSE pow({_u('j', 8)}, 3) * 14 * 86400 END AS lead
        FROM range({rows}) t(j)""",
        # Each commit's times once: `changes` and the links that carry them (schema 3) agree exactly.
        f"""CREATE TEMP TABLE _c AS
        SELECT j, d, {dep_time.format(d='d')} - to_seconds((lead + {_u('j', 10)} * 3600)::BIGINT) AS a_time,
               {dep_time.format(d='d')} - to_seconds(lead::BIGINT) AS c_time
        FROM _l""",
        "DROP TABLE _l",
        f"""INSERT INTO changes (repo, sha, parents, author_name, author_email, author_time, author_offset,
                                 committer_name, committer_email, committer_time, committer_offset, subject,
                                 message, files_changed, lines_added, lines_removed, rework_rule)
        SELECT 'repo-' || {svc.format(d='d')}, md5('c' || j) || substr(md5('x' || j), 1, 8),
               md5('c' || (j - 1)) || substr(md5('x' || (j - 1)), 1, 8),
               'dev ' || (hash(j, 9) % 300), 'dev' || (hash(j, 9) % 300) || '@example.com',
               a_time, 60 * ((hash(j, 9) % 25)::INTEGER - 12),
               'dev ' || (hash(j, 9) % 300), 'dev' || (hash(j, 9) % 300) || '@example.com',
               c_time, 60 * ((hash(j, 9) % 25)::INTEGER - 12),
               subject, 'change ' || j,
               1 + hash(j, 12) % 5, hash(j, 13) % 200, hash(j, 14) % 100, {rework_rule_sql()}
        FROM (SELECT *, {subject} AS subject FROM _c)""",
        # Links only for counted deployments, as linking.py derives them.
        f"""INSERT INTO deployment_changes
        SELECT 'dep-' || c.d, {svc.format(d='c.d')}, 'repo-' || {svc.format(d='c.d')},
               md5('c' || c.j) || substr(md5('x' || c.j), 1, 8), c.d < {SERVICES}, 'ancestry', c.c_time, c.a_time,
               {rework_rule_sql('c.subject')}
        FROM (SELECT *, {subject} AS subject FROM _c) c JOIN deployments p ON p.id = 'dep-' || c.d
        WHERE p.status = 'success' AND p.environment = 'production'""",
        "DROP TABLE _c",
        # Incidents last u^3 * 24 h (+5 min; mean ~6 h); the few that start in the last 3 days are still open.
        f"""INSERT INTO incidents
        SELECT 'inc-' || k, {svc.format(d=f'hash(k, 15) % {SERVICES}')}, 'incident ' || k, s,
               s + to_seconds((hash(k, 16) % 3600)::BIGINT),
               CASE WHEN s > {since} + INTERVAL {DAYS - 3} DAY THEN NULL
                    ELSE s + to_seconds((pow({_u("k", 17)}, 3) * 24 * 3600 + 300)::BIGINT) END,
               'sev' || (1 + hash(k, 18) % 3), 'alert', NULL, 'file'
        FROM (SELECT k, {since} + to_seconds((hash(k, 19) % {span})::BIGINT) AS s
              FROM range({incidents}) t(k))""",
        """INSERT INTO incident_deployments
        SELECT i.id, d.id, 'latest-before'
        FROM incidents i ASOF JOIN (SELECT id, service, time FROM deployments
                                    WHERE status = 'success' AND environment = 'production') d
          ON i.service = d.service AND i.started >= d.time""",
        "CHECKPOINT",
    ]


def generate(out_dir: Path, rows: int) -> tuple[Path, dict]:
    """Path of the (possibly cached) DuckDB store and facts about it."""
    from fireline.store import Store

    name = f"store-r{rows}-v{GEN_VERSION}"
    path, marker = out_dir / f"{name}.duckdb", out_dir / f"{name}.json"
    if marker.exists() and path.exists():
        return path, {**json.loads(marker.read_text()), "cached": True}
    for stale in (path, Path(str(path) + ".wal")):
        if stale.exists():
            stale.unlink() if stale.is_file() else shutil.rmtree(stale)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store = Store.open(str(path))
    try:
        raw = store.raw
        for sql in _statements(rows):
            raw.execute(sql)
        counts = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("changes", "deployment_changes", "deployments", "incidents", "incident_deployments")}
    finally:
        store.close()
    facts = {"rows": rows, "counts": counts, "generate_seconds": round(time.perf_counter() - started, 3),
             "file_bytes": path.stat().st_size, "version": GEN_VERSION}
    marker.write_text(json.dumps(facts, indent=2))
    return path, {**facts, "cached": False}


if __name__ == "__main__":
    import sys

    print(generate(Path(sys.argv[2] if len(sys.argv) > 2 else "bench/out"), int(sys.argv[1])))
