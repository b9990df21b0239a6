"""The benchmarks stay alive: `bench/run.py --quick` runs in the suite (seconds, small sizes), so a schema
or API change that breaks a benchmark fails CI, and the figures each section cross-checks still agree
(fireline vs plain pandas, PostgreSQL vs DuckDB, parallel vs sequential links, /metrics vs dora).
No timing is asserted: the figures belong to BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import _pg_bin, _unavailable

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"
# pydriller is the [bench] extra's, not the suite's; every other section runs.
SECTIONS = "ingest,metrics,postgres,org,dashboard,organisation"


def test_the_quick_benchmarks_run_and_their_cross_checks_agree(tmp_path):
    if _pg_bin() is None:  # the postgres section starts its own server
        _unavailable("no initdb for bench/run.py's postgres section")
    run = subprocess.run([sys.executable, str(BENCH), "--quick", "--only", SECTIONS, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "results-quick.json").read_text())
    assert set(SECTIONS.split(",")) <= set(results)
    rows = results["ingest"]["rows"]
    assert rows["changes"] == rows["deployment_changes"] > 0  # every generated commit is linked
    assert all(m["equal"] for m in results["metrics"]["agreement"]["metrics"].values()), results["metrics"]
    assert results["postgres"]["agree"] and all(results["postgres"]["agree"].values())
    assert results["org"]["steps"] and all(step["links_agree"] for step in results["org"]["steps"])
    assert results["dashboard"]["dora_on_metrics"] is True
    assert all(results["organisation"]["checks"].values()), results["organisation"]["checks"]
    # Started again on the unchanged store, the server answers its first GET / with the kept overview.
    assert results["dashboard"]["restart_placeholders"] == 0
