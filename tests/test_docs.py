"""The docs' examples run, and the documented tier bounds are the ones in the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
BIN = Path(sys.executable).parent


def _blocks(markdown: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", markdown, flags=re.DOTALL)


def test_quickstart_runs(tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "120"}
    env.pop("FIRELINE_DB", None)
    env.pop("FIRELINE_CONFIG", None)
    outputs = []
    for block in _blocks((DOCS / "quickstart.md").read_text(), "sh"):
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"block failed:\n{block}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        outputs.append(run.stdout + run.stderr)
    assert "unchanged since the last ingest" in outputs[3]
    assert "'value':" in outputs[4] and "'tier':" in outputs[4]
    assert "bad.csv:2: field 'started'" in outputs[5] and "exit code 2" in outputs[5]
    assert "Traceback" not in "".join(outputs)


def test_tier_bounds_in_docs_match_the_code():
    run = subprocess.run([str(BIN / "fireline"), "tiers"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0
    doc = (DOCS / "tiers.md").read_text()
    for line in run.stdout.strip().splitlines():
        assert line in doc, f"docs/tiers.md is out of date: {line!r} missing"


def test_library_examples_run(demo_org):
    """docs/library.md's Python blocks run in order, in one namespace, on the demo (which they only read)."""
    namespace: dict = {"DEMO": Path(demo_org.db).parent}
    blocks = _blocks((DOCS / "library.md").read_text(), "python")
    assert len(blocks) >= 4
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "docs/library.md", "exec"), namespace)
    printed = out.getvalue()
    assert "median lead time" in printed and "tier" in printed
    assert "unknown service 'nope'" in printed
    assert "changes with a lead time" in printed
    assert "overdue action items, the oldest due" in printed
    assert namespace["figures"]["overall"]["deployment_frequency"]["value"] > 0


def test_cli_reference_is_current():
    """docs/cli.md (from the commands' help) and docs/schema.md (from store/schema.py) are generated: a new option
    or column without a regenerated reference fails."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "cli_reference.py"
    run = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "120"})
    assert run.returncode == 0, run.stderr
