"""`fireline alerts lint`: rule-file loading with line numbers, each check, the output formats, settings."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from fireline.alerting import settings as alert_settings
from fireline.alerting.checks import CHECKS, Finding
from fireline.alerting.lint import lint_paths
from fireline.errors import UserError
from fireline.sources.rules import duration_ms, load_rule_files
from fireline.views.findings import exit_code, findings_from_json, render_json, render_sarif, render_text

DATA = Path(__file__).parent / "data" / "prometheus-rules"
RULEFMT = DATA / "rulefmt"
AWESOME = DATA / "awesome"
PARSE_CHECKS = {"rule-file-invalid", "promql-invalid"}
RULE_A = "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"

GOOD = """\
groups:
  - name: disk
    rules:
      - alert: DiskAlmostFull
        expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1
        for: 10m
        labels:
          severity: critical
          team: sre
        annotations:
          summary: Disk almost full on {{ $labels.instance }}
          description: Less than 10% left. Run the purger job and check its last success.
          runbook_url: https://runbooks.example.com/disk
      - alert: PurgerNeverRan
        expr: absent(purger_last_success_timestamp_seconds)
        for: 1h
        labels: {severity: ticket, owner: data}
        annotations:
          summary: The purger has not reported
          description: See docs/runbooks/purger.md
          runbook_url: docs/runbooks/purger.md
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
"""

BAD = """\
groups:
  - name: web
    rules:
      - alert: Errors
        expr: rate(http_errors_total[5m])
        labels:
          severity: critical
        annotations:
          summary: Errors {{ $labels.job }
      - alert: Errors
        expr: sum(rate(x[5m])) > 1
        labels:
          severity: sev1
      - alert: Broken
        expr: rate(up)
        labels:
          severity: info
          team: web
        annotations:
          summary: s
          description: d
          runbook_url: nowhere/missing.md
      - record: job:bad
        expr: sum(
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _lint(path: Path, config: dict | None = None, root: Path | None = None) -> list[Finding]:
    return lint_paths([path], alert_settings.load(config or {}), repo_root=root or path.parent)


def _by_check(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.check_id, []).append(f)
    return out


def test_good_file_has_no_findings(tmp_path):
    (tmp_path / "docs" / "runbooks").mkdir(parents=True)
    (tmp_path / "docs" / "runbooks" / "purger.md").write_text("# purger\n")
    assert _lint(_write(tmp_path, "good.yml", GOOD)) == []


def test_each_check_fires_at_the_right_line(tmp_path):
    # owner-label is off unless asked for (test_alerts_real_rules.py); on here, one of owner/team.
    found = _by_check(_lint(_write(tmp_path, "bad.yml", BAD), {"checks": {"owner-label": {"enabled": True}}}))
    lines = {c: sorted(f.line for f in fs) for c, fs in found.items()}
    assert lines["always-fires"] == [5]
    assert lines["for-missing"] == [4]  # the second Errors is sev1, not a paging severity
    assert lines["template-unbalanced"] == [9]
    assert lines["severity-label"] == [13]
    assert "duplicate-alert" not in lines  # the two Errors differ in severity: a pair, not a duplicate
    assert lines["promql-invalid"] == [15, 24]  # the alert's expr, and the recording rule's
    assert lines["owner-label"] == [6, 12]
    assert lines["annotations-missing"] == [8, 10]
    assert lines["runbook-missing"] == [4, 10, 22]
    assert "nowhere/missing.md" in found["runbook-missing"][-1].message
    assert all(f.group == "web" for fs in found.values() for f in fs)
    assert {f.rule for f in found["promql-invalid"]} == {"Broken", "job:bad"}
    # duplicate-alert (same name and labels) is exercised in test_alerts_real_rules.py.
    assert set(found) == set(CHECKS) - {"rule-file-invalid", "duplicate-alert"}


def test_runbook_accepted_from_description_action(tmp_path):
    text = GOOD.replace("          runbook_url: https://runbooks.example.com/disk\n", "")
    assert _lint(_write(tmp_path, "a.yml", text.replace("          runbook_url: docs/runbooks/purger.md\n", ""))) == []
    # Words inside a template do not count as the next step.
    text = text.replace("Run the purger job and check its last success.", "{{ $labels.run }} is low")
    found = _lint(_write(tmp_path, "b.yml", text.replace("          runbook_url: docs/runbooks/purger.md\n", "")))
    assert [(f.check_id, f.line) for f in found] == [("runbook-missing", 4)]


@pytest.mark.parametrize("text, reason, line", [
    ("groups: {a: 1}\n", "`groups` must be a list", 1),
    ("groups:\n  - name: a\n    rules:\n      - alert: A\n        record: b\n        expr: up\n", "both", 4),
    (RULE_A + "        forr: 5m\n", "unknown field 'forr'", 6),
    (RULE_A + "        for: 5 minutes\n", "not a duration", 6),
    ("groups:\n  - name: a\n  - name: a\n", "defined twice", 3),
    ("groups:\n  - name: a\n    rules:\n      - alert: A\n", "no `expr`", 4),
    (RULE_A + "        expr: down\n", "twice", 6),
    ("groups:\n  - name: a\n    rules: [\n", "YAML syntax error", 4),
    ("hello: world\n", "not a rule file", 1),
])
def test_structure_errors_are_findings_with_lines(tmp_path, text, reason, line):
    found = [f for f in _lint(_write(tmp_path, "r.yml", text)) if f.check_id == "rule-file-invalid"]
    assert found and found[0].severity == "error"
    assert reason in found[0].message and found[0].line == line, found


def test_prometheus_rule_objects_in_multi_document_files(tmp_path):
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n"
        "    - name: one\n      rules:\n        - alert: Up\n          expr: up\n---\n"
        "groups:\n  - name: two\n    rules:\n      - record: a:b\n        expr: sum(up)\n"
    )
    [rf] = load_rule_files([_write(tmp_path, "k8s.yaml", text)])
    assert rf.problems == []
    assert [(g.name, g.line) for g in rf.groups] == [("one", 10), ("two", 16)]
    assert [(r.name, r.line, r.line_of("expr")) for r in rf.rules] == [("Up", 12, 13), ("a:b", 18, 19)]
    found = _lint(tmp_path / "k8s.yaml")
    assert {f.line for f in found if f.check_id == "always-fires"} == {13}


def test_rulefmt_bad_fixtures_refused_good_accepted():
    bad = sorted(RULEFMT.glob("*.bad.yaml"))
    assert len(bad) >= 5
    for path in bad:
        errors = [f for f in _lint(path) if f.severity == "error" and f.check_id in PARSE_CHECKS]
        assert errors and all(f.message and f.line >= 1 for f in errors), path.name
    for path in sorted(set(RULEFMT.glob("*.yaml")) - set(bad)):
        assert not [f for f in _lint(path) if f.check_id in PARSE_CHECKS], path.name


def test_every_awesome_file_lints_without_crashing():
    files = load_rule_files([AWESOME])
    assert len(files) >= 90
    assert sum(len(f.rules) for f in files) > 800
    found = lint_paths([AWESOME], alert_settings.load({}), repo_root=DATA)
    counts = Counter(f.check_id for f in found)
    assert counts["rule-file-invalid"] == 0 and counts["promql-invalid"] == 0
    assert counts["runbook-missing"] > 100 and counts["owner-label"] == 0  # no require_labels configured
    assert all(f.file.startswith("awesome/") and f.line >= 1 for f in found)


def test_text_output_is_grouped_sorted_and_summarised(tmp_path):
    found = _lint(_write(tmp_path, "bad.yml", BAD), root=tmp_path)
    text = render_text(found)
    body = text.splitlines()[:-1]
    assert body[0].startswith("bad.yml:4: warning ")
    assert [int(line.split(":")[1]) for line in body] == sorted(int(line.split(":")[1]) for line in body)
    assert text.splitlines()[-1].startswith(f"{len(found)} findings (")
    assert "runbook-missing 3" in text.splitlines()[-1]
    assert render_text([]) == "no findings\n"


def test_json_round_trips(tmp_path):
    found = _lint(_write(tmp_path, "bad.yml", BAD))
    assert findings_from_json(render_json(found)) == found
    assert json.loads(render_json(found))["counts"]["runbook-missing"] == 3


def test_sarif_has_the_required_structure(tmp_path):
    found = _lint(_write(tmp_path, "bad.yml", BAD), root=tmp_path)
    log = json.loads(render_sarif(found, CHECKS.values()))
    assert log["version"] == "2.1.0" and "$schema" in log
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fireline"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert set(rule_ids) == set(CHECKS)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == len(found)
    for result in run["results"]:
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "bad.yml"
        assert loc["region"]["startLine"] >= 1


def test_exit_code_follows_fail_on():
    warn = Finding("owner-label", "warning", "m", "f", 1)
    info = Finding("owner-label", "info", "m", "f", 1)
    assert exit_code([]) == 0 and exit_code([info]) == 0 and exit_code([warn]) == 1
    assert exit_code([warn], fail_on="error") == 0
    assert exit_code([info], fail_on="info") == 1
    with pytest.raises(UserError, match="--fail-on"):
        exit_code([], fail_on="fatal")


def test_settings_disable_a_check_change_a_parameter_and_a_severity(tmp_path):
    path = _write(tmp_path, "bad.yml", BAD)
    config = {"checks": {
        "owner-label": {"enabled": False},
        "severity-label": {"allowed": ["sev1", "critical", "info"]},
        "for-missing": {"paging": ["sev1"], "severity": "error"},
    }}
    found = _by_check(_lint(path, config))
    assert "owner-label" not in found
    assert "severity-label" not in found
    assert [(f.line, f.severity) for f in found["for-missing"]] == [(10, "error")]


def test_for_missing_minimum_is_a_parameter(tmp_path):
    text = GOOD.replace("for: 10m", "for: 0m")
    (tmp_path / "docs" / "runbooks").mkdir(parents=True)
    (tmp_path / "docs" / "runbooks" / "purger.md").write_text("# purger\n")
    path = _write(tmp_path, "g.yml", text)
    assert [f.line for f in _lint(path)] == [6]
    assert _lint(path, {"checks": {"for-missing": {"min_for": "0s"}}}) == []


@pytest.mark.parametrize("config, key", [
    ({"checks": {"runbook-missing": {"enabled": "sometimes"}}}, "alerts.checks.runbook-missing.enabled"),
    ({"checks": {"runbook": {"enabled": False}}}, "alerts.checks.runbook: unknown key"),
    ({"chekcs": {}}, "alerts.chekcs: unknown key"),
    ({"checks": {"for-missing": {"min_for": "soon"}}}, "alerts.checks.for-missing.min_for"),
])
def test_bad_settings_name_the_key(config, key):
    with pytest.raises(UserError) as err:
        alert_settings.load(config)
    assert key in str(err.value)


def test_analytics_keys_share_the_alerts_table():
    settings = alert_settings.load({"page_budget": 3, "checks": {"owner-label": {"enabled": False}}})
    assert settings.checks.owner_label.enabled is False


def test_durations():
    assert duration_ms("1h30m") == 5_400_000 and duration_ms("0") == 0 and duration_ms("0m") == 0
    assert duration_ms("5x") is None and duration_ms("") is None and duration_ms("30m1h") is None
