"""Alert lint on real rule sets without noise (issue 15: kube-prometheus' manifests gave 159 findings,
139 of them owner-label infos, Watchdog an error, every warning/critical pair a "duplicate").

The rule files here have the shapes of kube-prometheus' (Apache-2.0) PrometheusRule manifests;
Prometheus' own rule validation (model/rulefmt) is the reference for what is invalid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fireline.alerting import settings as alert_settings
from fireline.alerting.lint import lint_paths
from fireline.errors import UserError

GENERAL = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kube-prometheus-rules
spec:
  groups:
  - name: general.rules
    rules:
    - alert: Watchdog
      annotations:
        description: |
          This is an alert meant to ensure that the entire alerting pipeline is functional.
          This alert is always firing, therefore it should always be firing in Alertmanager.
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/general/watchdog
        summary: An alert that should always be firing to certify that Alertmanager is working properly.
      expr: vector(1)
      labels:
        severity: none
    - alert: DeadMansSwitch
      annotations:
        summary: Heartbeat.
        description: See https://example.com/heartbeat for what to do.
      expr: vector(1)
      labels:
        severity: none
    - alert: InfoInhibitor
      annotations:
        description: |
          This is an alert that is used to inhibit info alerts.
          This alert should be routed to a null receiver and configured to inhibit alerts with severity="info".
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/general/infoinhibitor
        summary: Info-level alert inhibition.
      expr: >-
        group by (namespace) (ALERTS{severity = "info"} == 1) unless on (namespace) group by (namespace)
        (ALERTS{alertname != "InfoInhibitor", alertstate = "firing", severity =~ "warning|critical"} == 1)
      labels:
        severity: none
    - alert: EveryTarget
      annotations:
        summary: Every target.
        description: Check the target.
        runbook_url: https://example.com/every
      expr: up
      labels:
        severity: warning
        none: none
"""

