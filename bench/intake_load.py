"""Intake server under load and crashes: throughput against a bare endpoint, and nothing lost.

    python bench/intake_load.py [--events N] [--concurrency C] [--kills K] [--backend duckdb|postgres|both]

1. A bare FastAPI endpoint under uvicorn (200, stores nothing) takes the same N signed
   GitHub `deployment_status` webhooks at the same concurrency: the baseline.
2. `fireline serve` takes them on a fresh store (a DuckDB file; a fresh PostgreSQL
   database with default durability), while it is SIGKILLed K times at evenly spaced
   points and restarted on the same port and store; senders retry until a 2xx, as GitHub does.
3. Once the normaliser has drained, the server stops and the store is checked: exactly N
   raw events (one per delivery id) and exactly N deployments.

Writes bench/out/intake.json and prints a Markdown table (BENCHMARKS.md quotes it).
Exit code 1 when an event was lost or duplicated; a missed speed target is only reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import environment  # noqa: E402
import intake_check  # noqa: E402
import intake_events  # noqa: E402
import intake_send  # noqa: E402
import intake_server  # noqa: E402

SECRET = "bench-github-secret"
TARGET_RATIO = 0.30  # durable throughput (net of restart gaps) / bare throughput


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--backend", choices=("duckdb", "postgres", "both"), default="both")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, as GitHub's 10 s")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "intake.json")
    return parser.parse_args(argv)


def run_bare(events: list[intake_events.Event], concurrency: int, workdir: Path, log: Path,
             timeout: float) -> dict[str, Any]:
    log.unlink(missing_ok=True)  # one run per log, so a failure's log is not buried under old runs
    port = intake_server.free_port()
    with intake_server.Server(intake_server.bare_argv(port), port, log, env=intake_server.server_env(SECRET),
                              cwd=workdir) as server:
        server.start()
        report = asyncio.run(intake_send.send_all(f"{server.url}/webhooks/github", events, concurrency,
                                                  timeout=timeout))
        server.stop()
    return {"run": "bare", **report.summary()}


def run_durable(backend: str, db: str, events: list[intake_events.Event], concurrency: int, kills: int,
                workdir: Path, log: Path, timeout: float) -> dict[str, Any]:
    log.unlink(missing_ok=True)
    port = intake_server.free_port()
    with intake_server.Server(intake_server.fireline_argv(port, db), port, log,
                              env=intake_server.server_env(SECRET), cwd=workdir) as server:
        start_seconds = server.start()
        report = asyncio.run(intake_send.send_all(f"{server.url}/webhooks/github", events, concurrency,
                                                  kills=kills, restart=server.restart, timeout=timeout))
        drain = intake_server.wait_drained(server.url)
        stopped = server.stop()
    verdict = intake_check.check_store(db, (e.delivery_id for e in events), (e.deployment_id for e in events))
    summary = report.summary()
    return {
        "run": backend, **summary, "start_seconds": round(start_seconds, 3), "drain_seconds": round(drain, 3),
        # Acknowledged and normalised: from the first request until /healthz said pending 0.
        "normalised_throughput": round(report.acked / (report.wall_seconds + drain), 1),
        "stop_returncode": stopped, "server_starts": server.starts, "verdict": verdict.as_dict(),
        "log": str(log),
    }


def _fmt(value: Any, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def markdown(results: dict[str, Any]) -> str:
    bare = results["runs"][0]
    lines = [
        f"{results['parameters']['events']:,} signed GitHub `deployment_status` webhooks, concurrency "
        f"{results['parameters']['concurrency']}, {results['parameters']['kills']} SIGKILL + restart per durable run.",
        "",
        "| run | acked/s (wall) | acked/s (net of restart gaps) | ratio to bare (net) | acked/s first → last fifth "
        "| p50 ms | p99 ms | retries | answered duplicate | restarts: kill→ready s | drain s | sender CPU / wall s "
        "| lost | duplicated | deployments |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results["runs"]:
        v = r.get("verdict")
        ratio = r["throughput_net_of_gaps"] / bare["throughput"] if r is not bare else 1.0
        lines.append(
            f"| {r['run']} | {_fmt(r['throughput'])} | {_fmt(r['throughput_net_of_gaps'])} | {ratio:.2f} "
            f"| {_fmt(r['throughput_first_fifth'])} → {_fmt(r['throughput_last_fifth'])} "
            f"| {_fmt(r['p50_ms'], '.1f')} | {_fmt(r['p99_ms'], '.1f')} | {r['retries']:,} "
            f"| {r['duplicates_answered']:,} | {', '.join(f'{s:.2f}' for s in r['restart_seconds']) or '–'} "
            f"| {_fmt(r.get('drain_seconds'), '.1f')} | {r['client_cpu_seconds']:.0f} / {r['wall_seconds']:.0f} "
            f"| {v['lost'] if v else '–'} | {v['duplicated'] if v else '–'} "
            f"| {format(v['deployments'], ',') if v else '–'} |")
    lines.append("")
    for name, verdict in results["verdicts"].items():
        check = "zero lost, zero duplicated, every deployment normalised" if verdict["ok"] else \
            "FAILED: " + json.dumps(verdict["check"])
        lines.append(f"- {name}: ratio {verdict['ratio']:.2f} of bare, net of restart gaps "
                     f"({verdict['ratio_wall']:.2f} including them; target >= {TARGET_RATIO:.2f}: "
                     f"{'met' if verdict['target_met'] else 'MISSED'}); {check}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = ["duckdb", "postgres"] if args.backend == "both" else [args.backend]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": " ".join(["python", "bench/intake_load.py", *(sys.argv[1:] if argv is None else argv)]),
        "parameters": {"events": args.events, "concurrency": args.concurrency, "kills": args.kills,
                       "backends": backends, "timeout": args.timeout, "target_ratio": TARGET_RATIO},
        "environment": environment.describe(),
        "runs": [],
    }
    began = time.perf_counter()
    events = intake_events.make_events(args.events, SECRET)
    results["payload_bytes_mean"] = round(sum(len(e.body) for e in events) / len(events))
    workdir = Path(tempfile.mkdtemp(prefix="fireline-intake-"))
    logs = args.out.parent
    try:
        with ExitStack() as stack:
            print(f"bare endpoint: {args.events:,} events, concurrency {args.concurrency}", file=sys.stderr)
            results["runs"].append(run_bare(events, args.concurrency, workdir, logs / "intake-bare.log",
                                            args.timeout))
            for backend in backends:
                if backend == "duckdb":
                    db = str(workdir / "intake.duckdb")
                else:
                    pg = stack.enter_context(intake_server.postgres_cluster(durable=True))
                    db = intake_server.create_database(pg)
                print(f"fireline serve on {backend}: {args.kills} kills", file=sys.stderr)
                results["runs"].append(run_durable(backend, db, events, args.concurrency, args.kills, workdir,
                                                   logs / f"intake-{backend}.log", args.timeout))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bare = results["runs"][0]["throughput"]
    results["verdicts"] = {}
    for run in results["runs"][1:]:
        ratio = run["throughput_net_of_gaps"] / bare
        results["verdicts"][run["run"]] = {
            "ratio": round(ratio, 3), "ratio_wall": round(run["throughput"] / bare, 3),
            "target_met": ratio >= TARGET_RATIO, "ok": run["verdict"]["ok"], "check": run["verdict"]}
    results["total_seconds"] = round(time.perf_counter() - began, 1)
    results["environment"]["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    return 0 if all(v["ok"] for v in results["verdicts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
