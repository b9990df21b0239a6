"""`fireline dora` on the demo: DuckDB against the local Spark session Fireline builds (`--db pyspark:///DIR`).

    python bench/spark_dora.py DEMO_DIR [--cli N] [--warm N] [--conf KEY=VALUE ...]

DEMO_DIR is what `fireline demo` built (fireline.duckdb, world/fireline.toml); its tables are
exported once to DEMO_DIR/lake (`fireline export parquet`). Two measurements, DuckDB and Spark in
the same run, alternating:
- cold: `fireline dora --json` as a whole process, N times each (Spark: start the JVM, read the
  parquet footers, plan and run every query from nothing);
- warm: `Workspace.dora()` called again and again in one process (what `fireline serve` or a
  notebook pays): seconds of each call, and on Spark the jobs each call started and the CPU
  seconds the JVM spent on it (on a shared machine, CPU is steadier than wall time); the medians
  of calls 11-30 and 31-60 (`--warm 60`) and their ratios.
`--conf KEY=VALUE` adds a Spark setting to the URL's query (the user's settings win over
Fireline's defaults): `--conf spark.driver.extraJavaOptions=` measures without Fireline's JVM flags.
Both engines' figures are compared (floats to 1e-9). Needs pyspark and Java.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

WINDOW = ["--since", "2026-01-05T00:00Z", "--until", "2026-07-05T00:00Z"]


def children_cpu() -> float:
    """CPU seconds of this process' direct children (the Spark JVM), from /proc."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def cli(db: str, config: Path) -> tuple[float, Any]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "fireline", "dora", "--db", db, "--config", str(config), *WINDOW,
                          "--json"], capture_output=True, text=True, check=True, env={**os.environ, "TZ": "UTC"})
    return time.perf_counter() - started, json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("demo", type=Path)
    ap.add_argument("--cli", type=int, default=2, help="whole-process runs per engine")
    ap.add_argument("--warm", type=int, default=4, help="in-process calls per engine (the first is Spark's cold one)")
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    demo = args.demo.resolve()
    duck, config, lake = str(demo / "fireline.duckdb"), demo / "world" / "fireline.toml", demo / "lake"
    if not (lake / "deployments.parquet").exists():
        subprocess.run([sys.executable, "-m", "fireline", "export", "parquet", str(lake), "--db", duck],
                       check=True, capture_output=True)
    query = "&".join(f"{k}={quote(v)}" for k, _, v in (c.partition("=") for c in args.conf))
    spark = f"pyspark://{lake}" + (f"?{query}" if query else "")
    result: dict[str, Any] = {"spark_url": spark, "load_before": os.getloadavg()[0]}

    cold: dict[str, list[float]] = {"duckdb": [], "spark": []}
    answers: dict[str, Any] = {}
    for _ in range(args.cli):
        for name, db in (("duckdb", duck), ("spark", spark)):
            seconds, answers[name] = cli(db, config)
            cold[name].append(round(seconds, 2))
    result["cold_cli_seconds"] = cold
    if answers:
        result["cli_same_figures"] = same(answers["duckdb"], answers["spark"])

    from fireline import Workspace

    warm: dict[str, Any] = {}
    figures = {}
    with Workspace(duck, config) as ws:
        seconds = []
        for _ in range(args.warm):
            t = time.perf_counter()
            figures["duckdb"] = ws.dora(since=WINDOW[1], until=WINDOW[3]).to_dict()
            seconds.append(round(time.perf_counter() - t, 3))
        warm["duckdb"] = {"seconds": seconds}
    from fireline.store.readonly import spark_session

    session = spark_session(spark)  # the session the Workspace below reuses
    tracker = session.sparkContext.statusTracker()
    session.sparkContext.setJobGroup("bench", "dora")
    with Workspace(spark, config) as ws:
        seconds, jobs, cpu = [], [], []
        for _ in range(args.warm):
            j, c, t = len(tracker.getJobIdsForGroup("bench")), children_cpu(), time.perf_counter()
            figures["spark"] = ws.dora(since=WINDOW[1], until=WINDOW[3]).to_dict()
            seconds.append(round(time.perf_counter() - t, 3))
            cpu.append(round(children_cpu() - c, 2))
            jobs.append(len(tracker.getJobIdsForGroup("bench")) - j)
        warm["spark"] = {"seconds": seconds, "jobs": jobs, "jvm_cpu_seconds": cpu}
    result["warm"] = warm
    result["warm_same_figures"] = same(json.loads(json.dumps(figures["duckdb"], default=str)),
                                       json.loads(json.dumps(figures["spark"], default=str)))
    best = {k: min(v["seconds"][1:] or v["seconds"]) for k, v in warm.items()}
    result["ratio_warm"] = round(best["spark"] / best["duckdb"], 1)
    # The JVM keeps compiling Spark's own code for dozens of calls: the median of calls 11-30 is still
    # warming up, that of calls 31-60 is what a long-lived process (`fireline serve`) pays.
    for lo, hi in ((11, 30), (31, 60)):
        if len(warm["spark"]["seconds"]) >= hi:
            medians = {k: statistics.median(v["seconds"][lo - 1:hi]) for k, v in warm.items()}
            result[f"median_calls_{lo}_{hi}"] = {k: round(m, 3) for k, m in medians.items()}
            result[f"ratio_median_calls_{lo}_{hi}"] = round(medians["spark"] / medians["duckdb"], 2)
    if cold["duckdb"]:
        result["ratio_cold_cli"] = round(min(cold["spark"]) / min(cold["duckdb"]), 1)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
