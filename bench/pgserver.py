"""A throwaway PostgreSQL server for the benchmarks, and a copy of a generated DuckDB store into it.

Started the way tests/conftest.py `pg_server` starts one (initdb, pg_ctl, trust auth, no fsync),
with auto_explain logging the plan (EXPLAIN ANALYZE, without per-node timing, which would slow
the queries it explains) of every statement slower than a threshold, so the benchmark can show
the plan of its slowest query without knowing which SQL Ibis generated.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# Tables genstore fills; the others stay empty (created by Store.open).
TABLES = ("changes", "deployments", "deployment_changes", "incidents", "incident_deployments")


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                                                          if x.isdigit()])
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`with Server() as pg:` -> pg.url; pg.slowest_plan() after the queries ran."""

    def __init__(self, explain_over_ms: int = 500) -> None:
        self.explain_over_ms = explain_over_ms
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL binaries (apt-get install postgresql)")
        self.base = Path(tempfile.mkdtemp(prefix="fireline-bench-pg-"))
        self.data, self.log = self.base / "data", self.base / "pg.log"
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = ""

    def __enter__(self) -> Server:
        if self.prefix:
            subprocess.run(["chown", "postgres:postgres", str(self.base)], check=True)
        subprocess.run([*self.prefix, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "--no-sync"], check=True, capture_output=True)
        port = _free_port()
        opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {self.base} -c fsync=off -c full_page_writes=off "
                "-c synchronous_commit=off -c shared_buffers=256MB -c work_mem=64MB "
                # A summarise stopped by the timeout must not keep its query running beside the next one.
                "-c client_connection_check_interval=1000 "
                "-c shared_preload_libraries=auto_explain -c auto_explain.log_analyze=on "
                f"-c auto_explain.log_timing=off -c auto_explain.log_min_duration={self.explain_over_ms}")
        subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                        "-o", opts, "start"], check=True, capture_output=True)
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def slowest_plan(self, max_lines: int = 80) -> dict[str, Any] | None:
        """The slowest statement auto_explain logged: its duration and plan (estimated vs actual rows)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        best: tuple[float, str] | None = None
        entry = r"LOG:  duration: ([\d.]+) ms  plan:\n(.*?)(?=\n\S[^\n]*(?:LOG|ERROR|FATAL|STATEMENT):|\Z)"
        for m in re.finditer(entry, text, re.S):
            ms = float(m.group(1))
            if best is None or ms > best[0]:
                best = (ms, m.group(2))
        if best is None:
            return None
        # Ibis' SQL is one line of many kilobytes: the plan below it is what shows the estimates.
        lines = [line if len(line) <= 240 else line[:240] + " ..." for line in best[1].splitlines()]
        plan = lines[:max_lines] + ([f"... ({len(lines) - max_lines} more lines)"] if len(lines) > max_lines else [])
        return {"seconds": best[0] / 1000, "plan": "\n".join(plan)}


def load(duck_path: Path, pg_url: str, work: Path) -> dict[str, Any]:
    """Copy the generated store's tables into a fresh Fireline store on `pg_url` (CSV through COPY),
    then let the store finish the load the way an ingest ends (`Store.after_bulk_load`, if it has one)."""
    import time

    import duckdb
    import psycopg

    from fireline.store import Store

    started = time.perf_counter()
    Store.open(pg_url).close()  # the schema, keys and indexes the store itself creates
    work.mkdir(parents=True, exist_ok=True)
    src = duckdb.connect(str(duck_path), read_only=True)
    counts = {}
    with psycopg.connect(pg_url) as conn:
        for table in TABLES:
            csv = work / f"{table}.csv"
            src.execute("SET TimeZone = 'UTC'")
            src.execute(f"COPY {table} TO '{csv}' (FORMAT csv, HEADER false)")
            with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy, \
                    csv.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            csv.unlink()
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    src.close()
    loaded = time.perf_counter() - started
    store = Store.open(pg_url)
    t = time.perf_counter()
    finish = getattr(store, "after_bulk_load", None)
    if finish is not None:
        finish()
    store.close()
    return {"counts": counts, "load_seconds": loaded, "finish_seconds": time.perf_counter() - t,
            "finished": finish is not None}
