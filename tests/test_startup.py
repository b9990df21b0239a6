"""Start-up stays cheap: the CLI and the library load Ibis, Altair, FastAPI and pandas only for a command that
needs them. A behaviour test (which modules a fresh interpreter holds), never a timing test: the timings are in
bench/startup.py and BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Not pydantic: Typer itself imports it to parse any command's options.
HEAVY = ("ibis", "altair", "fastapi", "pandas", "duckdb", "pyarrow", "uvicorn", "sqlglot", "numpy")


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter holds after running `code`."""
    probe = (f"import sys\n{code}\n"
             f"import json; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_cli_loads_no_heavy_package():
    assert _loaded_after("import fireline.cli") == []


def test_import_library_loads_no_heavy_package():
    assert _loaded_after("import fireline") == []


@pytest.mark.parametrize("args", [["--help"], ["dora", "--help"], ["ingest", "--help"], ["actions", "--help"],
                                  ["oncall", "--help"], ["debt", "--help"], ["sync", "--help"],
                                  ["sync", "github", "--help"], ["notify", "--help"], ["notify", "send", "--help"],
                                  ["--version"]])
def test_help_loads_no_heavy_package(args):
    code = ("from fireline.cli import app\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        app({args!r}, prog_name='fireline')\n"
            "    except SystemExit as exc:\n"
            "        assert exc.code in (0, None), exc.code\n")
    assert _loaded_after(code) == []
