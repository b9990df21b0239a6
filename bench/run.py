"""Fireline benchmarks, recorded as ratios against a baseline measured in the same run.

    python bench/run.py [--commits N] [--rows N] [--pydriller-commits K] [--repeat R]
                        [--pg-rows N] [--only ingest,pydriller,metrics,postgres,org,dashboard,organisation] [--quick]

1. ingest: fireline's `ingest_git` on a generated N-commit repository vs the bare
   `git log --numstat -M -z` it runs (into /dev/null); peak memory; linking and
   re-ingest (no-op) times as ratios to the ingest.
2. pydriller: PyDriller vs fireline on the same K-commit repository, per-commit speed.
3. metrics: `summarise` per team and week over a synthetic store of N change rows vs
   a plain pandas implementation of the same definitions; peak memories; agreement.
4. postgres: `summarise` (team x week, team + service) on a synthetic store of --pg-rows
   changes in DuckDB and copied into a PostgreSQL server the benchmark starts; the ratio,
   agreement, and the plan (EXPLAIN ANALYZE) of the slowest PostgreSQL statement.
5. org: many generated repositories ingested sequentially and in parallel worker processes, as
   ratios to the sum of bare `git log` passes over them, at 10, 50 and 200 repositories
   (bench/orgingest.py).
6. dashboard: `fireline serve` on a generated four-repository organisation, asked with httpx:
   the first page after start and the p50 of later pages, against the organisation's ingestion.
7. organisation: every command of issue 16 (dora, knowledge, testing, actions, debt and report cold
   and warm) on that organisation plus generated and vendored files, each a whole process, as
   ratios to its ingestion (bench/organisation.py).

Why ratios, and why the minimum of R runs: this machine is shared (tests may run beside
the benchmark), so absolute seconds drift; a baseline timed in the same run, alternating
with the measured code, drifts with them, and the fastest run is the least disturbed.
Prints a Markdown table and writes bench/out/results.json (results-quick.json for --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import child as child_module  # noqa: E402
import environment  # noqa: E402
import genrepo  # noqa: E402
import genstore  # noqa: E402
import orgingest  # noqa: E402
import report  # noqa: E402

TOLERANCE = 1e-6  # agreement between fireline and pandas figures (hours, ratios, per day)


def child(task: str, timeout: float | None = None, **params: Any) -> dict[str, Any]:
    """Run one task in a fresh interpreter (see child.py) and return what it reports."""
    proc = subprocess.run([sys.executable, str(HERE / "child.py"), task, json.dumps(params)],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child {task} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def git_log_command(repo: Path) -> list[str]:
    """The same pass fireline makes (same options and format), over every ref."""
    try:
        from fireline.sources.git import _FORMAT as fmt
    except ImportError:  # the private name moved: fall back to the format as of writing
        fmt = "\x1e" + "\x1f".join(["%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"])
    return ["git", "-C", str(repo), "-c", "diff.renames=true", "log", "--all", "--no-color",
            "--no-show-signature", "--encoding=UTF-8", "-z", "--numstat", "-M", f"--format={fmt}"]


def time_git_devnull(repo: Path) -> float:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    t = time.perf_counter()
    subprocess.run(git_log_command(repo), stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t


def time_git_pipe(repo: Path) -> float:
    """The same output drained through a pipe by Python, unparsed: any reader's floor."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    t = time.perf_counter()
    with subprocess.Popen(git_log_command(repo), stdout=subprocess.PIPE, env=env) as proc:
        assert proc.stdout
        while proc.stdout.read1(1 << 20):
            pass
    return time.perf_counter() - t


def git_peak_mib(repo: Path) -> float | None:
    """Peak RSS of the bare `git log`, through GNU time.

    Not `RUSAGE_CHILDREN` from Python: a child's ru_maxrss includes the memory it shared
    with the (large) Python parent before exec, so it would report Python's size.
    """
    if not Path("/usr/bin/time").exists():
        return None
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *git_log_command(repo)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def _stats(values: list[float]) -> dict[str, Any]:
    return {"min": min(values), "median": statistics.median(values), "runs": values}


