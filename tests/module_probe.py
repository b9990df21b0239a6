"""What a fresh interpreter has imported after some code or a CLI command: the start-up tests check that a
command loads only what it needs (a behaviour a user feels as start-up time, asserted without timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Not pydantic: Typer itself imports it to parse any command's options.
HEAVY = ("ibis", "altair", "fastapi", "pandas", "duckdb", "pyarrow", "uvicorn", "sqlglot", "numpy")

# What a query through Ibis brings in: a result kept in the store is answered without them.
ENGINE_PACKAGES = ("ibis", "pyarrow", "numpy", "sqlglot", "pandas", "altair")


def packages_after(code: str, packages: Iterable[str] = HEAVY, cwd: Path | None = None) -> list[str]:
    """Which of the top-level `packages` a fresh interpreter holds after running `code`."""
    wanted = sorted(packages)
    probe = (f"import sys\n{code}\n"
             f"import json; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({wanted!r}))))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def command_code(args: list[str], *, exits: tuple[int | None, ...] = (0, None), check: str = "") -> str:
    """Code that runs `fireline ARGS` in-process with its stdout in `out` (a StringIO), checks its exit
    code, then runs `check` (e.g. an assert on `out.getvalue()`)."""
    return ("import contextlib, io, json\nfrom fireline.cli import main_with\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n"
            f"        main_with({args!r}, prog_name='fireline')\n"
            "    except SystemExit as exc:\n"
            f"        assert exc.code in {exits!r}, exc.code\n"
            f"{check}\n")
