"""The dashboard of `fireline serve` on a generated organisation, measured with a real HTTP client.

    python bench/dashboard.py [--commits 20000,5000,3000,2000] [--rounds 3] [--src PATH] [--quick]

An organisation of four repositories (bench/genrepo.py shapes, one team and service each, tags as
deployments, marker files committed on top) is ingested with `fireline ingest git`: that ingestion
is the baseline. Then `fireline serve` starts on the store and httpx asks:

- first page: `GET /` from the moment /healthz answers until the overview itself comes back (a
  "computing…" page, 503, is asked again after 0.2 s; how many there were is reported);
- first page after a restart: the server stopped and started again on the unchanged store, which
  keeps the pages the first run computed (store/pages.py), measured the same way;
- warm-up: from the first page until every later page is computed (asked every 0.5 s);
- later pages: every team's overview, the five drill-down pages and `/` again, `--rounds` times;
  their median (p50) and worst latency, and how many were placeholders or stale;
- /metrics: the median scrape.

`--src PATH` serves another checkout's code (its `src/`, e.g. /work/main/src) with this interpreter,
for a before/after on the same organisation. Ratios are against the ingestion of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genrepo  # noqa: E402

TEAMS = ("Payments", "Search", "Platform", "Mobile")
METRICS = ("lead-time", "deployment-frequency", "change-failure-rate", "time-to-restore", "rework-rate")
MARKER_FILES = 40  # files with TODO/FIXME markers committed on top of each generated repository
AT = "2024-12-31"  # the generated histories run from January 2022 to early January 2025
# The default window as of AT (the 90 days before it), spelled out for code that ignores `at` (--src of
# an older checkout): both then compute the same pages.
WINDOW = "since=2024-10-03&until=2024-12-31"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_DATE": "2024-12-20T10:00:00Z",
                        "GIT_COMMITTER_DATE": "2024-12-20T10:00:00Z", "GIT_AUTHOR_NAME": "Bench",
                        "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
                        "GIT_COMMITTER_EMAIL": "bench@example.com"})


def organisation(out: Path, sizes: list[int], seed: int) -> tuple[Path, list[Path]]:
    """Four repositories (clones of the cached generated ones, plus marker files) and their config."""
    folder = out / "tmp" / "org"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "repos").mkdir(parents=True)
    repos, config = [], ['timezone = "UTC"', f'at = "{AT}"', ""]
    for i, (team, commits) in enumerate(zip(TEAMS, sizes, strict=True)):
        source, _ = genrepo.generate(out / "repos", commits, seed + i)
        name = team.lower()
        repo = folder / "repos" / name
        subprocess.run(["git", "clone", "-q", str(source), str(repo)], check=True)
        for n in range(MARKER_FILES):
            path = repo / "todo" / f"m{n:03d}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"# TODO: remove the retry loop {n}\nx = {n}\n# FIXME: timeout {n}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Add work to do")
        repos.append(repo)
        config += [f"[teams.{team}]", f'services = ["{name}"]', f"[services.{name}]", f'repo = "repos/{name}"',
                   'deploy_tags = "v*"', ""]
    (folder / "fireline.toml").write_text("\n".join(config))
    return folder, repos


def _fireline(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return [sys.executable, "-m", "fireline.cli"], env


def ingest(folder: Path, repos: list[Path], src: Path | None) -> float:
    cmd, env = _fireline(src)
    db = folder / "fireline.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    for repo in repos:
        subprocess.run([*cmd, "ingest", "git", str(repo), "--db", str(db), "--config", str(folder / "fireline.toml")],
                       check=True, capture_output=True, env=env, cwd=folder)
    return time.perf_counter() - started


def _get(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(path)
    return time.perf_counter() - started, response


def _first_page(client: httpx.Client, path: str) -> tuple[float, float, int]:
    """(seconds until the overview itself, latency of the first response, "computing…" pages on the way)."""
    first_start, placeholders = time.perf_counter(), 0
    first_latency = None
    while True:
        seconds, response = _get(client, path)
        first_latency = first_latency if first_latency is not None else seconds
        if response.status_code == 200:
            return time.perf_counter() - first_start, first_latency, placeholders
        placeholders += 1
        time.sleep(0.2)


@contextmanager
def _server(folder: Path, src: Path | None, log_name: str) -> Iterator[tuple[httpx.Client, float]]:
    """`fireline serve` on the organisation's store, and the seconds until /healthz answered."""
    cmd, env = _fireline(src)
    port = _free_port()
    log = (folder / log_name).open("w")
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--db", str(folder / "fireline.duckdb"),
                             "--config", str(folder / "fireline.toml")], env=env, cwd=folder, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            started = time.perf_counter()
            while True:
                if proc.poll() is not None:
                    raise RuntimeError((folder / log_name).read_text()[-2000:])
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield client, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def serve(folder: Path, src: Path | None, rounds: int) -> dict[str, Any]:
    window = WINDOW if src is not None else ""

    def at(path: str) -> str:
        return path + ("&" if "?" in path else "?") + window if window else path

    with _server(folder, src, "serve.log") as (client, up):
        first, first_latency, placeholders = _first_page(client, at("/"))
        paths = [at(p) for p in ([f"/?team={t}" for t in TEAMS] + [f"/explain/{m}" for m in METRICS] + ["/"])]
        # Until the background has computed them (each team's overview and the drill-downs are kept
        # warm), a page is a "computing…" one: how long that lasts is its own figure.
        warm_start, waiting = time.perf_counter(), list(paths)
        while waiting:
            waiting = [p for p in waiting if (r := client.get(p)).status_code != 200 or r.headers.get(
                "x-fireline-stale")]
            if waiting:
                time.sleep(0.5)
        warm = time.perf_counter() - warm_start
        later, odd = [], {"placeholder": 0, "stale": 0, "error": 0}
        for _ in range(rounds):
            for path in paths:
                seconds, response = _get(client, path)
                later.append(seconds)
                if response.status_code == 503:
                    odd["placeholder"] += 1
                elif response.status_code != 200:
                    odd["error"] += 1
                if response.headers.get("x-fireline-stale"):
                    odd["stale"] += 1
        scrapes = [_get(client, "/metrics")[0] for _ in range(5)]
        dora_on_metrics = "fireline_deployments_total" in client.get("/metrics").text
    # Started again on the unchanged store: the pages the first run computed are kept in it.
    with _server(folder, src, "restart.log") as (client, restart_up):
        restart, restart_latency, restart_placeholders = _first_page(client, at("/"))
    return {"server_up_seconds": up, "first_page_seconds": first, "first_response_seconds": first_latency,
            "first_page_placeholders": placeholders, "restart_up_seconds": restart_up,
            "restart_first_page_seconds": restart, "restart_first_response_seconds": restart_latency,
            "restart_placeholders": restart_placeholders,
            "warm_after_first_page_seconds": warm, "later_pages": len(later),
            "later_p50_seconds": statistics.median(later), "later_max_seconds": max(later), "later_odd": odd,
            "metrics_p50_seconds": statistics.median(scrapes), "dora_on_metrics": dora_on_metrics}


