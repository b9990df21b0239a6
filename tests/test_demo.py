"""The demo organisation end to end: same output every run, same figures on every backend."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from fireline.config import load_config
from fireline.ingest import ingest_deployments, ingest_git, ingest_incidents
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.store import Store

FIRELINE = [sys.executable, "-m", "fireline.cli"]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("FIRELINE_DB", None)
    return subprocess.run([*FIRELINE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _iso(o: object) -> str:
    """What `--json` prints for a value JSON has no type for (fireline.cli.common.print_json)."""
    return o.isoformat() if isinstance(o, datetime | date) else str(o)


def test_demo_is_byte_for_byte_the_same_every_run(tmp_path, demo_org):
    """Every build is the same: `fireline demo --json` in a process of its own, rebuilding over an earlier
    `fireline demo`, prints the summary of the session's demo (built in this process, under another hash
    seed, in another folder) to the byte: every figure, every group and field in order. The table is
    drawn from that summary; the hints after the two naming the folder are printed as built. A third
    build, to compare two tables, would hold no figure the JSON does not."""
    first = _cli(["demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    for team in ("SRE", "Data", "UI", "C++"):
        assert team in first.stdout
    assert "\n".join(demo_org.hints[2:]) + "\n" in first.stdout
    assert (tmp_path / ".fireline/demo/fireline.duckdb").exists()
    second = _cli(["demo", "--json"], tmp_path)  # rebuilds the same folder from scratch
    assert second.returncode == 0, second.stderr
    assert second.stdout == json.dumps(demo_org.summary.as_dict(), indent=2, default=_iso) + "\n"
    teams = {g["team"] for g in json.loads(second.stdout)["groups"]}
    assert teams == {"SRE", "Data", "UI", "C++"}


def test_demo_refuses_to_delete_a_folder_that_is_not_a_demo(tmp_path):
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = _cli(["demo", "--dir", str(precious)], tmp_path)
    assert result.returncode == 2
    assert "not an earlier demo" in result.stderr
    assert (precious / "thesis.tex").exists()


@pytest.fixture(scope="module")
def demo(demo_org):
    return demo_org


def test_demo_tells_the_story(demo):
    groups = {(g.keys["team"], g.keys.get("service")): g.metrics for g in demo.summary.groups}
    purger = groups[("Data", "purger")]
    assert purger["time_to_restore"].count >= 1
    cpp, sre = groups[("C++", None)], groups[("SRE", None)]
    # The C++ team ships rarely with long lead times; SRE ships often and fast.
    assert cpp["lead_time"].value > 7 * 24 > sre["lead_time"].value
    assert cpp["lead_time"].tier == "Low" and sre["lead_time"].tier == "High"
    store = Store.open(str(demo.db))
    by = dict(store.query("SELECT id, detected_by FROM incidents"))
    assert by["INC-0042"] == "customer"
    store.close()


def _summary(store: Store, world_config: Path, scope: Scope) -> dict:
    cfg = load_config(world_config)
    return summarise(store.tables(), scope, SEED, team_of=cfg.service_team_map(sorted(cfg.services)),
                     group_sets=(("team",), ("team", "service"))).as_dict()


def _close(a, b, path="") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), path
    else:
        assert a == b, path


@pytest.mark.postgres
def test_duckdb_and_postgresql_give_the_same_figures(demo, pg_url):
    config_file = demo.directory / "world" / "fireline.toml"
    cfg = load_config(config_file)
    pg = Store.open(pg_url)
    for path in sorted({cfg.repo_path(s) for s in cfg.services}):
        ingest_git(pg, cfg, path)
    world = demo.directory / "world"
    ingest_deployments(pg, cfg, world / "deployments.csv")
    ingest_incidents(pg, cfg, world / "incidents.csv")
    duck = Store.open(str(demo.db))
    scope = demo.summary.scope
    _close(_summary(duck, config_file, scope), _summary(pg, config_file, scope))
    for table in ("changes", "change_files", "deployments", "deployment_changes", "incident_deployments"):
        assert duck.count(table) == pg.count(table), table
    duck.close()
    pg.close()


def test_demo_hotfixes_show_up_as_rework(demo):
    """The purger's hotfix after the disk-full incident, and the export pipeline's, are unplanned work."""
    from fireline.metrics.explain import explain

    store = Store.open(str(demo.db))
    rows = explain(store.tables(), "rework_rate", demo.summary.scope).rows
    store.close()
    typed = {r["service"] for r in rows if r["reason"] == "deployment type hotfix"}
    assert {"purger", "export-pipeline"} <= typed


def test_demo_alert_history_shows_the_noise_and_the_silence(demo):
    from dataclasses import replace

    from fireline.metrics import alerts as alert_metrics

    store = Store.open(str(demo.db))
    scope = demo.summary.scope
    params = replace(alert_metrics.AlertParams(), now=scope.until)
    report = alert_metrics.report(store.tables(), scope, tz="Europe/London", params=params)
    store.close()
    noisy = [r["name"] for r in report["noisy_rules"]]
    assert noisy[0] == "WebUiHighErrorRate" and report["flapping"]["value"] > 0
    assert report["transient"]["value"] > 0
    # The purger had no alert at all: the disk filled up and a customer noticed first.
    assert not any("Purger" in name or "Disk" in name for name in noisy)
    assert report["detection_gap"]["verdict"]


def test_every_command_the_demo_suggests_works_from_its_folder_with_no_flags(demo_org, tmp_path):
    """The demo writes fireline.toml at its root (store, as-of time): its printed hints carry no --db, --config or
    --at, and the short `fireline dora` reproduces what the same command prints with every flag spelled out."""
    import shlex
    import shutil

    from typer.testing import CliRunner

    from fireline.cli import app

    root = tmp_path / "demo"
    shutil.copytree(demo_org.directory, root)
    hints = [line.strip() for line in demo_org.hints if line.startswith("  fireline ")]
    assert len(hints) >= 20
    assert not [h for h in hints if "--db" in h or "--config" in h], hints
    env = {"COLUMNS": "120", "NO_COLOR": "1", "TZ": "UTC", "FIRELINE_DB": None, "FIRELINE_CONFIG": None}
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(root)
    try:
        for hint in hints:
            args = shlex.split(hint.split("   (")[0])[1:]
            if args[0] == "serve":
                continue  # a server runs until stopped: tests/test_serve_cli.py starts one
            res = runner.invoke(app, args, env=env)
            assert res.exit_code in (0, 1), (hint, res.output, res.exception)
            assert res.output.strip(), hint
        short = runner.invoke(app, ["dora", "--since", "2026-01-05", "--team", "Data"], env=env).output
    finally:
        os.chdir(old)
    golden = Path(__file__).resolve().parent / "golden" / "dora-data.txt"
    assert short == golden.read_text()
