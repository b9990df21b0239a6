"""The library's typed results: each is what its command's `--json` prints (the golden files pin the CLI),
with typed fields and a pandas/Arrow view of its rows; the CLI's root --db/--config reach every command."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fireline
from fireline.cli import app
from fireline.results import Result

GOLDEN = Path(__file__).resolve().parent / "golden"
SINCE, UNTIL = "2026-01-05T00:00Z", "2026-07-05T00:00Z"

# golden file -> (the Workspace's "now", what to call on it); the same questions as tests/test_golden.py asks the CLI
CALLS = {
    "actions.json": ("2026-07-05", lambda ws: ws.actions()),
    "followup.json": ("2026-07-05", lambda ws: ws.followup()),
    "alerts-report-at.json": ("2026-07-05T00:00Z", lambda ws: ws.alerts_report(since=SINCE, until=UNTIL)),
    "testing.json": (None, lambda ws: ws.testing(since=SINCE, until=UNTIL)),
    "budget.json": (None, lambda ws: ws.budget(since=SINCE, until=UNTIL)),
    "debt-data.json": ("2026-07-05T00:00Z", lambda ws: ws.debt(team="Data")),
    "plan-data.json": ("2026-07-05T00:00Z", lambda ws: ws.plan("2026-09-30", team="Data", since=SINCE, until=UNTIL)),
    "knowledge.json": ("2026-07-05T00:00Z", lambda ws: ws.knowledge(ws.config.base_dir / "repos" / "data-platform")),
    "oncall-now.json": (None, lambda ws: ws.oncall_now(at="2026-05-16T09:15")),
    "oncall-gaps.json": (None, lambda ws: ws.oncall_gaps(since="2026-01-05", until="2026-07-04")),
    "oncall-load.json": (None, lambda ws: ws.oncall_load(since=date(2026, 1, 5), until=date(2026, 7, 4))),
    "oncall-handoff.json": (None, lambda ws: ws.oncall_handoff("Data", at="2026-05-18T09:00")),
    "oncall-schedule.json": (None, lambda ws: ws.oncall_schedule(team="SRE", since="2026-03-23", until="2026-03-29")),
}


def _json(data: object) -> str:
    def default(o: object) -> object:
        return o.isoformat() if isinstance(o, datetime | date) else str(o)

    return json.dumps(data, indent=2, default=default) + "\n"


@pytest.fixture(scope="module")
def demo(demo_org):
    return Path(demo_org.db), Path(demo_org.db).parent / "world" / "fireline.toml"


@pytest.mark.parametrize("golden", sorted(CALLS))
def test_a_result_is_what_its_command_prints(demo, golden):
    db, config = demo
    now, call = CALLS[golden]
    with fireline.Workspace(db=db, config=config, now=now) as ws:
        result = call(ws)
    assert isinstance(result, Result)
    expected = re.sub(re.escape("<demo>"), str(db.parent), (GOLDEN / golden).read_text())
    printed = _json(result.to_dict())
    if golden.startswith("alerts-report"):  # the golden file hides the clock the CLI run had
        printed = re.sub(r'"now": "[^"]*"', '"now": "<now>"', printed)
    assert printed == expected
    # The rows come out as a frame with one row each, and as Arrow with the same count.
    rows = result.rows()
    assert len(result.to_pandas()) == len(rows) == result.to_arrow().num_rows


def test_typed_fields_and_other_row_lists(demo):
    db, config = demo
    with fireline.Workspace(db=db, config=config, now="2026-07-05") as ws:
        items = ws.actions(overdue=True)
        fixes = ws.testing(since=SINCE, until=UNTIL)
        gaps = ws.oncall_gaps(since="2026-01-05", until="2026-07-04")
    assert items.overdue == len(items.items) > 0 and all(i["overdue"] for i in items.items)
    by_team = fixes.to_pandas("by_team")
    assert set(by_team.team) >= {"C++", "Data"} and by_team.fixes.sum() == fixes.overall["fixes"]
    assert gaps.from_ == datetime(2026, 1, 5, tzinfo=UTC) and gaps.to_dict()["from"] == gaps.from_
    assert gaps.found == (len(gaps.gaps) + len(gaps.weekend_stretches)
                          + len(gaps.unverified_deployments["unverified"]) + len(gaps.experts_away["periods"]))
    with pytest.raises(ValueError, match="not a list of rows"):
        fixes.rows("overall")


def test_oncall_errors_name_the_argument_in_the_library_and_the_flag_typed_in_the_cli(demo, tmp_path):
    db, config = demo
    with fireline.Workspace(db=db, config=config) as ws, pytest.raises(fireline.UserError) as caught:
        ws.oncall_gaps(since="2026-03-10", until="2026-03-01")
    assert str(caught.value).startswith("since/until: the window is empty")
    for flags, named in ((["--from", "2026-03-10", "--to", "2026-03-01"], "--from/--to"),
                         (["--since", "2026-03-10", "--until", "2026-03-01"], "--since/--until")):
        res = CliRunner().invoke(app, ["oncall", "gaps", "--db", str(db), "--config", str(config), *flags])
        assert isinstance(res.exception, fireline.UserError)
        assert res.exception.for_cli().startswith(f"{named}: the window is empty")
    with fireline.Workspace(db=tmp_path / "none.duckdb", config=config) as ws:
        # rotations answer without a store; what needs history says it is unknown
        out = ws.oncall_gaps(since="2026-03-02", until="2026-03-09")
    assert out.unverified_deployments["unknown"].startswith("no store")


def test_root_options_reach_every_command_and_do_not_outlive_it(demo, tmp_path, monkeypatch):
    db, config = demo
    monkeypatch.chdir(tmp_path)  # no store and no config here
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "--config", str(config), "postmortem", "repeats", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["window_days"] == 90
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
    res = runner.invoke(app, ["--config", str(tmp_path / "missing.toml"), "alerts", "lint", str(rules)])
    # the root --config reached a config-only command
    assert isinstance(res.exception, fireline.UserError) and "missing.toml" in str(res.exception)
    res = runner.invoke(app, ["events", "failed", "--json"])  # the next command in the process: defaults again
    assert isinstance(res.exception, fireline.UserError) and ".fireline/fireline.duckdb" in str(res.exception)


def test_config_names_the_store_and_the_as_of_time(tmp_path, monkeypatch):
    monkeypatch.delenv("FIRELINE_DB", raising=False)
    config = tmp_path / "fireline.toml"
    config.write_text('timezone = "Europe/London"\ndb = "team.duckdb"\nat = "2026-07-05"\n')
    with fireline.Workspace(config=config) as ws:
        assert ws.url == str(tmp_path / "team.duckdb")  # relative to the config's folder, not the working one
        assert ws.now() == datetime(2026, 7, 5, 23, tzinfo=UTC) and ws.today() == date(2026, 7, 5)
        ws.set_now("2026-03-01T12:00")  # --at wins; None is the config's again
        assert ws.now() == datetime(2026, 3, 1, 12, tzinfo=UTC)
        ws.set_now(None)
        assert ws.today() == date(2026, 7, 5)
    with fireline.Workspace(db=tmp_path / "other.duckdb", config=config) as ws:
        assert ws.url == str(tmp_path / "other.duckdb")
    monkeypatch.setenv("FIRELINE_DB", str(tmp_path / "env.duckdb"))
    assert fireline.Workspace(config=config).url == str(tmp_path / "env.duckdb")
    for bad, named in (('at = "2026-13-01"', "at: not a date"), ('db = " "', "db: "), ("at = 5", "at: ")):
        config.write_text(bad + "\n")
        with pytest.raises(fireline.UserError, match=re.escape(f"fireline.toml: {named}")):
            fireline.load_config(config)


def test_debt_for_a_team_or_service_scans_only_its_repositories(demo):
    """Regression: `debt --team Data` read every repository's working tree (all four of the demo)."""
    db, config = demo
    with fireline.Workspace(db=db, config=config, now="2026-07-05T00:00Z") as ws:
        assert [s["repo"] for s in ws.debt(team="Data").scans] == ["data-platform"]
        assert [s["repo"] for s in ws.debt(service="web-ui").scans] == ["web-ui"]
        assert len(ws.debt().scans) == 4