def run(out: Path, sizes: list[int], rounds: int, seed: int = 42, src: Path | None = None) -> dict[str, Any]:
    folder, repos = organisation(out, sizes, seed)
    ingest_seconds = ingest(folder, repos, src)
    served = serve(folder, src, rounds)
    return {"commits": sizes, "src": str(src) if src else None, "ingest_seconds": ingest_seconds, **served,
            "ratio_first_page_to_ingest": served["first_page_seconds"] / ingest_seconds,
            "ratio_restart_first_page_to_ingest": served["restart_first_page_seconds"] / ingest_seconds,
            "ratio_later_p50_to_ingest": served["later_p50_seconds"] / ingest_seconds,
            "targets": {"first_page_seconds": 2.0, "later_p50_seconds": 0.3},
            "met": {"first_page": served["first_page_seconds"] <= 2.0,
                    "restart_first_page": served["restart_first_page_seconds"] <= 2.0,
                    "later_p50": served["later_p50_seconds"] <= 0.3}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", default=None, help="commits of the four repositories (20000,5000,3000,2000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--src", type=Path, help="serve this src/ folder's code instead (a before figure)")
    ap.add_argument("--quick", action="store_true", help="small repositories")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    sizes = [int(n) for n in (args.commits or ("400,200,200,100" if args.quick else "20000,5000,3000,2000"))
             .split(",")]
    result = run(args.out, sizes, args.rounds, src=args.src)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
