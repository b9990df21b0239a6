"""The demo's rotations tell the talk's story: a conference gap and a weekend release nobody verified."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fireline.cli import app


@pytest.fixture(scope="module")
def demo(demo_org):
    return str(demo_org.db), str(demo_org.directory / "world" / "fireline.toml")


def _json(*args: str) -> dict:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_the_demo_gaps_report_tells_the_story(demo):
    db, config = demo
    data = _json("oncall", "gaps", "--db", db, "--config", config, "--from", "2026-01-05", "--to", "2026-07-04")
    assert {(g["team"], tuple(g["why"])) for g in data["gaps"]} == {
        ("UI", ("Priya Raman: conference (PyCon US)",)),
        ("Data", ("Tom Fletcher: pto (Tom Fletcher - PTO (long weekend))",))}
    # Found by its facts, not its id: deployment ids renumber when the demo gains history.
    (hotfix,) = [u for u in data["unverified_deployments"]["unverified"] if u["team"] == "Data"]
    assert (hotfix["service"], hotfix["type"], hotfix["weekday"]) == ("purger", "hotfix", "Sunday")
    (away,) = data["experts_away"]["periods"]
    assert away["service"] == "purger" and away["experts"] == ["Priya Raman"]
    assert any("Good Friday" in " ".join(s["days"]) for s in data["weekend_stretches"])


def test_the_demo_rotations_span_at_least_three_zones(demo):
    db, config = demo
    load = _json("oncall", "load", "--db", db, "--config", config, "--from", "2026-01-05", "--to", "2026-07-04")
    assert len({p["zone"] for p in load["people"]}) >= 3
    assert all(p["pages"] is not None for p in load["people"])
    now = _json("oncall", "now", "--config", config, "--at", "2026-05-16T09:15")
    assert {t["team"]: t["person"] for t in now["teams"]}["Data"] is None  # the customer found the disk full


def test_the_docs_example_runs(tmp_path):
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "oncall.md").read_text()
    (block,) = re.findall(r"```sh\n(.*?)```", doc, flags=re.DOTALL)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "120"}
    env.pop("FIRELINE_CONFIG", None)
    env.pop("FIRELINE_DB", None)
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Tom Fletcher" in run.stdout and "Priya Raman: conference (PyCon)" in run.stdout
    assert "exit code 1" in run.stdout and "Traceback" not in run.stdout + run.stderr
    shifts = json.loads((tmp_path / "schedule.json").read_text())["shifts"]
    assert any(s["reason"] == "pto for Tom Fletcher: Easter" and s["person"] == "Sofia Alvarez" for s in shifts)
    assert (tmp_path / "data.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_one_expansion_and_loaded_histories_give_the_same_figures(demo):
    # The report expands the schedules once and hands over the histories it already loaded: the
    # figures must be exactly those of `fireline oncall gaps` and `load`, which compute their own.
    from fireline.config import load_config
    from fireline.identity import People
    from fireline.metrics.knowledge_history import load_history
    from fireline.oncall import report
    from fireline.oncall.settings import load
    from fireline.store import Store
    from fireline.window import parse_window

    db, config = demo
    cfg = load_config(config)
    setup = load(cfg)
    lo, hi = parse_window("2026-01-05", "2026-07-04", cfg.timezone, None)
    store = Store.open(db, create=False)
    try:
        tables = store.tables()
        repos = [r["repo"] for r in tables["repos"].select("repo").to_pyarrow().to_pylist()]
        histories = {r: load_history(tables, r, people=People.from_config(cfg)) for r in repos}
        for teams in (None, {"Data"}):
            scheds = report.expand(setup, lo, hi, teams)
            assert report.coverage(setup, cfg, tables, lo, hi, teams=teams, scheds=scheds, histories=histories) == \
                report.coverage(setup, cfg, tables, lo, hi, teams=teams)
            assert report.load(setup, tables, lo, hi, cfg.team_of, teams=teams, scheds=scheds) == \
                report.load(setup, tables, lo, hi, cfg.team_of, teams=teams)
    finally:
        store.close()
