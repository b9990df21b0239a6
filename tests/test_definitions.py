"""Property tests of the DORA definitions: random small stores, every figure of `fireline dora`
against tests/reference_dora.py, a plain reference written from docs/metrics.md.

Each example is a small world: one or two services, each deploying from its own repository (a
commit graph with linear runs and branches merged back), deployments at increasing or equal times
(batched deploys, redeploys of shipped commits, rollbacks, failed and staging deployments, canary
and partial steps, abbreviated shas) and incidents with and without a named cause (a deployment id,
a full or abbreviated sha, or nothing that resolves) and with and without a resolution. It goes
into a real store the normal way (commit columns and relinking as the git pass writes them,
deployment and incident files through `fireline.ingest`) and the summary is compared, overall and
per service, on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline import ingest, linking
from fireline.columns import ChangeColumns
from fireline.config import Config
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.model import Change
from fireline.store import TABLES, Store

from . import reference_dora
from .reference_dora import Commit, Dep, Inc, World, expected

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
SUBJECTS = ["Add the export step", "Tune the purger", "Revert \"Tune the purger\"", "hotfix: null check",
            "Hot fix for the timeout", "Fix the flaky test", "Make HOTFIX builds faster", "Update docs"]
CONFIG = Config()


def sha_of(repo: str, i: int) -> str:
    return hashlib.sha1(f"{repo}/{i}".encode()).hexdigest()


def sha_of_prefix(world: World, service: str, sha: str) -> str:
    """The other spelling of a deployed commit: its full sha for an abbreviation, and back."""
    full = next(s for s in world.commits[service] if s.startswith(sha))
    return full[:12] if sha == full else full


@st.composite
def worlds(draw) -> tuple[World, datetime, datetime]:
    since = MONDAY + timedelta(hours=draw(st.integers(0, 100)))
    until = since + timedelta(hours=draw(st.integers(24 * 4, 24 * 20)))
    start = since - timedelta(days=5)
    services = ["A", "B"][:draw(st.integers(1, 2))]
    world = World()
    for repo in services:
        commits: dict[str, Commit] = {}
        shas: list[str] = []
        for i in range(draw(st.integers(1, 10))):
            if i == 0:
                parents: tuple[str, ...] = ()
            else:
                first = draw(st.integers(max(0, i - 3), i - 1))  # mostly linear runs
                merge = draw(st.one_of(st.none(), st.integers(0, i - 1)))
                parents = (shas[first],) if merge is None or merge == first else (shas[first], shas[merge])
            base = max((commits[p].time for p in parents), default=start)
            sha = sha_of(repo, i)
            commits[sha] = Commit(sha, parents, base + timedelta(hours=draw(st.integers(0, 40)),
                                                                 minutes=draw(st.integers(0, 59))),
                                  draw(st.sampled_from(SUBJECTS)))
            shas.append(sha)
        world.commits[repo] = commits

    span = int((until - start).total_seconds() // 3600) + 48  # some deployments after the window
    last = start
    for k in range(draw(st.integers(0, 10))):
        service = draw(st.sampled_from(services))
        sha = draw(st.sampled_from(sorted(world.commits[service])))
        if draw(st.integers(0, 4)) == 0:
            sha = sha[:12]  # abbreviated, as a deployments file may give it
        if k and draw(st.integers(0, 3)) == 0:
            when = last  # at the same time as the previous one
        else:
            when = start + timedelta(hours=draw(st.integers(0, span)), minutes=draw(st.integers(0, 59)))
        last = when
        world.deployments.append(Dep(
            id=f"dep-{k}", service=service, sha=sha, time=when,
            environment=draw(st.sampled_from(["production"] * 4 + ["Production", "staging"])),
            status=draw(st.sampled_from(["success"] * 5 + ["failure"])),
            type=draw(st.sampled_from([None] * 5 + ["hotfix", "Rollback", "feature"])),
            stage=draw(st.sampled_from([None] * 4 + ["canary", "partial", "full"])),
        ))
        if world.deployments[-1].stage in ("canary", "partial") and draw(st.booleans()):
            # The rollout goes on to full, at once or later, with the full or the abbreviated sha.
            last = when + timedelta(hours=draw(st.sampled_from([0, 1, 30])))
            world.deployments.append(Dep(id=f"dep-{k}-full", service=service, sha=draw(st.sampled_from(
                [sha, sha_of_prefix(world, service, sha)])), time=last, stage="full"))

    dep_ids = [d.id for d in world.deployments]
    all_shas = [s for commits in world.commits.values() for s in commits]
    causes = st.one_of(st.none(), st.just("no-such-cause"), st.sampled_from(all_shas),
                       st.sampled_from(all_shas).map(lambda s: s[:10].upper()),
                       *([st.sampled_from(dep_ids)] if dep_ids else []))
    for k in range(draw(st.integers(0, 6))):
        started = start + timedelta(hours=draw(st.integers(0, span)), minutes=draw(st.integers(0, 59)))
        resolved = draw(st.one_of(st.none(), st.integers(0, 100 * 60).map(lambda m: timedelta(minutes=m))))
        world.incidents.append(Inc(
            id=f"inc-{k}", service=draw(st.sampled_from(services)), started=started,
            resolved=None if resolved is None else started + resolved, cause=draw(causes)))
    return world, since, until


def write(store: Store, world: World) -> None:
    """The world into an empty store the way ingestion writes it."""
    with store.transaction() as tx:
        for table in TABLES:
            if table != "meta":
                tx.delete_all(table)
        for repo, commits in world.commits.items():
            columns = ChangeColumns()
            for c in commits.values():
                columns.add(Change(repo=repo, sha=c.sha, parents=c.parents, author_name="Ada",
                                   author_email="ada@example.com", author_time=c.time - timedelta(hours=5),
                                   committer_name="Ada", committer_email="ada@example.com", committer_time=c.time,
                                   message=c.subject))
            columns.flush(tx)
            tx.insert("repos", {"repo": [repo], "path": [f"/repos/{repo}"], "tips": ["{}"],
                                "services": [json.dumps([{"name": repo, "paths": []}])], "shallow": [False]})
        linking.relink(store, tx, CONFIG.production_environments)
    with tempfile.TemporaryDirectory() as folder:
        if world.deployments:
            path = Path(folder) / "deployments.ndjson"
            path.write_text("".join(json.dumps({
                "id": d.id, "service": d.service, "sha": d.sha, "time": d.time.isoformat(),
                "environment": d.environment, "status": d.status, "type": d.type, "stage": d.stage}) + "\n"
                for d in world.deployments))
            ingest.ingest_deployments(store, CONFIG, path)
        if world.incidents:
            path = Path(folder) / "incidents.ndjson"
            path.write_text("".join(json.dumps({
                "id": i.id, "service": i.service, "started": i.started.isoformat(),
                "resolved": i.resolved.isoformat() if i.resolved else None, "cause": i.cause}) + "\n"
                for i in world.incidents))
            ingest.ingest_incidents(store, CONFIG, path)


FIELDS = {
    "deployment_frequency": ("value", "count", "deploy_days", "median_deploy_days_per_week"),
    "lead_time": ("value", "p90", "count", "negative_excluded"),
    "change_failure_rate": ("value", "count", "failed", "caught_in_canary"),
    "time_to_restore": ("value", "p90", "count", "open"),
    "rework_rate": ("value", "count", "rework"),
}


def figures(metrics) -> dict[str, dict]:
    """The compared fields of each metric; a group with nothing in the window (`unknown`) carries
    no details, only its value and count."""
    out = {}
    for name, fields in FIELDS.items():
        d = metrics[name].as_dict()
        out[name] = {f: d[f] for f in fields if f in d}
    return out


def same_fields(want: dict[str, dict], got: dict[str, dict]) -> dict[str, dict]:
    return {m: {f: v for f, v in fs.items() if f in got[m]} for m, fs in want.items()}


def approx(figs: dict[str, dict]) -> dict[str, dict]:
    return {m: {f: (v if v is None else pytest.approx(v, rel=1e-9, abs=1e-9)) for f, v in fs.items()}
            for m, fs in figs.items()}


def differences(got: dict[str, dict], want: dict[str, dict]) -> list[str]:
    return [f"{m}.{f}: fireline {got[m].get(f)!r}, reference {v!r}" for m, fs in want.items()
            for f, v in fs.items() if f in got[m] and got[m][f] != approx({m: {f: v}})[m][f]]


def check(store: Store, world: World, since: datetime, until: datetime) -> None:
    write(store, world)
    services = sorted(world.commits)
    summary = summarise(store.tables(), Scope(since=since, until=until), SEED, team_of={s: "T" for s in services},
                        group_sets=(("service",),))
    got, want = figures(summary.overall.metrics), expected(world, since, until)
    assert got == approx(same_fields(want, got)), differences(got, want)
    groups = {g.keys["service"]: g.metrics for g in summary.groups}
    assert sorted(groups) == services
    for service in services:
        want = expected(world, since, until, service)
        got = figures(groups[service])
        assert got == approx(same_fields(want, got)), (service, differences(got, want))
    for mv in summary.overall.metrics.values():
        if mv.value is not None and mv.unit == "ratio":
            assert 0 <= mv.value <= 1
    if store.kind == "duckdb" and world.deployments and world.incidents and not any(d.stage for d in world.deployments):
        # The benchmark's pandas baseline (over the link tables, no rollout stages) agrees too.
        baseline = reference_dora.summarise(store.raw, since, until, {})["overall"]
        for name, value in baseline.items():
            mv = summary.overall.metrics[name.removesuffix("_p90")]
            ours = mv.details["p90"] if name.endswith("_p90") else mv.value
            assert (ours is None and value is None) or ours == pytest.approx(value, rel=1e-9, abs=1e-9), name


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path_factory):
    """One store per engine for the module; every example empties it first."""
    if request.param == "duckdb":
        s = Store.open(str(tmp_path_factory.mktemp("definitions") / "fireline.duckdb"))
    else:
        import psycopg

        server = request.getfixturevalue("pg_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        s = Store.open(server.rsplit("/", 1)[0] + f"/{name}")
    yield s
    s.close()


@settings(max_examples=40, deadline=None)
@given(worlds())
def test_every_figure_matches_the_definitions(engine, world):
    check(engine, *world)


def test_an_abbreviated_sha_is_the_same_commit_in_a_rollout(store):
    """A canary given a short sha and its full deployment given the full one are one rollout: one
    deployment counted, and failed when the incident hit the canary (found by the property test)."""
    head = sha_of("A", 1)
    world = World(
        commits={"A": {sha_of("A", 0): Commit(sha_of("A", 0), (), MONDAY - timedelta(days=2), "Start"),
                       head: Commit(head, (sha_of("A", 0),), MONDAY - timedelta(days=1), "Add the export step")}},
        deployments=[Dep("dep-0", "A", sha_of("A", 0), MONDAY - timedelta(days=1)),  # the baseline
                     Dep("dep-1", "A", head[:7], MONDAY + timedelta(hours=10), stage="canary"),
                     Dep("dep-2", "A", head, MONDAY + timedelta(hours=12), stage="full")],
        incidents=[Inc("inc-0", "A", MONDAY + timedelta(hours=11), MONDAY + timedelta(hours=13))],
    )
    since, until = MONDAY, MONDAY + timedelta(days=7)
    write(store, world)
    overall = summarise(store.tables(), Scope(since=since, until=until), SEED).overall.metrics
    assert overall["deployment_frequency"].count == 1
    cfr = overall["change_failure_rate"]
    assert (cfr.value, cfr.count, cfr.details["failed"], cfr.details["caught_in_canary"]) == (1.0, 1, 1, 0)
    check(store, world, since, until)


def test_a_revert_shipped_by_the_canary_makes_its_rollout_rework(store):
    """The revert reaches production with the canary (the first deployment containing it), and the
    rollout that went full is the deployment counted: it ships the revert, so it is rework, as the
    same rollout without a canary step is (found by the property test)."""
    head = sha_of("A", 1)
    world = World(
        commits={"A": {sha_of("A", 0): Commit(sha_of("A", 0), (), MONDAY - timedelta(days=2), "Start"),
                       head: Commit(head, (sha_of("A", 0),), MONDAY - timedelta(days=1), 'Revert "Start"')}},
        deployments=[Dep("dep-0", "A", sha_of("A", 0), MONDAY - timedelta(days=1)),  # the baseline
                     Dep("dep-1", "A", head, MONDAY + timedelta(hours=10), stage="canary"),
                     Dep("dep-2", "A", head, MONDAY + timedelta(hours=12), stage="full")],
    )
    since, until = MONDAY, MONDAY + timedelta(days=7)
    write(store, world)
    rework = summarise(store.tables(), Scope(since=since, until=until), SEED).overall.metrics["rework_rate"]
    assert (rework.value, rework.count, rework.details["rework"]) == (1.0, 1, 1)
    check(store, world, since, until)
