"""`fireline plan`: last merge dates counted backwards from release day, checked by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from typer.testing import CliRunner

from fireline.cli import app
from fireline.metrics.plan import plan_release
from fireline.metrics.scope import Scope

SINCE, UNTIL = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
SHIP = datetime(2026, 6, 20, 12, tzinfo=UTC)
LEADS_DAYS = (1, 2, 3, 4, 10)  # five changes shipped by one deployment, known lead times


def fill(store, leads=LEADS_DAYS, service: str = "api") -> None:
    shas = [f"{i:040x}" for i in range(1, len(leads) + 1)]
    with store.transaction() as tx:
        tx.insert("changes", {"repo": ["api"] * len(leads), "sha": shas, "parents": [""] * len(leads),
                              "subject": ["work"] * len(leads), "message": ["work"] * len(leads),
                              "author_name": ["Ada"] * len(leads),
                              "committer_time": [SHIP - timedelta(days=d) for d in leads],
                              "author_time": [SHIP - timedelta(days=d) for d in leads], "origin": ["git"] * len(leads)})
        # The deploy before it shipped nothing new; the cadence is one deployment a week.
        tx.insert("deployments", {"id": ["d0", "d1"], "service": [service] * 2, "environment": ["production"] * 2,
                                  "sha": [shas[0], shas[-1]], "time": [SHIP - timedelta(days=7), SHIP],
                                  "status": ["success"] * 2, "source": ["file"] * 2})
        tx.insert("deployment_changes", {"deployment_id": ["d1"] * len(leads), "service": [service] * len(leads),
                                         "repo": ["api"] * len(leads), "sha": shas, "baseline": [False] * len(leads),
                                         "via": ["ancestry"] * len(leads)})


def test_last_merge_dates_match_the_hand_calculation(store):
    fill(store)
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 9, 30), tz="UTC", verify_days=2,
                     now=datetime(2026, 7, 1, tzinfo=UTC))
    # Hand calculation. Lead times sorted: 1, 2, 3, 4, 10 days (n = 5); interpolated quantiles
    # (percentile_cont) sit at position (n - 1) * q:
    #   50%: position 2.0 -> 3 days
    #   80%: position 3.2 -> 4 + 0.2 * (10 - 4) = 5.2 days
    #   95%: position 3.8 -> 4 + 0.8 * (10 - 4) = 8.8 days
    # Release 2026-09-30 00:00 UTC; verification 2 days -> deployed by 2026-09-28 00:00.
    #   50%: 09-28 00:00 - 3 d   = 2026-09-25 00:00 (last full day 09-24)
    #   80%: 09-28 00:00 - 5.2 d = 2026-09-22 19:12 (last full day 09-21)
    #   95%: 09-28 00:00 - 8.8 d = 2026-09-19 04:48 (last full day 09-18)
    # The freeze runs from the 80% date to 09-28 00:00: 5.2 days.
    assert p["sample"]["changes"] == 5
    assert abs(p["sample"]["median_days"] - 3) < 1e-9
    merge = {k: (v["merge_by"].replace(tzinfo=None), v["last_full_day"]) for k, v in p["last_merge"].items()}
    assert merge == {"50": (datetime(2026, 9, 25, 0, 0), "2026-09-24"),
                     "80": (datetime(2026, 9, 22, 19, 12), "2026-09-21"),
                     "95": (datetime(2026, 9, 19, 4, 48), "2026-09-18")}
    steps = {s["step"]: (s["start"], s["end"]) for s in p["steps"]}
    assert steps["verification"] == (datetime(2026, 9, 28, tzinfo=UTC), datetime(2026, 9, 30, tzinfo=UTC))
    assert steps["freeze"][0].replace(tzinfo=None) == datetime(2026, 9, 22, 19, 12)
    assert abs(p["freeze_days"] - 5.2) < 1e-6
    assert p["cadence"]["median_interval_days"] == 7 and p["cadence"]["deployments"] == 2
    assert p["flags"] == []  # a median of 3 days is not waiting too long


def test_a_fixed_freeze_caps_the_late_dates(store):
    fill(store)
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 9, 30), tz="UTC", verify_days=2,
                     freeze_days=4)
    # Freeze from 09-28 - 4 d = 09-24 00:00: the 50% date (09-25) falls inside it, so it moves to 09-24.
    assert p["last_merge"]["50"]["merge_by"].replace(tzinfo=None) == datetime(2026, 9, 24)
    assert p["last_merge"]["50"]["bound"] == "freeze"
    assert p["last_merge"]["80"]["bound"] == "lead time"


def test_a_median_over_two_weeks_is_flagged_and_passed_dates_are_said(store):
    fill(store, leads=(15, 20, 25))
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 7, 10), tz="UTC",
                     now=datetime(2026, 7, 1, tzinfo=UTC))
    assert any("exceeds two weeks" in f for f in p["flags"])
    # 07-10 - 2 d - 20 d = 06-18, long gone on 07-01: every date has passed.
    assert all(v["passed"] for v in p["last_merge"].values())
    assert any("has passed" in f for f in p["flags"])


def test_no_lead_times_is_unknown_not_a_date(store):
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 9, 30))
    assert p["unknown"] and p["last_merge"] == {}


def test_the_cli_plans_in_the_configured_zone(tmp_path):
    from fireline.store import Store

    db = tmp_path / "f.duckdb"
    store = Store.open(str(db))
    fill(store)
    store.close()
    (tmp_path / "fireline.toml").write_text('timezone = "Europe/London"\n[teams.Core]\nservices = ["api"]\n'
                                            '[services.api]\nteam = "Core"\n')
    args = ["plan", "--db", str(db), "--config", str(tmp_path / "fireline.toml"), "--release", "2026-09-30",
            "--team", "Core", "--since", "2026-06-01", "--until", "2026-06-30"]
    run = CliRunner().invoke(app, [*args, "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    # London is on BST (+01:00): the release starts at 2026-09-29 23:00 UTC, so 50% is 3 days before
    # 09-28 00:00 local = 2026-09-25 00:00 local.
    assert data["last_merge"]["50"]["merge_by"] == "2026-09-25T00:00:00+01:00"
    assert data["on_call"]["unknown"]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "last merge (80%)" in text.output
    # The rate and the typical gap are two figures (flask: 0.1/week, yet a median 8 days apart as
    # patch releases come in clusters); "every 8.0 d" read as the rate.
    assert "2 deployments (0.5/week, median gap 7.0 d)" in " ".join(text.output.split())
    bad = CliRunner().invoke(app, [*args[:5], "--release", "30/09/2026"])
    assert bad.exit_code != 0 and "--release: not a date" in bad.exception.for_cli()  # main() prints it, exit 2


def test_lead_times_are_elapsed_time_across_a_dst_change(store):
    # Regression: the last merge was counted back in wall-clock time, so across the end of
    # summer time in London (2026-10-25) the 95% date left one hour more than the lead time.
    fill(store)
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 11, 2), tz="Europe/London", verify_days=2)
    deployed_by = datetime(2026, 10, 31, tzinfo=UTC)  # midnight GMT
    for label, m in p["last_merge"].items():
        elapsed = (deployed_by - m["merge_by"]).total_seconds() / 86400
        assert abs(elapsed - m["lead_time_days"]) < 1e-6, label
    # 8.8 days before 10-31 00:00 GMT is 10-22 04:48 UTC, 05:48 on a London clock.
    assert m["merge_by"].strftime("%Y-%m-%d %H:%M %Z") == "2026-10-22 05:48 BST"
    assert p["last_merge"]["95"]["last_full_day"] == "2026-10-21"


def test_a_fixed_freeze_lasts_whole_local_days_across_a_dst_change(store):
    fill(store)
    p = plan_release(store.tables(), Scope(SINCE, UNTIL), date(2026, 11, 2), tz="Europe/London", verify_days=2,
                     freeze_days=7)
    freeze = next(s for s in p["steps"] if s["step"] == "freeze")
    assert freeze["start"].strftime("%Y-%m-%d %H:%M %Z") == "2026-10-24 00:00 BST"
    assert p["freeze_days"] == 7
    # Every last-merge date is at or before the freeze's start (8.8 days back is before it anyway).
    assert all(m["merge_by"] <= freeze["start"] for m in p["last_merge"].values())
    assert p["last_merge"]["50"]["bound"] == "freeze"


def test_a_release_too_early_or_days_too_many_are_user_errors(tmp_path):
    # Regression: counting back from 0001-01-02 or by 10^8 days raised OverflowError (a traceback).
    from fireline.store import Store

    db = tmp_path / "f.duckdb"
    store = Store.open(str(db))
    fill(store)
    store.close()
    base = ["plan", "--db", str(db), "--since", "2026-06-01", "--until", "2026-06-30"]
    for extra in (["--release", "0001-01-02"], ["--release", "2026-09-30", "--verify-days", "99999999"],
                  ["--release", "2026-09-30", "--freeze-days", "99999999"]):
        run = CliRunner().invoke(app, [*base, *extra])
        assert run.exit_code == 2 or "UserError" in type(run.exception).__name__, (extra, run.exception)
