"""Organisation ingestion: N generated repositories of mixed, realistic sizes into a fresh DuckDB store.

    python bench/orgingest.py [--steps 10,50,200] [--jobs J] [--quick] [--before SRC]

At each step N (the first N repositories of one fixed list):
- git: the sum of one bare `git log --numstat -M -z` pass per repository (> /dev/null), the
  floor any reader pays, timed in the same run;
- sequential: `ingest_paths(..., jobs=1)`, what `fireline ingest git PATH... --jobs 1` runs (one
  process reads, writes, links once), timed inside the process (start-up and imports excluded);
- parallel: the same with `--jobs J` (default: the CPU count) worker processes reading git;
- loop: one `ingest_git` call per repository in one process (each ends with its own relink), the
  way a script over `fireline ingest git PATH` used to work; with `--before SRC` also the same
  loop on an older checkout's `src` (its relinks rewrote every link, so the loop grew with N^2).
Each as a ratio to the git sum, and per repository, so growth from step to step shows.
Repository sizes cycle through SIZES commits (bench/genrepo.py shapes), cached in bench/out/repos.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genrepo  # noqa: E402

SIZES = (200, 500, 1_000, 2_000, 4_000)  # commits; mean 1,540, like a mixed organisation's services
QUICK_SIZES = (40, 60)

_LOOP = """
import json, sys, time
from fireline.config import Config
from fireline.ingest import ingest_git
from fireline.store import Store
paths, db = json.loads(sys.argv[1]), sys.argv[2]
store = Store.open(db)
t = time.perf_counter()
for p in paths:
    ingest_git(store, Config(), p, deploy_tags="v*")
elapsed = time.perf_counter() - t
n = store.query("SELECT count(*) FROM deployment_changes")[0][0]
store.close()
print(json.dumps({"seconds": elapsed, "links": n}))
"""


_MANY = """
import json, sys, time
from fireline.config import Config
from fireline.ingest import ingest_paths
from fireline.store import Store
if __name__ == "__main__":
    paths, db, jobs = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = Store.open(db)
    t = time.perf_counter()
    outcomes = ingest_paths(store, Config(), paths, deploy_tags="v*", jobs=jobs)
    elapsed = time.perf_counter() - t
    assert not [o.error for o in outcomes if o.error], [o.error for o in outcomes if o.error]
    n = store.query("SELECT count(*) FROM deployment_changes")[0][0]
    store.close()
    print(json.dumps({"seconds": elapsed, "links": n}))
