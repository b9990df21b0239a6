"""The `fireline` command as a user runs it: a subprocess, exit codes, messages, JSON.

A user's mistake gets exit code 2 and a message naming the path or option at fault,
never a Python traceback.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .gitrepo import GitRepo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = ["--since", "2026-03-01", "--until", "2026-03-07"]  # 7 whole UTC days


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def err(self) -> str:
        """stderr with line breaks removed, so a wrapped message can still be matched."""
        return self.stderr.replace("\n", "")


def fireline(tmp_path: Path, *args: str, db: Path | None = None, env: dict[str, str] | None = None) -> Run:
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_CONFIG", "COLUMNS", "LINES")} | extra
    env["FIRELINE_DB"] = str(db or tmp_path / "store" / "fireline.duckdb")
    proc = subprocess.run([sys.executable, "-m", "fireline.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def user_error(run: Run, *needles: str) -> None:
    assert run.code == 2, (run.code, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    for needle in needles:
        assert needle in run.err, (needle, run.stderr)


# ---- a small real organisation: one repository with tags, one incidents file --------------

@dataclass
class Shop:
    """A store holding one real repository with three deployment tags (built once per module)."""

    repo: Path
    db: Path
    commits: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.commits[key]


@pytest.fixture(scope="module")
def shop_world(tmp_path_factory) -> Shop:
    base = tmp_path_factory.mktemp("shop-world")
    repo = GitRepo.create(base / "shop")
    c = {}
    c["1"] = repo.commit("first", h(0))
    c["2"] = repo.commit("second", h(1))
    repo.tag("v1", when=h(2))  # baseline
    c["3"] = repo.commit("third", h(3))
    c["4"] = repo.commit("fourth", h(4))
    repo.tag("v2", when=h(6))  # ships c3 (3 h) and c4 (2 h)
    c["5"] = repo.commit("fifth", h(7))
    repo.tag("v3", when=h(8))  # ships c5 (1 h)
    db = base / "store" / "fireline.duckdb"
    run = fireline(base, "ingest", "git", str(repo.path), "--deploy-tags", "v*", db=db)
    assert run.code == 0, run.stderr
    return Shop(repo.path, db, c)


@pytest.fixture
def shop(shop_world, tmp_path) -> Shop:
    """This test's own copy of the shop's store, so a test may add to it."""
    db = tmp_path / "store" / "fireline.duckdb"
    db.parent.mkdir()
    for f in shop_world.db.parent.iterdir():
        shutil.copy(f, db.parent / f.name)
    return Shop(shop_world.repo, db, shop_world.commits)


def write_incidents(tmp_path: Path) -> Path:
    path = tmp_path / "incidents.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "service", "title", "started", "detected", "resolved", "severity", "detected_by",
                    "cause"])
        w.writerow(["INC-1", "shop", "Checkout down", h(6.5).isoformat(), h(6.6).isoformat(),
                    h(8.5).isoformat(), "sev1", "alert", ""])
    return path


METRIC_KEYS = {"deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore", "rework_rate"}


def test_dora_json_on_a_real_repository(tmp_path, shop):
    ingest = fireline(tmp_path, "ingest", "incidents", str(write_incidents(tmp_path)))
    assert ingest.code == 0, ingest.stderr
    run = fireline(tmp_path, "dora", "--json", *WINDOW)
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    overall = data["overall"]
    assert set(overall) == METRIC_KEYS
    for name, figure in overall.items():
        assert {"value", "unit", "tier", "count", "unknown"} <= set(figure), name
        assert figure["unknown"] is None, (name, figure)
        if name != "rework_rate":  # DORA publishes no bands for rework rate (docs/metrics.md)
            assert figure["tier"], (name, figure)

    assert overall["deployment_frequency"]["count"] == 3
    assert overall["deployment_frequency"]["value"] == pytest.approx(3 / 7)
    assert overall["lead_time"]["count"] == 3
    assert overall["lead_time"]["value"] == pytest.approx(2.0)  # median of 3 h, 2 h, 1 h
    assert overall["lead_time"]["unit"] == "hours"
    # INC-1 started after v2 and before v3: v2 failed.
    assert overall["change_failure_rate"]["value"] == pytest.approx(1 / 3)
    assert overall["change_failure_rate"]["count"] == 3
    assert overall["time_to_restore"]["value"] == pytest.approx(2.0)
    assert overall["time_to_restore"]["count"] == 1
    assert 0 <= overall["rework_rate"]["value"] <= 1
    assert data["window"]["days"] == pytest.approx(7)


def test_dora_without_incidents_is_unknown_not_zero(tmp_path, shop):
    run = fireline(tmp_path, "dora", "--json", *WINDOW)
    assert run.code == 0, run.stderr
    overall = json.loads(run.stdout)["overall"]
    for name in ("change_failure_rate", "time_to_restore"):
        assert overall[name]["value"] is None, overall[name]
        assert overall[name]["unknown"], overall[name]
        assert "incident" in overall[name]["unknown"]
        assert overall[name]["tier"] is None
    assert overall["lead_time"]["value"] == pytest.approx(2.0)


def test_dora_table_says_unknown(tmp_path, shop):
    run = fireline(tmp_path, "dora", *WINDOW)
    assert run.code == 0, run.stderr
    assert "incident" in run.stdout.lower()
    assert "Traceback" not in run.stderr


def test_explain_lead_time_lists_the_commits(tmp_path, shop):
    run = fireline(tmp_path, "explain", "lead-time", "--json", *WINDOW)
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["metric"] == "lead_time"
    hours = {row["sha"]: row["lead_hours"] for row in data["rows"]}
    assert hours == pytest.approx({shop["3"]: 3.0, shop["4"]: 2.0, shop["5"]: 1.0})
    subjects = {row["sha"]: row["subject"] for row in data["rows"]}
    assert subjects[shop["3"]] == "third"
    assert data["figure"]["value"] == pytest.approx(2.0)
    assert data["figure"]["count"] == 3


def test_explain_change_failure_rate_names_the_incident(tmp_path, shop):
    assert fireline(tmp_path, "ingest", "incidents", str(write_incidents(tmp_path))).code == 0
    run = fireline(tmp_path, "explain", "change-failure-rate", "--json", *WINDOW)
    assert run.code == 0, run.stderr
    failed = [row for row in json.loads(run.stdout)["rows"] if row["failed"]]
    assert len(failed) == 1
    assert "INC-1" in failed[0]["incident_ids"]


def test_ingest_git_twice_says_unchanged(tmp_path, shop):
    run = fireline(tmp_path, "ingest", "git", str(shop.repo), "--deploy-tags", "v*", "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["unchanged"] is True
    assert result["new_changes"] == 0


def test_ingest_deployments_file_twice_reports_nothing_new(tmp_path, shop):
    path = tmp_path / "deps.csv"
    path.write_text(f"id,time,service,sha\nd9,{h(9).isoformat()},shop,{shop['5']}\n")
    first = fireline(tmp_path, "ingest", "deployments", str(path), "--json")
    assert first.code == 0, first.stderr
    assert json.loads(first.stdout)["new_deployments"] == 1
    second = fireline(tmp_path, "ingest", "deployments", str(path), "--json")
    assert json.loads(second.stdout)["new_deployments"] == 0


# ---- user mistakes: exit 2, the path or option named, no traceback -----------------------

def test_ingest_git_nonexistent_path(tmp_path):
    missing = tmp_path / "no-such-repo"
    user_error(fireline(tmp_path, "ingest", "git", str(missing)), str(missing))


def test_ingest_git_a_file(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("hello\n")
    user_error(fireline(tmp_path, "ingest", "git", str(file)), str(file))


def test_ingest_git_empty_repository(tmp_path):
    empty = GitRepo.create(tmp_path / "empty").path
    run = fireline(tmp_path, "ingest", "git", str(empty))
    user_error(run, str(empty))
    assert "empty" in run.err


def test_ingest_git_plain_directory(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "README").write_text("not a repo\n")
    run = fireline(tmp_path, "ingest", "git", str(plain))
    user_error(run, str(plain))
    assert "not a git repository" in run.err


def test_ingest_bad_deployments_file_names_file_and_line(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_text(f"time,service,sha\n2026-03-02T09:00:00Z,api,{'a' * 40}\nsoon,api,{'b' * 40}\n")
    user_error(fireline(tmp_path, "ingest", "deployments", str(path)), f"{path}:3", "'time'")
    # Nothing was stored from line 2 either.
    run = fireline(tmp_path, "explain", "deployment-frequency", "--json", *WINDOW)
    if run.code == 0:
        assert json.loads(run.stdout)["rows"] == []
    else:
        user_error(run)


def test_ingest_missing_incidents_file(tmp_path):
    missing = tmp_path / "nope.csv"
    user_error(fireline(tmp_path, "ingest", "incidents", str(missing)), str(missing))


def test_dora_without_a_store(tmp_path):
    db = tmp_path / "nowhere" / "fireline.duckdb"
    run = fireline(tmp_path, "dora", db=db)
    user_error(run, str(db))
    assert "ingest" in run.err  # says what to do
    assert not db.exists()  # asking did not create one


def test_dora_since_after_until(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--since", "2026-05-01", "--until", "2026-04-01"), "--since")


def test_dora_unparseable_since(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--since", "last tuesday"), "--since", "last tuesday")


def test_dora_unparseable_until(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--until", "31/12/2026"), "--until")


def test_dora_unknown_team(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--team", "astronauts"), "--team", "astronauts")


def test_dora_unknown_service(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--service", "shpo"), "--service", "shpo")


def test_dora_unknown_profile(tmp_path, shop):
    user_error(fireline(tmp_path, "dora", "--profile", "elite-2019"), "--profile", "elite-2019")


def test_tiers_unknown_profile(tmp_path):
    user_error(fireline(tmp_path, "tiers", "--profile", "elite-2019"), "--profile")


def test_explain_unknown_metric(tmp_path, shop):
    run = fireline(tmp_path, "explain", "mean-time-to-blame")
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert "lead-time" in run.err  # lists the valid choices


def test_invalid_config_in_cwd_names_the_file(tmp_path):
    (tmp_path / "fireline.toml").write_text('timezone = "UTC"\n[services.api\nrepo = "."\n')
    run = fireline(tmp_path, "dora")
    user_error(run, "fireline.toml", "line 2")


def test_unknown_config_key_in_cwd_names_file_and_key(tmp_path, shop):
    (tmp_path / "fireline.toml").write_text('[services.shop]\nrepo = "shop"\nowner = "sre"\n')
    user_error(fireline(tmp_path, "dora"), "fireline.toml", "services.shop.owner: unknown key")


def test_a_service_named_only_under_its_team_is_known(tmp_path, shop):
    # Regression: --service refused a service listed in [teams.X] services but not under [services].
    (tmp_path / "fireline.toml").write_text('[teams.web]\nservices = ["shop", "cart"]\n')
    run = fireline(tmp_path, "dora", "--json", "--service", "cart", *WINDOW)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["overall"]["deployment_frequency"]["count"] == 0


def test_a_team_named_only_by_its_services_is_known(tmp_path, shop):
    # Regression: `team = "web"` under [services.shop] did not make --team web known.
    (tmp_path / "fireline.toml").write_text('[services.shop]\nteam = "web"\n')
    run = fireline(tmp_path, "dora", "--json", "--team", "web", *WINDOW)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["overall"]["deployment_frequency"]["count"] == 3
    user_error(fireline(tmp_path, "dora", "--team", "nobody", *WINDOW), "unknown team 'nobody' (teams: web)")


def test_config_timezone_and_team_are_used(tmp_path, shop):
    (tmp_path / "fireline.toml").write_text(
        'timezone = "Asia/Kolkata"\n[teams.web]\nservices = ["shop"]\n')
    run = fireline(tmp_path, "dora", "--json", "--team", "web", *WINDOW)
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    # Dates are read in the configured zone: the window starts at midnight in Kolkata.
    assert datetime.fromisoformat(data["window"]["since"]) == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    assert data["overall"]["deployment_frequency"]["count"] == 3


def test_error_messages_are_not_hard_wrapped_when_piped(tmp_path):
    """A script or CI log reads stderr: a long path must stay on one line, whole."""
    missing = tmp_path / ("a-rather-long-folder-name-for-a-monorepo-checkout" * 2) / "service"
    run = fireline(tmp_path, "ingest", "git", str(missing))
    assert run.code == 2
    assert str(missing) in run.stderr, run.stderr


# ---- every command has help -------------------------------------------------------------

@pytest.mark.parametrize("command", [
    [], ["ingest"], ["ingest", "git"], ["ingest", "deployments"], ["ingest", "incidents"], ["dora"],
    ["explain"], ["rebuild"], ["tiers"], ["demo"], ["serve"], ["alerts"], ["alerts", "lint"], ["alerts", "suggest"],
    ["alerts", "report"], ["ingest", "alerts"], ["knowledge"], ["testing"],
    ["postmortem"], ["postmortem", "new"], ["postmortem", "lint"], ["postmortem", "repeats"], ["actions"],
    ["followup"], ["ingest", "postmortems"], ["oncall"], ["oncall", "now"], ["oncall", "next"],
    ["oncall", "schedule"], ["oncall", "gaps"], ["oncall", "load"], ["oncall", "handoff"], ["debt"], ["budget"],
    ["plan"], ["ingest", "flags"], ["report"],
], ids=lambda c: " ".join(c) or "fireline")
def test_help(tmp_path, command):
    run = fireline(tmp_path, *command, "--help")
    assert run.code == 0, run.stderr
    assert "Usage" in run.stdout
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "store").exists()  # asking for help touches nothing


@pytest.mark.parametrize(("command", "literal"), [
    (["dora"], "[tool.fireline]"),
    (["budget"], "[budget]"),
    (["followup"], "[postmortems]"),
    (["oncall"], "[rotations.TEAM]"),
])
def test_help_keeps_config_section_names(tmp_path, command, literal):
    # Regression: Rich read `[budget]` or `[tool.fireline]` in help as a style tag and dropped it.
    run = fireline(tmp_path, *command, "--help", env={"COLUMNS": "400"})
    assert run.code == 0, run.stderr
    assert literal in run.stdout


def test_a_mistyped_path_leaves_no_store_behind(tmp_path):
    """A typo must not create an empty store that later reports every figure as unknown."""
    db = tmp_path / "store" / "fireline.duckdb"
    user_error(fireline(tmp_path, "ingest", "git", str(tmp_path / "nope"), db=db), "nope")
    user_error(fireline(tmp_path, "ingest", "deployments", str(tmp_path / "nope.csv"), db=db), "nope.csv")
    user_error(fireline(tmp_path, "ingest", "incidents", str(tmp_path / "nope.csv"), db=db), "nope.csv")
    assert not db.exists()
    user_error(fireline(tmp_path, "dora", db=db), "no Fireline store here")


def test_ingest_reports_say_what_was_added(tmp_path):
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("id,service,started,resolved\n"
                         "i1,svc,2026-03-01T10:00Z,2026-03-01T11:00Z\n"
                         "i2,svc,2026-03-02T10:00Z,2026-03-02T12:00Z\n")
    first = fireline(tmp_path, "ingest", "incidents", str(incidents))
    assert first.code == 0 and "2 new incidents" in first.stdout and "deployments" not in first.stdout
    again = fireline(tmp_path, "ingest", "incidents", str(incidents))
    assert "0 new incidents" in again.stdout and "2 skipped (already stored" in again.stdout


def test_version_and_root_options(tmp_path, shop):
    """`fireline --version`; `fireline --db X COMMAND` is the same as the command's own --db."""
    from fireline import __version__

    run = fireline(tmp_path, "--version")
    assert run.code == 0 and run.stdout.strip() == f"fireline {__version__}"
    own = fireline(tmp_path, "dora", "--db", str(shop.db), "--since", "2026-01-01", "--until", "2026-12-31", "--json")
    root = fireline(tmp_path, "--db", str(shop.db), "dora", "--since", "2026-01-01", "--until", "2026-12-31",
                    "--json")
    assert own.code == 0 and root.code == 0, (own.stderr, root.stderr)
    assert json.loads(own.stdout) == json.loads(root.stdout)
    assert json.loads(root.stdout)["overall"]["deployment_frequency"]["count"] == 3
