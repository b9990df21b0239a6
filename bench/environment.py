"""What the figures were measured on: they mean little without the machine and versions."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cmd(*args: str) -> str:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    except OSError:
        return "unavailable"
    return proc.stdout.strip() if proc.returncode == 0 else "unavailable"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, Any]:
    dirty = _cmd("git", "status", "--porcelain", "--", "src")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "git": _cmd("git", "--version").removeprefix("git version "),
        "python": platform.python_version(),
        "packages": {d: _version(d) for d in ("duckdb", "ibis-framework", "pyarrow", "pandas", "pydriller")},
        "fireline_commit": _cmd("git", "rev-parse", "--short", "HEAD"),
        "fireline_src_dirty": bool(dirty and dirty != "unavailable"),
        "load_average_start": os.getloadavg(),
    }
