"""Start-up stays cheap: the CLI and the library load Ibis, Altair, FastAPI and pandas only for a command that
needs them. A behaviour test (which modules a fresh interpreter holds), never a timing test: the timings are in
bench/startup.py and BENCHMARKS.md."""

from __future__ import annotations

import json
import shutil
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


def test_a_metric_command_loads_neither_pandas_nor_the_on_call_libraries(demo_org, tmp_path):
    """`fireline dora` reads figures as Arrow (no pandas) and plans no rotation (no holidays, no iCalendar)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_org.db.parent, folder)
    code = ("import sys, contextlib, io\nfrom fireline.cli import main_with\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n"
            f"        main_with(['--db', {str(folder / 'fireline.duckdb')!r}, '--config', "
            f"{str(folder / 'world' / 'fireline.toml')!r}, 'dora', '--json'], prog_name='fireline')\n"
            "    except SystemExit as exc:\n"
            "        assert exc.code in (0, None), exc.code\n"
            "assert json.loads(out.getvalue())['overall']\n").replace("import sys,", "import json, sys,")
    probe = (f"{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & "
             "{'pandas', 'holidays', 'icalendar'})))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
