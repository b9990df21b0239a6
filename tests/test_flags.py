"""Feature flags and canaries: a flag flip that ends an incident is its restore time, and a
canary caught before full rollout is visible; through /events and the deployments file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fireline.config import Config
from fireline.errors import UserError
from fireline.ingest import ingest_deployments, ingest_flags, ingest_incidents, rebuild
from fireline.metrics import dora
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.normalise import normalise_pending
from fireline.sources.webhooks import PayloadError, events
from fireline.store import pending_raw_event

SCOPE = Scope(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
A, B, C = "a" * 40, "b" * 40, "c" * 40


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


FLAG = {"id": "flip-1", "type": "feature_flag", "flag": "lazy-charts", "service": "web-ui",
        "time": "2026-03-02T10:20:00Z", "state": "off", "incident_id": "INC-1"}


def test_a_feature_flag_event_is_validated_and_normalised():
    out = events.normalise("feature_flag", FLAG)
    assert out and len(out.flags) == 1
    flip = out.flags[0]
    assert (flip.flag, flip.service, flip.state, flip.incident_id, flip.source) == (
        "lazy-charts", "web-ui", "off", "INC-1", "events")
    with pytest.raises(PayloadError, match="state: Input should be 'on' or 'off'"):
        events.parse({**FLAG, "state": "paused"})
    with pytest.raises(PayloadError, match="flag: missing"):
        events.parse({k: v for k, v in FLAG.items() if k != "flag"})


def test_a_deployment_event_may_name_its_stage():
    body = {"id": "d1", "type": "deployment", "time": "2026-03-02T10:00:00Z", "service": "web-ui", "sha": A,
            "stage": "canary"}
    assert events.normalise("deployment", body).deployments[0].stage == "canary"
    with pytest.raises(PayloadError, match="stage"):
        events.parse({**body, "stage": "beta"})


def test_flags_from_events_are_stored_once_and_rebuilt(store):
    with store.transaction() as tx:
        tx.insert_values("raw_events", [
            pending_raw_event("events", "flip-1", "feature_flag", json.dumps(FLAG), at(2, 11), None),
            pending_raw_event("events", "flip-2", "feature_flag", json.dumps({**FLAG, "id": "flip-2", "state": "on"}),
                              at(2, 12), None)])
    normalise_pending(store, Config())
    assert store.count("feature_flags") == 2
    counts = rebuild(store, Config())
    assert store.count("feature_flags") == 2 and counts["feature_flags"] == 0  # webhook flips, none from files


def write_files(tmp_path):
    deps = tmp_path / "deployments.csv"
    deps.write_text(
        "id,time,service,environment,sha,status,type,stage,flag,state,incident_id\n"
        # Change A: canary, then full. One rollout, counted once.
        f"c-a,2026-03-02T09:00:00Z,web-ui,production,{A},success,,canary,,,\n"
        f"f-a,2026-03-02T11:00:00Z,web-ui,production,{A},success,,full,,,\n"
        # Change B: its canary broke, the rollout stopped: caught in canary.
        f"c-b,2026-03-05T09:00:00Z,web-ui,production,{B},success,,canary,,,\n"
        # Change C: a plain deployment.
        f"p-c,2026-03-09T09:00:00Z,web-ui,production,{C},success,,,,,\n"
        # A flag flip in the same file: turned off 30 minutes into INC-2.
        "flip-9,2026-03-09T10:30:00Z,web-ui,,,,,,checkout-v2,off,\n")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "id,service,title,started,resolved,cause\n"
        "INC-1,web-ui,Canary errors,2026-03-05T09:10:00Z,2026-03-05T12:00:00Z,c-b\n"
        "INC-2,web-ui,Checkout down,2026-03-09T10:00:00Z,2026-03-09T14:00:00Z,\n"
        "INC-3,web-ui,Slow pages,2026-03-12T10:00:00Z,2026-03-12T12:00:00Z,\n")
    flags = tmp_path / "flags.ndjson"
    flags.write_text(
        # Named for INC-1 but 50 minutes in: INC-1's restore time.
        json.dumps({"id": "flip-1", "flag": "new-charts", "service": "web-ui", "time": "2026-03-05T10:00:00Z",
                    "state": "off", "incident_id": "INC-1"}) + "\n"
        # Turned ON during INC-3: not a rollback, so INC-3 is restored when resolved.
        + json.dumps({"flag": "dark-mode", "service": "web-ui", "time": "2026-03-12T10:30:00Z", "state": "on"})
        + "\n")
    return deps, incidents, flags


def test_canaries_count_once_per_rollout_and_a_caught_one_shows(store, tmp_path):
    deps, incidents, flags = write_files(tmp_path)
    cfg = Config()
    result = ingest_deployments(store, cfg, deps)
    assert (result.new_deployments, result.new_flags) == (4, 1)
    ingest_incidents(store, cfg, incidents)
    assert ingest_flags(store, cfg, flags).new_flags == 2
    assert ingest_flags(store, cfg, flags).new_flags == 0  # the same file twice adds nothing
    t = store.tables()
    counted = {r["deployment_id"]: r["stage"] for r in dora.deployment_rows(t["deployments"], SCOPE)
               .to_pyarrow().to_pylist()}
    assert counted == {"f-a": "full", "c-b": "canary", "p-c": None}
    failures = {r["deployment_id"]: (r["failed"], r["caught_in_canary"])
                for r in dora.failure_rows(t["deployments"], t["incident_deployments"], SCOPE).to_pyarrow().to_pylist()}
    assert failures["c-b"] == (True, True)
    m = summarise(t, SCOPE, SEED).overall.metrics
    assert m["deployment_frequency"].count == 3
    assert m["change_failure_rate"].details["caught_in_canary"] == 1
    # Lead time still runs to the canary: the first production traffic.
    lead_deps = {r["deployment_id"] for r in dora.lead_time_rows(
        t["deployments"], t["deployment_changes"], t["changes"], SCOPE).to_pyarrow().to_pylist()}
    assert "f-a" not in lead_deps


def test_a_flag_flip_that_ends_an_incident_is_its_restore_time(store, tmp_path):
    deps, incidents, flags = write_files(tmp_path)
    cfg = Config()
    ingest_deployments(store, cfg, deps)
    ingest_incidents(store, cfg, incidents)
    ingest_flags(store, cfg, flags)
    t = store.tables()
    rows = {r["incident_id"]: (r["restore_seconds"], r["restored_by"])
            for r in dora.restore_rows(t["incidents"], SCOPE, t["feature_flags"]).to_pyarrow().to_pylist()}
    assert rows == {
        "INC-1": (50 * 60, "flag new-charts"),  # named for it
        "INC-2": (30 * 60, "flag checkout-v2"),  # its service's flag turned off while it was open
        "INC-3": (2 * 3600, "resolved"),  # a flag turned on is not a rollback
    }
    ttr = summarise(t, SCOPE, SEED).overall.metrics["time_to_restore"]
    assert ttr.value == pytest.approx(50 / 60) and ttr.details["restored_by_flag"] == 2
    rebuilt = rebuild(store, cfg)
    assert rebuilt["feature_flags"] == 3 and store.count("feature_flags") == 3


def test_explain_lists_the_same_restore_times_and_canaries_as_the_summary(store, tmp_path):
    # Regression: explain once listed resolved - started while the summary used the flag flip.
    from fireline.metrics.explain import explain

    deps, incidents, flags = write_files(tmp_path)
    cfg = Config()
    ingest_deployments(store, cfg, deps)
    ingest_incidents(store, cfg, incidents)
    ingest_flags(store, cfg, flags)
    t = store.tables()
    ttr = explain(t, "time_to_restore", SCOPE)
    by_incident = {r["incident_id"]: (r["restored_by"], r["restore_hours"]) for r in ttr.rows}
    assert by_incident["INC-1"] == ("flag new-charts", pytest.approx(50 / 60))
    assert by_incident["INC-3"] == ("resolved", pytest.approx(2.0))
    cfr = explain(t, "change_failure_rate", SCOPE)
    assert "caught_in_canary" in cfr.columns
    assert {r["deployment_id"]: (r["stage"], r["caught_in_canary"]) for r in cfr.rows}["c-b"] == ("canary", True)


def test_bad_flag_rows_are_refused_whole_with_the_line(store, tmp_path):
    bad = tmp_path / "flags.csv"
    bad.write_text("flag,service,time,state\nok,web,2026-03-01T10:00:00Z,off\nx,web,2026-03-01T11:00:00Z,paused\n")
    with pytest.raises(UserError, match=r"flags\.csv:3: field 'state': on or off, got 'paused'"):
        ingest_flags(store, Config(), bad)
    assert store.count("feature_flags") == 0
    stage = tmp_path / "deps.csv"
    stage.write_text(f"time,service,sha,stage\n2026-03-01T10:00:00Z,web,{A},beta\n")
    with pytest.raises(UserError, match=r"deps\.csv:2: field 'stage': one of canary, partial, full"):
        ingest_deployments(store, Config(), stage)


def test_an_open_incident_is_restored_by_turning_its_flag_off(duck):
    with duck.transaction() as tx:
        tx.insert("incidents", {"id": ["INC-9"], "service": ["api"], "started": [at(20, 8)], "source": ["file"]})
        tx.insert("feature_flags", {"id": ["f"], "service": ["api"], "flag": ["beta"], "time": [at(20, 8) +
                                    timedelta(minutes=12)], "state": ["off"], "source": ["file"]})
    t = duck.tables()
    [row] = dora.restore_rows(t["incidents"], SCOPE, t["feature_flags"]).to_pyarrow().to_pylist()
    assert (row["restore_seconds"], row["restored_by"]) == (720, "flag beta")


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_time_beyond_the_calendar_in_utc_is_refused_with_its_line(duck, tmp_path, when):
    # Regression: a valid ISO time whose UTC instant falls outside years 1..9999 crashed the
    # insert with OverflowError (a traceback) after the file had been accepted.
    flags = tmp_path / "flags.csv"
    flags.write_text(f"flag,service,time,state\nok,web,2026-03-01T10:00:00Z,off\nx,web,{when},on\n")
    with pytest.raises(UserError, match=r"flags\.csv:3: field 'time': .*out of range"):
        ingest_flags(duck, Config(), flags)
    deps = tmp_path / "deps.csv"
    deps.write_text(f"time,service,sha\n{when},web,{A}\n")
    with pytest.raises(UserError, match=r"deps\.csv:2: field 'time': .*out of range"):
        ingest_deployments(duck, Config(), deps)
    assert duck.count("feature_flags") == 0 and duck.count("deployments") == 0


def test_an_event_time_beyond_the_calendar_in_utc_is_refused():
    # Regression: the event was accepted (202) and its insert then failed with OverflowError.
    with pytest.raises(PayloadError, match=r"time: out of range in UTC"):
        events.normalise("feature_flag", {**FLAG, "time": "9999-12-31T23:00:00-05:00"})
    with pytest.raises(PayloadError, match=r"time: out of range in UTC"):
        events.normalise("deployment", {"id": "d", "type": "deployment", "service": "web", "sha": A,
                                        "time": "0001-01-01T00:30:00+01:00"})