def bench_ingest(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    repo, facts = genrepo.generate(out / "repos", args.commits, args.seed)
    print(f"ingest: repository {repo.name} {'(cached)' if facts['cached'] else ''}", file=sys.stderr)
    child_module.remove_incremental(repo)  # in case an earlier run was interrupted mid-way
    git_peak = git_peak_mib(repo)  # also warms the page cache, so no timed run is the cold one
    bare, pipe, runs = [], [], []
    for i in range(args.repeat):  # alternate, so drift from other load hits both sides
        bare.append(time_git_devnull(repo))
        pipe.append(time_git_pipe(repo))
        runs.append(child("ingest", repo=str(repo), db=str(out / "tmp" / "ingest.duckdb")))
        print(f"  run {i + 1}: git {bare[-1]:.2f}s, ingest {runs[-1]['ingest_seconds']:.2f}s", file=sys.stderr)
    ingest = _stats([r["ingest_seconds"] for r in runs])
    relink = _stats([r["relink_seconds"] for r in runs])
    rerun = _stats([r["rerun_seconds"] for r in runs])
    incremental = _stats([r["incremental_seconds"] for r in runs])
    return {
        "repository": facts, "git_devnull_seconds": _stats(bare), "git_pipe_seconds": _stats(pipe),
        "ingest_seconds": ingest, "relink_seconds": relink, "rerun_seconds": rerun,
        "incremental_seconds": incremental,
        "incremental_new": [runs[-1]["incremental_new_changes"], runs[-1]["incremental_new_deployments"]],
        "relink_commit_seconds": _stats([r["relink_commit_seconds"] for r in runs]),
        "peak_mib": max(r["peak_mib"] for r in runs), "git_peak_mib": git_peak,
        "baseline_peak_mib": max(r["baseline_peak_mib"] for r in runs),
        "pyarrow_imports_pandas_seconds": max(r["pyarrow_imports_pandas_seconds"] for r in runs),
        "rows": runs[-1]["rows"], "unresolved": runs[-1]["unresolved"],
        "rerun_unchanged": all(r["rerun_unchanged"] for r in runs),
        "ratio_ingest_to_git": ingest["min"] / min(bare),
        "ratio_ingest_to_git_pipe": ingest["min"] / min(pipe),
        "ratio_relink_to_ingest": relink["min"] / ingest["min"],
        "ratio_rerun_to_ingest": rerun["min"] / ingest["min"],
        "ratio_incremental_to_ingest": incremental["min"] / ingest["min"],
        "commits_per_second": facts["commits"] / ingest["min"],
    }


def bench_pydriller(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    repo, facts = genrepo.generate(out / "repos", args.pydriller_commits, args.seed)
    print(f"pydriller: repository {repo.name}", file=sys.stderr)
    driller = child("pydriller", repo=str(repo))
    runs = [child("ingest", repo=str(repo), db=str(out / "tmp" / "small.duckdb"), relink=False)
            for _ in range(args.repeat)]
    ingest = _stats([r["ingest_seconds"] for r in runs])
    driller_rate = driller["commits"] / driller["seconds"]
    fireline_rate = facts["commits"] / ingest["min"]
    return {
        "pyarrow_imports_pandas_seconds": max(r["pyarrow_imports_pandas_seconds"] for r in runs),
        "repository": facts, "pydriller": driller, "fireline_ingest_seconds": ingest,
        "fireline_commits": runs[-1]["new_changes"], "fireline_files": runs[-1]["rows"]["change_files"],
        "pydriller_commits_per_second": driller_rate, "fireline_commits_per_second": fireline_rate,
        "ratio_fireline_speedup": fireline_rate / driller_rate,
        # The same, charging pyarrow's one-off lazy import of pandas to fireline (see child.py).
        "ratio_fireline_speedup_with_lazy_import": facts["commits"] / (
            ingest["min"] + max(r["pyarrow_imports_pandas_seconds"] for r in runs)) / driller_rate,
    }


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Per metric: how many team-weeks agree, and the largest difference."""
    keys = sorted(set(ours["groups"]) | set(theirs["groups"]))
    metrics = sorted({m for g in (*ours["groups"].values(), ours["overall"]) for m in g})
    by_metric: dict[str, dict[str, Any]] = {}
    for m in metrics:
        pairs = [(ours["overall"].get(m), theirs["overall"].get(m))]
        pairs += [(ours["groups"].get(k, {}).get(m), theirs["groups"].get(k, {}).get(m)) for k in keys]
        both = [(a, b) for a, b in pairs if a is not None and b is not None]
        one_sided = sum(1 for a, b in pairs if (a is None) != (b is None))
        diff = max((abs(a - b) for a, b in both), default=0.0)
        by_metric[m] = {"compared": len(both), "one_sided": one_sided, "max_abs_diff": diff,
                        "equal": one_sided == 0 and diff <= TOLERANCE}
    return {"groups": len(keys), "tolerance": TOLERANCE, "metrics": by_metric,
            "all_equal": all(v["equal"] for v in by_metric.values())}


def bench_metrics(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    db, facts = genstore.generate(out, args.rows)
    print(f"metrics: store {db.name} {'(cached)' if facts['cached'] else ''}", file=sys.stderr)
    ours_file, theirs_file = out / "tmp" / "summary-fireline.json", out / "tmp" / "summary-pandas.json"
    ours, theirs = [], []
    for i in range(args.metrics_repeat):
        ours.append(child("summarise", db=str(db), result=str(ours_file)))
        theirs.append(child("pandas", db=str(db), result=str(theirs_file)))
        print(f"  run {i + 1}: fireline {ours[-1]['seconds']:.2f}s, pandas {theirs[-1]['seconds']:.2f}s",
              file=sys.stderr)
    fl, pd_ = _stats([r["seconds"] for r in ours]), _stats([r["seconds"] for r in theirs])
    return {
        "store": facts, "fireline_seconds": fl, "pandas_seconds": pd_,
        "fireline_peak_mib": max(r["peak_mib"] for r in ours), "pandas_peak_mib": max(r["peak_mib"] for r in theirs),
        "fireline_queries": ours[-1].get("queries"),
        "fireline_baseline_peak_mib": ours[-1]["baseline_peak_mib"],
        "pandas_baseline_peak_mib": theirs[-1]["baseline_peak_mib"],
        "ratio_fireline_to_pandas": fl["min"] / pd_["min"],
        "ratio_peak_memory": max(r["peak_mib"] for r in ours) / max(r["peak_mib"] for r in theirs),
        "agreement": compare(json.loads(ours_file.read_text()), json.loads(theirs_file.read_text())),
    }


GROUPINGS = ("team x week", "team + service")


def _timed_summarise(db: str, groups: str, result: Path, timeout: float) -> float | None:
    """Seconds of one `summarise`, or None when it ran past `timeout` (the child is killed)."""
    try:
        return child("summarise", timeout=timeout, db=db, result=str(result), groups=groups)["seconds"]
    except subprocess.TimeoutExpired:
        return None


def bench_postgres(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """`summarise` on the same generated store in DuckDB and copied into a PostgreSQL server
    started here; each run once (the machine is shared, and one PostgreSQL run can take minutes)."""
    import pgserver

    db, facts = genstore.generate(out, args.pg_rows)
    print(f"postgres: store {db.name} {'(cached)' if facts['cached'] else ''}", file=sys.stderr)
    result: dict[str, Any] = {"store": facts, "timeout_seconds": args.pg_timeout, "duckdb": {}, "postgres": {},
                              "agree": {}}
    files = {g: (out / "tmp" / f"pg-duck-{i}.json", out / "tmp" / f"pg-pg-{i}.json") for i, g in enumerate(GROUPINGS)}
    for groups in GROUPINGS:
        secs = _timed_summarise(str(db), groups, files[groups][0], args.pg_timeout)
        result["duckdb"][groups] = secs
        print(f"  duckdb {groups}: {secs}", file=sys.stderr)
    with pgserver.Server() as pg:
        result["postgres_version"] = pg.version()
        result["load"] = pgserver.load(db, pg.url, out / "tmp" / "pg-load")
        print(f"  loaded into PostgreSQL {result['postgres_version']} in {result['load']['load_seconds']:.1f}s",
              file=sys.stderr)
        for groups in GROUPINGS:
            duck_file, pg_file = files[groups]
            secs = _timed_summarise(pg.url, groups, pg_file, args.pg_timeout)
            result["postgres"][groups] = secs
            if secs is not None and result["duckdb"][groups] is not None:
                result["agree"][groups] = compare(json.loads(pg_file.read_text()),
                                                  json.loads(duck_file.read_text()))["all_equal"]
            print(f"  postgres {groups}: {secs}", file=sys.stderr)
        result["slowest_plan"] = pg.slowest_plan()
    result["ratio"] = {g: (result["postgres"][g] / result["duckdb"][g]
                           if result["postgres"][g] and result["duckdb"][g] else None) for g in GROUPINGS}
    if result["slowest_plan"]:
        print(f"Slowest PostgreSQL statement ({result['slowest_plan']['seconds']:.2f} s), EXPLAIN ANALYZE "
              f"(auto_explain, no per-node timing):\n{result['slowest_plan']['plan']}", file=sys.stderr)
    return result


def bench_dashboard(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """`fireline serve`'s first page and later pages on a generated organisation (bench/dashboard.py)."""
    import dashboard

    sizes = [400, 200, 200, 100] if args.quick else [20_000, 5_000, 3_000, 2_000]
    return dashboard.run(out, sizes, 3, seed=args.seed)


def bench_organisation(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Every command of issue 16 on one organisation, as ratios to its ingestion (bench/organisation.py)."""
    import organisation

    sizes = organisation.QUICK if args.quick else [20000, 5000, 3000, 2000]
    return organisation.run(out, sizes, seed=args.seed)


SECTIONS = {"ingest": bench_ingest, "pydriller": bench_pydriller, "metrics": bench_metrics,
            "postgres": bench_postgres, "org": orgingest.bench_org, "dashboard": bench_dashboard,
            "organisation": bench_organisation}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, help="commits in the ingest repository (100000)")
    ap.add_argument("--rows", type=int, help="change rows in the metrics store (10000000)")
    ap.add_argument("--pydriller-commits", type=int, help="commits in the PyDriller repository (2000)")
    ap.add_argument("--repeat", type=int, help="timed runs of each git/ingest measurement (3)")
    ap.add_argument("--metrics-repeat", type=int, help="timed runs of each metrics measurement (2)")
    ap.add_argument("--pg-rows", type=int, help="change rows in the PostgreSQL vs DuckDB store (1000000)")
    ap.add_argument("--pg-timeout", type=float, default=600, help="seconds before one summarise is given up")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each: a smoke test")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    orgingest.add_arguments(ap)
    args = ap.parse_args(argv)
    sizes = ((2_000, 200_000, 200, 1, 1, 20_000) if args.quick else (100_000, 10_000_000, 2_000, 3, 2, 1_000_000))
    for name, default in zip(("commits", "rows", "pydriller_commits", "repeat", "metrics_repeat", "pg_rows"), sizes,
                             strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    (args.out / "tmp").mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": " ".join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment.describe(),
    }
    started = time.perf_counter()
    for name in args.only.split(","):
        results[name] = SECTIONS[name](args, args.out)
    results["total_seconds"] = time.perf_counter() - started
    results["environment"]["load_average_end"] = os.getloadavg()
    # A smoke run must not overwrite the figures of the last full run (BENCHMARKS.md cites them).
    name = "results-quick.json" if args.quick else "results.json"
    (args.out / name).write_text(json.dumps(results, indent=2, default=str))
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
