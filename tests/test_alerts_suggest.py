"""`fireline alerts suggest`: the rules the talk's incident lacked, valid and with runbooks."""

from __future__ import annotations

import promql_parser
import pytest
import yaml

from fireline.alerting.suggest import suggest
from fireline.errors import UserError


def test_writes_rules_for_disk_and_the_silent_job_with_runbook_stubs(tmp_path):
    result = suggest("purger", job="purge-job", team="Data", out=tmp_path)
    rules = yaml.safe_load(result.rules_file.read_text())["groups"][0]["rules"]
    names = [r["alert"] for r in rules]
    assert names == ["PurgerDiskUsageHigh", "PurgerDiskFillsWithin24h", "PurgerJobLastSuccessTooOld",
                     "PurgerJobHeartbeatMissing", "PurgerJobErrors"]
    for rule in rules:
        promql_parser.parse(rule["expr"])  # real PromQL, or this raises
        assert 'job="purge-job"' in rule["expr"]
        assert rule["labels"]["team"] == "Data" and rule["labels"]["severity"] in ("warning", "critical")
        assert (tmp_path / rule["annotations"]["runbook_url"]).is_file()
    assert "> 85" in rules[0]["expr"] and "predict_linear" in rules[1]["expr"]
    assert "absent(" in rules[3]["expr"]  # a job that stops raises no error: alert on the missing heartbeat
    assert len(result.runbooks) == 5 and all("## First checks" in p.read_text() for p in result.runbooks)


def test_refuses_to_overwrite_unless_forced(tmp_path):
    suggest("purger", out=tmp_path)
    with pytest.raises(UserError, match="would overwrite"):
        suggest("purger", out=tmp_path)
    suggest("purger", out=tmp_path, force=True)


def test_suggested_rules_pass_the_linter(tmp_path):
    from fireline.alerting import lint, settings

    result = suggest("purger", job="purger", team="Data", out=tmp_path)
    assert lint.lint_paths([result.rules_file], settings.load({}), repo_root=tmp_path) == []


def test_cli_lint_exit_codes_and_sarif(tmp_path):
    import json
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.rules.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: DiskFull\n    expr: node_filesystem_avail_bytes\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "fireline.cli", "alerts", "lint", *args], cwd=tmp_path,
                              capture_output=True, text=True, env=env, check=False)

    text = run(str(bad))
    assert text.returncode == 1 and "always-fires" in text.stdout and "bad.rules.yml:5" in text.stdout
    sarif = json.loads(run(str(bad), "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"always-fires", "annotations-missing", "runbook-missing"}
    assert run(str(tmp_path / "missing.yml")).returncode == 2
