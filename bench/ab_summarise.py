"""`summarise` of two Fireline source trees on the same store, alternating, in fresh processes.

    python bench/ab_summarise.py --before-src DIR DB [--before-db DB0] [--groups "team x week"] [--runs 3]

DIR is a `src` folder of another checkout (e.g. `git archive BASE src | tar -x -C /tmp/base`,
then DIR=/tmp/base/src); the "after" side is the installed package. Each run is one `child.py
summarise` (seconds around the call only, peak memory, queries through a hook); the two sides
alternate so load from other processes hits both. Prints JSON: the runs, the fastest of each
side, their ratio, and whether the figures agree (the flattened figures, compared exactly).

Both sides read DB unless `--before-db` names the before side's own store (a `genstore.py` store of
the same size built by the before tree, when the older code cannot read the newer schema). A store of
a newer schema is fine for older code as long as it only adds columns: the older `Store.open` finds
every column it knows and a schema version at least its own, and writes nothing.
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


def run(db: Path, groups: str, result: Path, src: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    params = json.dumps({"db": str(db), "result": str(result), "groups": groups})
    proc = subprocess.run([sys.executable, str(HERE / "child.py"), "summarise", params], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--before-src", type=Path, required=True)
    ap.add_argument("--before-db", type=Path, help="the before side's own store (default: DB)")
    ap.add_argument("--groups", default="team x week", choices=("team x week", "team + service"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "tmp")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {side: args.out / f"ab-{side}.json" for side in ("before", "after")}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    load_start = os.getloadavg()
    for i in range(args.runs):
        for side, src, db in (("before", args.before_src, args.before_db or args.db), ("after", None, args.db)):
            runs[side].append(run(db, args.groups, files[side], src))
            r = runs[side][-1]
            print(f"run {i + 1} {side}: {r['seconds']:.2f} s, {r['peak_mib']:.0f} MiB, {r.get('queries')} queries",
                  file=sys.stderr)
    best = {side: min(r["seconds"] for r in rs) for side, rs in runs.items()}
    peak = {side: max(r["peak_mib"] for r in rs) for side, rs in runs.items()}
    out = {"db": str(args.db), "before_db": str(args.before_db or args.db), "groups": args.groups, "runs": runs,
           "fastest_seconds": best, "peak_mib": peak,
           "queries": {side: rs[-1].get("queries") for side, rs in runs.items()},
           "ratio_after_to_before": best["after"] / best["before"],
           "ratio_peak_after_to_before": peak["after"] / peak["before"],
           "same_figures": json.loads(files["before"].read_text()) == json.loads(files["after"].read_text()),
           "load_average_start": load_start, "load_average_end": os.getloadavg()}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
