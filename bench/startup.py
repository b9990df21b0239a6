"""Start-up and the `fireline actions` text path, as ratios measured in the same run.

    python bench/startup.py [--runs 7] [--items 20000] [--out bench/out]

1. `fireline --help` vs `python -c pass` (the interpreter's own start-up): whole processes, wall time.
2. `fireline dora` on the demo (built once under OUT/startup/demo) vs `python -c pass`.
3. `fireline actions` (text, piped, 160 columns) vs `fireline actions --json` on a copy of the demo with
   ITEMS extra open action items: generated postmortem files, stored by `fireline ingest postmortems`
   (the public writer, so the rows are what a user's would be).

Every figure is the median of RUNS runs; the two sides of a ratio alternate, so load from other processes on
this shared machine hits both. Writes OUT/startup.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import environment  # noqa: E402

ITEMS_PER_FILE = 10
GEN_VERSION = 1
OWNERS = ["Tom Fletcher", "Sofia Alvarez", "Data", "SRE", "UI"]
SERVICES = ["purger", "export-pipeline", "platform-infra", "web-ui", "pricing-engine"]


def fireline_command() -> list[str]:
    """The installed `fireline` script next to this interpreter (what a user runs), else `python -m`."""
    script = Path(sys.executable).with_name("fireline")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fireline.cli"]


def wall(cmd: list[str], cwd: Path | None = None) -> float:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()[-3000:]}")
    return seconds


def alternate(runs: int, sides: dict[str, tuple[list[str], Path | None]]) -> dict[str, dict[str, Any]]:
    """Each side once per round, in turn; one untimed warm-up round first (page cache, .pyc files)."""
    for cmd, cwd in sides.values():
        wall(cmd, cwd)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, (cmd, cwd) in sides.items():
            times[name].append(wall(cmd, cwd))
    return {name: {"median": statistics.median(v), "min": min(v), "runs": v} for name, v in times.items()}


def build_demo(out: Path) -> Path:
    demo = out / "demo"
    if not (demo / "fireline.toml").exists():
        print(f"building the demo in {demo}", file=sys.stderr)
        subprocess.run([*fireline_command(), "demo", "--dir", str(demo)], check=True, stdout=subprocess.DEVNULL)
    return demo


def _postmortem(n: int, first_day: date) -> str:
    day = first_day + timedelta(days=n % 300)
    lines = ["---", f"id: PM-BENCH-{n:05d}", f"title: Generated postmortem {n} for the actions benchmark",
             f"date: {day.isoformat()}", "severity: SEV3", "services:", f"- {SERVICES[n % len(SERVICES)]}",
             "detected_by: monitoring", f"impact_start: {day.isoformat()}T03:15+00:00",
             f"impact_end: {day.isoformat()}T05:25+00:00", "status: published", "authors:", "- Tom Fletcher",
             "tags:", f"- bench-tag-{n % 40}", "action_items:"]
    for i in range(ITEMS_PER_FILE):
        due = day + timedelta(days=7 + (n * ITEMS_PER_FILE + i) % 90)
        lines += [f"- owner: {OWNERS[(n + i) % len(OWNERS)]}",
                  f"  what: Generated action item {i} of postmortem {n}, alert when the job has not run for a day",
                  f"  due: {due.isoformat()}", f"  term: {'long' if i % 3 == 0 else 'short'}",
                  f"  dora_metric: {'change_failure_rate' if i % 3 == 0 else 'none'}", "  status: open",
                  f"  ticket: https://tracker.example.com/browse/BENCH-{n * ITEMS_PER_FILE + i}"]
    lines += ["---", "", f"# Generated postmortem {n} for the actions benchmark", "", "## Summary", "", "-", ""]
    return "\n".join(lines)


def build_actions_store(demo: Path, out: Path, items: int) -> Path:
    """A copy of the demo with `items` more open action items, stored through `fireline ingest postmortems`."""
    target = out / f"actions-{items}"
    stamp = target / ".generated"
    if stamp.exists() and stamp.read_text() == f"{GEN_VERSION}":
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(demo, target, symlinks=True)
    folder = target / "bench-postmortems"
    folder.mkdir()
    for n in range(-(-items // ITEMS_PER_FILE)):
        (folder / f"pm-{n:05d}.md").write_text(_postmortem(n, date(2026, 1, 5)))
    print(f"ingesting {items} action items into {target}", file=sys.stderr)
    subprocess.run([*fireline_command(), "ingest", "postmortems", str(folder)], cwd=target, check=True,
                   stdout=subprocess.DEVNULL)
    stamp.write_text(f"{GEN_VERSION}")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)
    out = args.out / "startup"
    out.mkdir(parents=True, exist_ok=True)
    env = environment.describe()
    fl = fireline_command()
    demo = build_demo(out)
    store = build_actions_store(demo, out, args.items)

    print("start-up ...", file=sys.stderr)
    startup = alternate(args.runs, {"python -c pass": ([sys.executable, "-c", "pass"], None),
                                    "fireline --help": ([*fl, "--help"], None),
                                    "fireline dora --help": ([*fl, "dora", "--help"], None),
                                    "fireline dora (demo)": ([*fl, "dora"], demo)})
    print("actions ...", file=sys.stderr)
    actions = alternate(max(3, args.runs // 2), {"actions --json": ([*fl, "actions", "--json"], store),
                                                 "actions (text)": ([*fl, "actions"], store)})
    env["load_average_end"] = os.getloadavg()
    results = {"environment": env, "runs": args.runs, "items": args.items, "startup": startup, "actions": actions}
    (args.out / "startup.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


def table(results: dict[str, Any]) -> str:
    s, a = results["startup"], results["actions"]
    base = s["python -c pass"]["median"]
    rows = ["| Figure | Fireline | Baseline | Ratio | Target | Met |", "|---|---:|---:|---:|---|---|"]

    def row(label: str, value: float, baseline: float, target: float | None, target_text: str) -> None:
        met = "" if target is None else ("yes" if value <= target else "no")
        rows.append(f"| {label} | {value:.3f} s | {baseline:.3f} s | {value / baseline:.1f}x | {target_text} | {met} |")

    row("`fireline --help` vs `python -c pass`", s["fireline --help"]["median"], base, 0.3, "<= 0.3 s")
    row("`fireline dora --help` vs `python -c pass`", s["fireline dora --help"]["median"], base, None, "info")
    row("`fireline dora` on the demo vs `python -c pass`", s["fireline dora (demo)"]["median"], base, 1.5,
        "<= 1.5 s")
    text, js = a["actions (text)"]["median"], a["actions --json"]["median"]
    met = "yes" if text <= 2 * js else "no"
    rows.append(f"| `fireline actions` text vs `--json`, {results['items']:,} items | {text:.2f} s | {js:.2f} s | "
                f"{text / js:.2f}x | <= 2x | {met} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