STORAGE = """\
groups:
- name: kubernetes-storage
  rules:
  - alert: KubePersistentVolumeFillingUp
    annotations:
      summary: PersistentVolume is filling up.
      description: Less than 3% left. Check the volume.
      runbook_url: https://example.com/pv
    expr: kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.03
    for: 1m
    labels:
      severity: critical
  - alert: KubePersistentVolumeFillingUp
    annotations:
      summary: PersistentVolume is filling up.
      description: Less than 15% left. Check the volume.
      runbook_url: https://example.com/pv
    expr: kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.15
    for: 1h
    labels:
      severity: warning
  - alert: KubeAPIErrorBudgetBurn
    annotations: {summary: Burn., description: Check the apiserver., runbook_url: https://example.com/burn}
    expr: sum(apiserver_request:burnrate1h) > 0.144
    for: 2m
    labels: {severity: critical, long: 1h, short: 5m}
  - alert: KubeAPIErrorBudgetBurn
    annotations: {summary: Burn., description: Check the apiserver., runbook_url: https://example.com/burn}
    expr: sum(apiserver_request:burnrate6h) > 0.06
    for: 15m
    labels: {severity: critical, long: 6h, short: 30m}
  - alert: Copied
    annotations: {summary: Copy., description: Check it., runbook_url: https://example.com/copy}
    expr: up == 0
    for: 5m
    labels: {severity: warning}
  - alert: Copied
    annotations: {summary: Copy., description: Check it., runbook_url: https://example.com/copy}
    expr: up == 0
    for: 10m
    labels: {severity: warning}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _lint(path: Path, config: dict | None = None):
    return lint_paths([path], alert_settings.load(config or {}), repo_root=path.parent)


def test_always_firing_alerts_are_meant_to(tmp_path):
    found = _lint(_write(tmp_path, "general.yaml", GENERAL))
    by_rule = {(f.check_id, f.rule) for f in found}
    # Watchdog says so, DeadMansSwitch is vector(1): neither is an error; `up` alone still is.
    assert ("always-fires", "Watchdog") not in by_rule
    assert ("always-fires", "DeadMansSwitch") not in by_rule
    assert ("always-fires", "EveryTarget") in by_rule
    # severity "none" is how heartbeats and inhibitors are routed nowhere.
    assert not [f for f in found if f.check_id == "severity-label"]
    assert [f.severity for f in found if f.check_id == "always-fires"] == ["error"]


def test_severity_none_is_still_refused_on_an_ordinary_alert(tmp_path):
    text = GENERAL.replace("severity: warning\n        none: none", "severity: none")
    found = _lint(_write(tmp_path, "general.yaml", text))
    assert [f.rule for f in found if f.check_id == "severity-label"] == ["EveryTarget"]


def test_warning_critical_pairs_are_not_duplicates(tmp_path):
    found = _lint(_write(tmp_path, "storage.yaml", STORAGE))
    dups = [f for f in found if f.check_id == "duplicate-alert"]
    # Only the copy with the same labels: its alerts cannot be told apart (silences, routing).
    assert [(f.rule, f.line) for f in dups] == [("Copied", 37)]
    assert "same labels" in dups[0].message


def test_label_checks_are_off_unless_the_organisation_asks(tmp_path):
    path = _write(tmp_path, "storage.yaml", STORAGE)
    assert not [f for f in _lint(path) if f.check_id == "owner-label"]
    found = [f for f in _lint(path, {"require_labels": ["team"]}) if f.check_id == "owner-label"]
    assert len(found) == 6 and "no team label" in found[0].message
    # A label on the group counts for each of its rules.
    grouped = STORAGE.replace("- name: kubernetes-storage\n", "- name: kubernetes-storage\n  labels: {team: sre}\n")
    assert not [f for f in _lint(_write(tmp_path, "g.yaml", grouped), {"require_labels": ["team"]})
                if f.check_id == "owner-label"]
    # Each listed label is required.
    two = [f for f in _lint(path, {"require_labels": ["team", "severity"]}) if f.check_id == "owner-label"]
    assert len(two) == 6


@pytest.mark.parametrize(("value", "where"), [
    ("team", "alerts.require_labels"),
    ([""], "alerts.require_labels"),
])
def test_require_labels_is_validated(value, where):
    with pytest.raises(UserError) as err:
        alert_settings.load({"require_labels": value})
    assert where in str(err.value)


@pytest.mark.parametrize("where", ["rule", "group"])
def test_a_rule_setting_the_metric_name_label_is_invalid(tmp_path, where):
    # Prometheus' rulefmt: `!IsValidLabelName(k) || k == model.MetricNameLabel` -> "invalid label name".
    if where == "rule":
        text = "groups:\n- name: g\n  rules:\n  - record: hola\n    expr: '1'\n    labels:\n      __name__: anything\n"
        line = 7
    else:
        text = "groups:\n- name: g\n  labels:\n    __name__: x\n  rules:\n  - record: hola\n    expr: '1'\n"
        line = 4
    found = [f for f in _lint(_write(tmp_path, "r.yaml", text)) if f.check_id == "rule-file-invalid"]
    assert [(f.line, f.severity) for f in found] == [(line, "error")]
    assert "__name__" in found[0].message


def test_utf8_label_names_are_valid(tmp_path):
    # Prometheus 3 validates names as UTF-8 (rulefmt's utf-8_lname.good.yaml).
    text = "groups:\n- name: g\n  rules:\n  - record: hola\n    expr: '1'\n    labels:\n      ins-tance: localhost\n"
    assert [f for f in _lint(_write(tmp_path, "r.yaml", text)) if f.check_id == "rule-file-invalid"] == []


def test_kube_prometheus_shapes_through_the_command(tmp_path):
    _write(tmp_path, "general.yaml", GENERAL)
    _write(tmp_path, "storage.yaml", STORAGE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    run = subprocess.run([sys.executable, "-m", "fireline", "alerts", "lint", str(tmp_path), "--format", "text",
                          "--fail-on", "error"], cwd=tmp_path, env={**env, "COLUMNS": "200"},
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1, run.stderr  # EveryTarget always fires
    assert "Watchdog" not in run.stdout and "owner-label" not in run.stdout
