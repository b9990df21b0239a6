"""Knowledge analysis vs the core ingestion of the same repository (issue: at most 1.5x).

    python bench/knowledge.py [--commits 100000]

Uses the repository bench/run.py generates (cached under bench/out/repos). Both are timed
in this process, alternating, fastest of --repeat runs; the ratio is what counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genrepo  # noqa: E402

from fireline.config import Config  # noqa: E402
from fireline.ingest import ingest_git  # noqa: E402
from fireline.metrics.knowledge import knowledge_report  # noqa: E402
from fireline.metrics.testing import TestingParams, report  # noqa: E402
from fireline.store import Store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    path, _facts = genrepo.generate(HERE / "out" / "repos", args.commits, 42)
    head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    runs: dict[str, list[float]] = {"ingest": [], "knowledge": [], "testing": []}
    figures: dict = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(str(Path(tmp) / "k.duckdb"))
            t = time.perf_counter()
            ingest_git(store, Config(), path, service="bench", deploy_tags="v*")
            runs["ingest"].append(time.perf_counter() - t)
            t = time.perf_counter()
            result = knowledge_report(store.tables(), path.name, head=head)
            runs["knowledge"].append(time.perf_counter() - t)
            figures["truck_factor"] = result.get("truck_factor")
            t = time.perf_counter()
            since = store.query("SELECT min(committer_time), max(committer_time) FROM changes")[0]
            report(store.tables(), since[0], since[1], params=TestingParams(), team_of={})
            runs["testing"].append(time.perf_counter() - t)
            store.close()
    best = {k: min(v) for k, v in runs.items()}
    out = {"commits": args.commits, "runs": runs, "best": best,
           "knowledge_over_ingest": best["knowledge"] / best["ingest"],
           "testing_over_ingest": best["testing"] / best["ingest"], "figures": figures}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "knowledge.json").write_text(json.dumps(out, indent=2, default=str))
    print(f"| step | seconds | ratio to ingest |\n|---|--:|--:|\n| ingest_git | {best['ingest']:.2f} | 1.00 |\n"
          f"| knowledge_report | {best['knowledge']:.2f} | {out['knowledge_over_ingest']:.2f} |\n"
          f"| testing report | {best['testing']:.2f} | {out['testing_over_ingest']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