def test_knowledge_without_a_path_reads_the_configured_repositories(demo, tmp_path, monkeypatch):
    db, config = demo
    monkeypatch.chdir(tmp_path)  # not a repository: the configured ones are read, not the current folder
    runner = CliRunner()
    base = ["knowledge", "--db", str(db), "--config", str(config), "--at", "2026-07-05T00:00Z", "--json"]
    one = json.loads(runner.invoke(app, [*base, "--team", "Data"]).stdout)
    assert [r["repo"] for r in one["repositories"]] == ["data-platform"]
    every = json.loads(runner.invoke(app, base).stdout)
    assert sorted(r["repo"] for r in every["repositories"]) == ["data-platform", "platform-infra", "pricing-engine",
                                                                 "web-ui"]
    res = runner.invoke(app, [*base, "--team", "Nope"])
    assert isinstance(res.exception, fireline.UserError) and res.exception.for_cli().startswith("--team: unknown team")


def test_a_team_report_replays_only_that_teams_repositories(demo):
    """Regression: `report --team Data` replayed every repository's history for its knowledge, debt and
    on-call parts, though none of the others can appear in it."""
    from fireline.app.report import build_context
    from fireline.app.report.context import histories

    db, config = demo
    with fireline.Workspace(db=db, config=config, now="2026-07-05T00:00Z") as ws:
        ctx = build_context(ws.existing_store(), ws.config, team="Data", since="2026-01-05")
        assert sorted(histories(ctx)) == ["data-platform"]
        everyone = build_context(ws.existing_store(), ws.config, since="2026-01-05")
        assert len(histories(everyone)) == 4
