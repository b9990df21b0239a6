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
