"""DORA on /metrics: per team and service, computed when the data changes (never per scrape), with
names Prometheus' own linter accepts (`promtool check metrics`), and the same figures as the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import fireline.server
from fireline.app.settings import load_config
from fireline.server.app import create_app
from fireline.server.auth import Secrets
from fireline.server.prometheus import metric_names
from fireline.store import Store

from . import report_support as rs
from .conftest import IN_CI

AT = "2026-07-01"  # the demo's history ends in July 2026: its last 30 days, as of the end of 1 July (London)
SINCE, UNTIL = "2026-06-01T23:00:00Z", "2026-07-01T23:00:00Z"
SECRETS = Secrets({"github": None, "gitlab": None, "pagerduty": None, "ingest": "in-token"})


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if IN_CI:
            pytest.fail("promtool is required in CI (Debian's prometheus package; scripts/ensure-services.sh)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


@pytest.fixture(scope="module")
def served(demo_org, tmp_path_factory):
    """/metrics of a server on a copy of the demo store, as of AT, once its figures are computed."""
    demo = rs.demo(demo_org)
    folder = tmp_path_factory.mktemp("metrics")
    db = folder / "fireline.duckdb"
    shutil.copy(demo.db, db)
    config = load_config(demo.config).model_copy(update={"at": AT})
    app = create_app(lambda: Store.open(str(db)), config, secrets=SECRETS, normaliser=False, page_wait=120)
    with TestClient(app) as client:
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=600)
        yield demo, client


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(text: str, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value
            for f in text_string_to_metric_families(text) for s in f.samples if s.name == name}


def test_promtool_accepts_the_metrics_page(served):
    _, client = served
    text = client.get("/metrics").text
    run = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "" and run.stderr.strip() == ""


def test_every_dora_metric_is_on_the_page_with_the_intake_counters(served):
    _, client = served
    text = client.get("/metrics").text
    exposed = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert set(metric_names()) <= exposed
    assert "fireline_intake_received_total" in text or "fireline_intake_received" in _families(text)
    assert "fireline_normalisation_pending" in exposed


def test_the_figures_are_those_of_the_cli(served):
    demo, client = served
    text = client.get("/metrics").text
    run = rs.cli("dora", "--db", str(demo.db), "--config", str(demo.config), "--since", SINCE, "--until", UNTIL,
                 "--json")
    assert run.returncode == 0, run.stderr
    dora = json.loads(run.stdout)
    services = [g for g in dora["groups"] if g.get("service")]
    assert len(services) == 5
    median = _samples(text, "fireline_lead_time_median_seconds")
    p90 = _samples(text, "fireline_lead_time_p90_seconds")
    failure = _samples(text, "fireline_change_failure_ratio")
    restore = _samples(text, "fireline_time_to_restore_median_seconds")
    tiers = _samples(text, "fireline_dora_tier_info")
    for g in services:
        labels = (("service", g["service"]), ("team", g["team"]))
        assert median[labels] == pytest.approx(g["lead_time"]["value"] * 3600)
        assert p90[labels] == pytest.approx(g["lead_time"]["p90"] * 3600)
        assert failure[labels] == pytest.approx(g["change_failure_rate"]["value"])
        if g["time_to_restore"]["value"] is None:
            assert labels not in restore  # unknown is left out, never 0
        else:
            assert restore[labels] == pytest.approx(g["time_to_restore"]["value"] * 3600)
        tier = g["lead_time"]["tier"]
        assert tiers[(("metric", "lead_time"), *labels[:1], ("team", g["team"]), ("tier", tier))] == 1
    # The counters count every deployment the store holds, whatever the window.
    everything = rs.cli("dora", "--db", str(demo.db), "--config", str(demo.config), "--since", "2000-01-01",
                        "--until", UNTIL, "--json")
    groups = {g["service"]: g for g in json.loads(everything.stdout)["groups"] if g.get("service")}
    deployed = _samples(text, "fireline_deployments_total")
    changes = _samples(text, "fireline_changes_deployed_total")
    for service, g in groups.items():
        labels = (("service", service), ("team", g["team"]))
        assert deployed[labels] == g["deployment_frequency"]["count"]
        assert changes[labels] == g["lead_time"]["count"]


def test_action_items_per_team_are_those_of_the_cli(served):
    demo, client = served
    text = client.get("/metrics").text
    run = rs.cli("actions", "--db", str(demo.db), "--config", str(demo.config), "--at", AT, "--json")
    assert run.returncode == 0, run.stderr
    by_team = {t["team"]: t for t in json.loads(run.stdout)["by_team"]}
    opened = _samples(text, "fireline_action_items_open")
    overdue = _samples(text, "fireline_action_items_overdue")
    assert by_team and sum(opened.values()) == sum(t["open"] for t in by_team.values())
    for team, t in by_team.items():
        assert opened[(("team", team),)] == t["open"] and overdue[(("team", team),)] == t["overdue"]
    assert set(_samples(text, "fireline_oncall_coverage_gaps")) == {(("team", t),) for t in ("C++", "Data", "SRE",
                                                                                                 "UI")}


def test_the_figures_are_computed_when_the_data_changes_not_per_scrape(tmp_path):
    config = rs.small_store(Store.open(str(tmp_path / "s.duckdb")), tmp_path)
    config = config.model_copy(update={"at": "2026-03-31"})
    app = create_app(lambda: Store.open(str(tmp_path / "s.duckdb")), config, secrets=SECRETS, normaliser=True,
                     page_wait=120)
    with TestClient(app) as client:
        pages = app.state.precompute
        assert pages.wait_for(pages.generation(), timeout=300)
        first, again = client.get("/metrics").text, client.get("/metrics").text
        stamp = "fireline_dora_computed_timestamp_seconds"
        assert _samples(first, stamp) == _samples(again, stamp)  # two scrapes, one computation
        api = (("service", "api"), ("team", "Red"))
        assert _samples(first, "fireline_deployments_total")[api] == 28
        event = {"id": "d-99", "type": "deployment", "service": "api", "environment": "production",
                 "sha": "9" * 40, "time": "2026-03-30T10:00:00Z", "status": "success"}
        assert client.post("/events", json=event, headers={"authorization": "Bearer in-token"}).status_code == 202
        # The normaliser derives the deployment; the worker sees the store's generation move and recomputes.
        for _ in range(600):
            text = client.get("/metrics").text
            if _samples(text, "fireline_deployments_total").get(api) == 29:
                break
            pages.wait_for(pages.generation(), timeout=1)
        assert _samples(text, "fireline_deployments_total")[api] == 29
        assert _samples(text, "fireline_store_generation")[()] > _samples(first, "fireline_store_generation")[()]


GRAFANA = Path(fireline.server.__file__).parent / "grafana"
DASHBOARD, RULES = GRAFANA / "fireline-dora.json", GRAFANA / "fireline-dora-rules.yml"


def _exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    found += [v["query"]["query"] for v in dashboard["templating"]["list"]]
    rules = yaml.safe_load(RULES.read_text())
    return found + [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_the_dashboard_and_the_rules_use_only_metrics_the_demo_exposes(served):
    _, client = served
    exposed = {s.name for f in text_string_to_metric_families(client.get("/metrics").text) for s in f.samples}
    used = {name for expr in _exprs() for name in re.findall(r"\bfireline_[a-z0-9_]+", expr)}
    assert len(used) >= 10
    assert used <= exposed, sorted(used - exposed)


def test_the_example_rules_pass_fireline_alerts_lint_and_promtool():
    lint = rs.cli("alerts", "lint", str(RULES), "--format", "json", "--fail-on", "info")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert json.loads(lint.stdout)["findings"] == []
    run = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "SUCCESS: 4 rules found" in run.stdout, run.stdout + run.stderr


def test_the_dashboard_and_the_rules_ship_in_the_package():
    import tomllib

    shipped = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = shipped["tool"]["setuptools"]["package-data"]["fireline.server"]
    assert {p.split("/")[-1] for p in patterns} >= {"*.json", "*.yml"}
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "fireline-dora" and {v["name"] for v in dashboard["templating"]["list"]} == {
        "team", "service"}
