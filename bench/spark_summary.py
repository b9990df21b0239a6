"""`summarise` on local Spark (PySpark through Ibis) against DuckDB, on the same store.

    python bench/spark_summary.py DB [--config TOML] [--by week|month] [--since ISO --until ISO]
                                     [--runs N] [--cores N]

The store's tables are written to parquet (cached next to the store) and read by a local
SparkSession (`local[N]`) through `ibis.pyspark.connect`. Reported for each engine: the
seconds of each `summarise` (the first includes Spark's warm-up), the round trips Ibis made
(fetches, executes, cached tables, through a hook on the backend) and, on Spark, the Spark
jobs they started; and whether both engines gave the same figures (JSON of the summary).
Needs `pip install pyspark` and a Java runtime; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from child import peak_mib  # noqa: E402
from roundtrips import counted  # noqa: E402

# What summarise reads.
TABLES = ("deployments", "changes", "deployment_changes", "incidents", "incident_deployments", "change_files",
          "feature_flags")
def export(store: Any, db: Path) -> Path:
    import pyarrow.parquet as pq

    folder = db.parent / f"{db.stem}-parquet"
    marker = folder / "source.json"
    stamp = {"db": str(db), "mtime": db.stat().st_mtime}
    if marker.exists() and json.loads(marker.read_text()) == stamp:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        pq.write_table(store.con.table(name).to_pyarrow(), folder / f"{name}.parquet")
    marker.write_text(json.dumps(stamp))
    return folder


def measure(tables: dict[str, Any], backend: Any, run: Callable[[dict[str, Any]], Any], runs: int,
            jobs: Callable[[], int] | None = None) -> dict[str, Any]:
    seconds, trips, spark_jobs, result = [], [], [], None
    kinds: set[str] = set()
    for _ in range(runs):
        jobs_before = jobs() if jobs else 0
        t = time.perf_counter()
        with counted(backend) as calls:
            result = run(tables)
        seconds.append(time.perf_counter() - t)
        trips.append(len(calls))
        kinds.update(calls)
        if jobs:
            spark_jobs.append(jobs() - jobs_before)
    out: dict[str, Any] = {"seconds": seconds, "round_trips": trips, "kinds": sorted(kinds)}
    if jobs:
        out["spark_jobs"] = spark_jobs
    out["summary"] = json.loads(json.dumps(result.as_dict(), default=str))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--config", type=Path, help="fireline.toml with the teams (default: genstore's teams)")
    ap.add_argument("--by", choices=("week", "month"))
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    ap.add_argument("--save", type=Path, help="write each engine's summary (JSON) into this folder")
    args = ap.parse_args(argv)

    import ibis

    from fireline.app.dora import group_sets
    from fireline.config import Config, load_config
    from fireline.metrics.scope import Scope
    from fireline.metrics.summary import summarise
    from fireline.metrics.tiers import SEED
    from fireline.scope import team_map
    from fireline.store import Store

    store = Store.open(str(args.db), create=False)
    if args.config:
        config = load_config(args.config)
        team_of = team_map(config, store)
    else:
        import genstore

        config, team_of = Config(), genstore.team_of()
    if args.since:
        scope = Scope(since=datetime.fromisoformat(args.since), until=datetime.fromisoformat(args.until))
    else:
        import genstore

        since, until = genstore.window()
        scope = Scope(since=since, until=until)
    sets = group_sets(config, args.by) if args.config else ((("team", "period"),) if args.by else
                                                            (("team",), ("service",)))

    def run(tables: dict[str, Any]) -> Any:
        return summarise(tables, scope, SEED, team_of=team_of, group_sets=sets, period=args.by)

    folder = export(store, args.db)
    result: dict[str, Any] = {"db": str(args.db), "group_sets": sets, "period": args.by, "conf": args.conf,
                              "duckdb": measure(store.tables(), store.con, run, args.runs)}
    store.close()

    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master(f"local[{args.cores}]").appName("fireline-bench")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", str(args.cores * 2))
               .config("spark.driver.memory", "4g"))
    for setting in args.conf:
        key, _, value = setting.partition("=")
        session = session.config(key, value)
    session = session.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    import pyspark

    con = ibis.pyspark.connect(session)
    tables = {name: con.read_parquet(str(folder / f"{name}.parquet"), table_name=name) for name in TABLES}
    tracker = session.sparkContext.statusTracker()
    session.sparkContext.setJobGroup("fireline-bench", "summarise")
    try:
        result["spark"] = measure(tables, con, run, args.runs,
                                  jobs=lambda: len(tracker.getJobIdsForGroup("fireline-bench")))
    except Exception as exc:  # the point is to report what Spark rejects
        result["spark"] = {"error": f"{type(exc).__name__}: {str(exc)[:2000]}"}
    result["versions"] = {"pyspark": pyspark.__version__, "ibis": ibis.__version__}
    # Peak resident memory of the Spark driver's JVM (local mode: the executors live in it) and of this
    # process (DuckDB's run and Ibis), from the kernel's high-water marks.
    jvm_pid = session.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    result["peak_mib"] = {"spark_jvm": round(peak_mib(int(jvm_pid)), 1), "python": round(peak_mib(), 1)}
    session.stop()
    spark_summary = result["spark"].pop("summary", None)
    duck_summary = result["duckdb"].pop("summary")
    result["same_figures"] = spark_summary == duck_summary
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for name, summary in (("duckdb", duck_summary), ("spark", spark_summary)):
            (args.save / f"{name}.json").write_text(json.dumps(summary, indent=1))
    duck, spark = min(result["duckdb"]["seconds"]), min(result["spark"].get("seconds") or [float("nan")])
    result["ratio_spark_to_duckdb"] = spark / duck
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
