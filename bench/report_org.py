"""`fireline report` on a generated organisation, against the ingestion of the same repositories.

    python bench/report_org.py [--commits 20000,5000,3000,2000] [--since 2024-01-01] [--src PATH]
                               [--profile DIR] [--quick]

The organisation is bench/dashboard.py's (four repositories of bench/genrepo.py shapes, one team and
service each, tags as deployments, marker files committed on top), ingested with `fireline ingest git`
one repository at a time: that ingestion is the baseline. Then, on that store:

- cold: the first `fireline report` (nothing kept yet: marker scans, blame, every part computed);
- warm: the same command again, nothing changed;

each in its own process, timed from start to exit, with its peak memory (the child's ru_maxrss). The
two HTML files must be byte for byte the same (`identical`). `--src PATH` runs another checkout's
code (its `src/`, e.g. /work/main/src) with this interpreter, for a before figure on the same
organisation; `--profile DIR` also writes cProfile files of both runs there (`python -m cProfile -o`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dashboard  # noqa: E402

UNTIL = dashboard.AT  # the generated histories end in early January 2025
TARGETS = {"cold": 1.5, "warm": 0.1}  # x the ingestion (issue 16)


def _measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak MiB, stderr) of one command run to its end; fails loudly when the command does."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        # wait4, not wait: this child's own peak memory (ru_maxrss, KiB), not the largest child's so far.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def report(folder: Path, src: Path | None, since: str, name: str, profile: Path | None) -> dict[str, Any]:
    cmd, env = dashboard._fireline(src)
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "cProfile", "-o", str(profile / f"{name}.prof"), "-m", "fireline.cli"]
    out = folder / f"report-{name}.html"
    out.unlink(missing_ok=True)
    seconds, peak, stdout = _measured([*cmd, "report", "--out", str(out), "--since", since, "--until", UNTIL,
                                       "--db", str(folder / "fireline.duckdb"), "--config",
                                       str(folder / "fireline.toml"), "--json"], env, folder)
    return {"seconds": seconds, "peak_mib": peak, "bytes": out.stat().st_size,
            "sections": json.loads(stdout)["sections"], "html": out}


def run(out: Path, sizes: list[int], since: str, seed: int = 42, src: Path | None = None,
        profile: Path | None = None) -> dict[str, Any]:
    load_start = os.getloadavg()
    folder, repos = dashboard.organisation(out, sizes, seed)
    ingest_seconds = dashboard.ingest(folder, repos, src)
    cold = report(folder, src, since, "cold", profile)
    warm = report(folder, src, since, "warm", profile)
    identical = cold.pop("html").read_bytes() == warm.pop("html").read_bytes()
    ratios = {"cold": cold["seconds"] / ingest_seconds, "warm": warm["seconds"] / ingest_seconds}
    return {"commits": sizes, "src": str(src) if src else None, "window": [since, UNTIL],
            "load_average_start": load_start, "ingest_seconds": ingest_seconds, "cold": cold, "warm": warm,
            "identical": identical, "ratio_cold_to_ingest": ratios["cold"], "ratio_warm_to_ingest": ratios["warm"],
            "targets": TARGETS, "met": {k: ratios[k] <= TARGETS[k] for k in TARGETS},
            "load_average_end": os.getloadavg()}


def markdown(r: dict[str, Any]) -> str:
    org = f"{len(r['commits'])} repositories, {sum(r['commits']):,} commits"
    rows = [f"| `fireline report` {r['window'][0]} – {r['window'][1]}, {name} ({org}) | {r[name]['seconds']:.2f} s | "
            f"{r['ingest_seconds']:.2f} s ingest | {r[f'ratio_{name}_to_ingest']:.3f}x | ≤ {r['targets'][name]}x | "
            f"{'yes' if r['met'][name] else '**no**'} |" for name in ("cold", "warm")]
    return "\n".join(["| Benchmark | Fireline | Baseline | Ratio | Target | Met |", "|---|---:|---:|---:|---|---|",
                      *rows, f"\nSame HTML cold and warm: {'yes' if r['identical'] else '**no**'}."])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", default=None, help="commits of the four repositories (20000,5000,3000,2000)")
    ap.add_argument("--since", default="2024-01-01", help="the report's window start (until: 2024-12-31)")
    ap.add_argument("--src", type=Path, help="run this src/ folder's code instead (a before figure)")
    ap.add_argument("--profile", type=Path, help="write cold.prof and warm.prof (cProfile) in this folder")
    ap.add_argument("--quick", action="store_true", help="small repositories")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    sizes = [int(n) for n in (args.commits or ("2000,1000,500,500" if args.quick else "20000,5000,3000,2000"))
             .split(",")]
    result = run(args.out, sizes, args.since, src=args.src, profile=args.profile)
    print(json.dumps(result, indent=2))
    print(markdown(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