"""


def repositories(out: Path, count: int, sizes: tuple[int, ...]) -> list[tuple[Path, int]]:
    """`count` (repository, commits), named r000-..., r001-... (each its own name in the store)."""
    found = []
    for i in range(count):
        generated, facts = genrepo.generate(out / "org-gen", sizes[i % len(sizes)], seed=1000 + i)
        link = out / "org" / f"r{i:03d}-{sizes[i % len(sizes)]}"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(generated)
        found.append((link, facts["commits"]))
    return found


def _git_sum(paths: list[Path]) -> float:
    from run import time_git_devnull

    return sum(time_git_devnull(p) for p in paths)


def _many(paths: list[Path], db: Path, jobs: int) -> tuple[float, int]:
    """`ingest_paths` timed inside a fresh interpreter (worker start-up counts; interpreter start-up and
    imports, the same for every N, do not), as `fireline ingest git PATH... --jobs J` runs it."""
    db.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_CONFIG", "FIRELINE_DB")}
    proc = subprocess.run([sys.executable, "-c", _MANY, json.dumps([str(p) for p in paths]), str(db), str(jobs)],
                          capture_output=True, text=True, check=True, env=env, cwd=db.parent)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["seconds"], out["links"]


def _links(db: Path) -> int:
    from fireline.store import Store

    with Store.open(str(db)) as store:
        return store.query("SELECT count(*) FROM deployment_changes")[0][0]


def _loop(paths: list[Path], db: Path, src: Path | None = None) -> dict[str, Any]:
    db.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("FIRELINE_CONFIG", "FIRELINE_DB")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    proc = subprocess.run([sys.executable, "-c", _LOOP, json.dumps([str(p) for p in paths]), str(db)],
                          capture_output=True, text=True, check=True, env=env, cwd=db.parent)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_org(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    quick = getattr(args, "quick", False)
    steps = [int(s) for s in (args.org_steps or ("2,4" if quick else "10,50,200")).split(",")]
    jobs = args.org_jobs or os.cpu_count() or 1
    sizes = QUICK_SIZES if quick else SIZES
    repos = repositories(out / "repos", max(steps), sizes)
    paths = [p for p, _c in repos]
    tmp = out / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    _git_sum(paths)  # warm the page cache, so no timed run is the cold one
    results = []
    for n in steps:
        some = paths[:n]
        git = _git_sum(some)
        seq, seq_links = _many(some, tmp / "org-seq.duckdb", 1)
        par, par_links = _many(some, tmp / "org-par.duckdb", jobs)
        row: dict[str, Any] = {
            "repositories": n, "commits": sum(c for _p, c in repos[:n]),
            "git_sum_seconds": git, "sequential_seconds": seq, "parallel_seconds": par,
            "links": par_links, "links_agree": seq_links == par_links,
            "ratio_sequential_to_git": seq / git, "ratio_parallel_to_git": par / git,
            "speedup": seq / par, "per_repository_parallel_seconds": par / n,
            "per_repository_sequential_seconds": seq / n,
        }
        if not args.org_skip_loop and n <= args.before_max:
            loop = _loop(some, tmp / "org-loop.duckdb")
            row |= {"loop_seconds": loop["seconds"], "ratio_loop_to_git": loop["seconds"] / git,
                    "links_agree": row["links_agree"] and loop["links"] == par_links}
        if args.before and n <= args.before_max:
            before = _loop(some, tmp / "org-before.duckdb", args.before)
            row |= {"before_loop_seconds": before["seconds"], "ratio_before_loop_to_git": before["seconds"] / git,
                    "before_links": before["links"]}
        print(f"  {n} repositories: git {git:.2f}s, sequential {seq:.2f}s, parallel {par:.2f}s"
              + (f", loop {row['loop_seconds']:.2f}s" if "loop_seconds" in row else "")
              + (f", before loop {row['before_loop_seconds']:.2f}s" if "before_loop_seconds" in row else ""),
              file=sys.stderr)
        results.append(row)
    first = results[0]
    for row in results:
        row["growth_per_repository_vs_first_step"] = (row["per_repository_parallel_seconds"]
                                                      / first["per_repository_parallel_seconds"])
    return {"jobs": jobs, "sizes": list(sizes), "steps": results}


def markdown(r: dict[str, Any]) -> str:
    lines = ["| repositories | commits | bare git log sum | sequential (x git) | parallel, "
             f"{r['jobs']} jobs (x git) | speedup | per repository (parallel) | growth per repository | "
             "loop of ingest_git (x git) | before: loop (x git) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in r["steps"]:
        loop = f"{s['loop_seconds']:.2f} s ({s['ratio_loop_to_git']:.2f}x)" if "loop_seconds" in s else ""
        before = (f"{s['before_loop_seconds']:.2f} s ({s['ratio_before_loop_to_git']:.2f}x)"
                  if "before_loop_seconds" in s else "")
        lines.append(f"| {s['repositories']} | {s['commits']:,} | {s['git_sum_seconds']:.2f} s | "
                     f"{s['sequential_seconds']:.2f} s ({s['ratio_sequential_to_git']:.2f}x) | "
                     f"{s['parallel_seconds']:.2f} s ({s['ratio_parallel_to_git']:.2f}x) | {s['speedup']:.2f}x | "
                     f"{s['per_repository_parallel_seconds']:.3f} s | "
                     f"{s['growth_per_repository_vs_first_step']:.2f} | {loop} | {before} |")
    return "\n".join(lines)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--org-steps", help="repository counts, comma-separated (10,50,200; quick: 2,4)")
    ap.add_argument("--org-jobs", type=int, help="worker processes for the parallel run (the CPU count)")
    ap.add_argument("--org-skip-loop", action="store_true", help="skip the one-ingest_git-per-repository loop")
    ap.add_argument("--before", type=Path, help="an older checkout's src/ for the before loop")
    ap.add_argument("--before-max", type=int, default=50, help="largest step the loops run at (50)")


def main(argv: list[str] | None = None) -> int:
    from environment import describe

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)
    result = {"environment": describe(), "org": bench_org(args, args.out),
              "command": " ".join(["python", "bench/orgingest.py", *(sys.argv[1:] if argv is None else argv)])}
    name = "org-quick.json" if args.quick else "org.json"
    (args.out / name).write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result["org"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
