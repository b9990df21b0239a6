"""One measured task per process: `python bench/child.py TASK 'JSON params'`, JSON on stdout.

Why a child process: peak memory (VmHWM) is per process, so each task gets a fresh
interpreter and its high-water mark is that task's alone. Times are taken around the
measured call only, so interpreter start-up and imports are not counted (they are
reported separately as `import_seconds` and `baseline_peak_mib`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def peak_mib(pid: int | str = "self") -> float:
    """The peak resident set (VmHWM) of this process, or of process `pid`, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status: peak memory needs Linux")


def _pyarrow_lazy_import() -> float:
    """Seconds pyarrow spends importing pandas on its first Python -> Arrow conversion.

    pyarrow imports pandas (if installed) the first time it converts Python values, to
    check for pandas objects. Fireline does not depend on pandas; it is here only because
    the bench and test extras install it. So the child pays that import up front, outside
    the timed call, and reports it (about 0.2 s), instead of charging it to the ingest.
    """
    import pyarrow as pa

    t = time.perf_counter()
    pa.array([0])
    return time.perf_counter() - t


def ingest(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    from fireline.config import Config
    from fireline.ingest import ingest_git
    from fireline.linking import relink
    from fireline.store import Store

    db = Path(p["db"])
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    store = Store.open(str(db))
    lazy = _pyarrow_lazy_import()
    out: dict[str, Any] = {"import_seconds": time.perf_counter() - t0, "baseline_peak_mib": peak_mib(),
                           "pyarrow_imports_pandas_seconds": lazy}
    t = time.perf_counter()
    result = ingest_git(store, Config(), p["repo"], service="bench", deploy_tags="v*")
    out["ingest_seconds"] = time.perf_counter() - t
    out["peak_mib"] = peak_mib()
    out["new_changes"] = result.new_changes
    out["new_deployments"] = result.new_deployments
    out["unresolved"] = len(result.unresolved_deployments)
    out["rows"] = {name: store.count(name) for name in ("changes", "change_files", "deployments", "deployment_changes")}
    if p.get("relink", True):
        t = time.perf_counter()
        with store.transaction() as tx:
            links = relink(store, tx, ["production"])
            out["relink_seconds"] = time.perf_counter() - t
        out["relink_commit_seconds"] = time.perf_counter() - t
        out["relinked_rows"] = links.deployment_changes
        t = time.perf_counter()
        again = ingest_git(store, Config(), p["repo"], service="bench", deploy_tags="v*")
        out["rerun_seconds"] = time.perf_counter() - t
        out["rerun_unchanged"] = again.unchanged
        out.update(_incremental(store, Path(p["repo"]), ingest_git, Config()))
    store.close()
    return out


INCREMENTAL_REF, INCREMENTAL_TAG = "refs/heads/bench-incremental", "v-bench-incremental"
_IDENTITY = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
             "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
             "GIT_AUTHOR_DATE": "1735689600 +0000", "GIT_COMMITTER_DATE": "1735689600 +0000"}


def remove_incremental(repo: Path) -> None:
    """Undo _incremental's ref and tag (also run by run.py, in case a run was interrupted)."""
    import subprocess

    subprocess.run(["git", "-C", str(repo), "tag", "-d", INCREMENTAL_TAG], capture_output=True)
    subprocess.run(["git", "-C", str(repo), "update-ref", "-d", INCREMENTAL_REF], capture_output=True)


def _incremental(store: Any, repo: Path, ingest_git: Any, config: Any) -> dict[str, Any]:
    """Time an ingest after one new commit and one new deployment tag (the daily case).

    The commit and tag are added to the cached repository and removed again afterwards,
    so the cache keeps its exact shape; the unreachable commit object left behind is inert.
    """
    import os
    import subprocess

    env = {**os.environ, **_IDENTITY}

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    try:
        new = git("commit-tree", git("rev-parse", "main^{tree}"), "-p", "main", "-m", "bench: one more")
        git("update-ref", INCREMENTAL_REF, new)
        git("tag", "-a", INCREMENTAL_TAG, "-m", "bench", new)
        t = time.perf_counter()
        result = ingest_git(store, config, repo, service="bench", deploy_tags="v*")
        seconds = time.perf_counter() - t
    finally:
        remove_incremental(repo)
    return {"incremental_seconds": seconds, "incremental_new_changes": result.new_changes,
            "incremental_new_deployments": result.new_deployments}


def pydriller(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    from pydriller import Repository

    out: dict[str, Any] = {"import_seconds": time.perf_counter() - t0, "baseline_peak_mib": peak_mib()}
    commits = files = 0
    t = time.perf_counter()
    for c in Repository(p["repo"]).traverse_commits():
        rows = [(m.filename, m.added_lines, m.deleted_lines) for m in c.modified_files]
        commits += 1
        files += len(rows)
    out["seconds"] = time.perf_counter() - t
    out.update(commits=commits, files=files, peak_mib=peak_mib())
    return out


def _figures(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Values by metric name, plus the p90s, which the pandas baseline also computes."""
    out = {m: v.value for m, v in metrics.items()}
    for m in ("lead_time", "time_to_restore"):
        out[f"{m}_p90"] = metrics[m].details.get("p90")
    return out


def _flatten(summary: Any) -> dict[str, Any]:
    """Summary -> {"overall": {metric: value}, "groups": {"team|week": {metric: value}}}."""
    groups = {"|".join(str(v) for v in g.keys.values()): _figures(g.metrics) for g in summary.groups}
    return {"overall": _figures(summary.overall.metrics), "groups": groups}


def summarise(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import genstore
    from roundtrips import counted

    from fireline.metrics.scope import Scope
    from fireline.metrics.summary import summarise as run
    from fireline.metrics.tiers import SEED
    from fireline.store import Store

    store = Store.open(p["db"], create=False)
    out: dict[str, Any] = {"import_seconds": time.perf_counter() - t0, "baseline_peak_mib": peak_mib()}
    since, until = genstore.window()
    t = time.perf_counter()
    # "team x week" (the default) or "team + service" (two levels, no period), as `fireline dora` groups.
    by_week = p.get("groups", "team x week") == "team x week"
    with counted(store.con) as calls:  # fetches, executes and cached tables: a job each on Spark
        summary = run(store.tables(), Scope(since=since, until=until), SEED, team_of=genstore.team_of(),
                      group_sets=(("team", "period"),) if by_week else (("team",), ("service",)),
                      period="week" if by_week else None)
    out["seconds"] = time.perf_counter() - t
    out["peak_mib"] = peak_mib()
    out["queries"] = len(calls)
    Path(p["result"]).write_text(json.dumps(_flatten(summary)))
    out["groups"] = len(summary.groups)
    store.close()
    return out


def pandas(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import duckdb
    import genstore
    import pandas_dora

    con = duckdb.connect(p["db"], read_only=True)
    out: dict[str, Any] = {"import_seconds": time.perf_counter() - t0, "baseline_peak_mib": peak_mib()}
    since, until = genstore.window()
    t = time.perf_counter()
    result = pandas_dora.summarise(con, since, until, genstore.team_of())
    out["seconds"] = time.perf_counter() - t
    out["peak_mib"] = peak_mib()
    Path(p["result"]).write_text(json.dumps(result))
    out["groups"] = len(result["groups"])
    con.close()
    return out


TASKS = {"ingest": ingest, "pydriller": pydriller, "summarise": summarise, "pandas": pandas}

if __name__ == "__main__":
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.argv[2]))))
