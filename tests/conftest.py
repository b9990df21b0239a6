"""Shared fixtures: real git repositories and a real, throwaway PostgreSQL server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from fireline.config import Config
from fireline.store import Store

from .gitrepo import GitRepo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in
                                                                                 Path(p).parent.name.split(".")
                                                                                 if x.isdigit()])
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


# `make test` runs pytest-xdist with `--dist loadfile --no-loadscope-reorder`: a module's tests stay on
# one worker (its module-scoped fixtures are built once, its tests run in their order), and here the
# Spark modules count as one: the local session's JVM and the Spark Connect server's each peak at
# 3-4 GiB, one of each is enough. (Marks with `--dist loadgroup` would not do: xdist 3.8 groups by
# rewriting test ids, which pytest 9.2's structured ids ignore, pytest-xdist issue 1386.)
SPARK_MODULES = {"test_spark.py", "test_spark_connect.py"}
# The longest modules (`pytest --durations`) are dealt out to the workers first: one dealt out last
# would run alone at the end while the other workers wait.
LONGEST_FIRST = ["test_bench_quick.py", "test_spark.py", "test_spark_connect.py", "test_concurrent_ingest.py",
                 "test_dashboard_precompute.py", "test_demo.py", "test_cli_fuzz.py", "test_architecture.py",
                 "test_browser.py", "test_cli.py", "test_dashboard.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the longest modules first (every worker sorts alike: a stable sort). A run
    in one process keeps the order of the files."""
    if hasattr(config, "workerinput"):
        rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadfile`, the Spark modules counting as one file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "spark" if Path(module).name in SPARK_MODULES else module

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def pg_server():
    """URL of a PostgreSQL server: $FIRELINE_TEST_PG, else one started for this test run."""
    if os.environ.get("FIRELINE_TEST_PG"):
        yield os.environ["FIRELINE_TEST_PG"]
        return
    pgbin = _pg_bin()
    if pgbin is None:
        _unavailable("no initdb found (make test installs postgresql with apt-get as root)")
    base = Path(tempfile.mkdtemp(prefix="fireline-pg-"))
    port = _free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        subprocess.run(["chown", "postgres:postgres", str(base)], check=True)
    data = base / "data"
    run = subprocess.run([*prefix, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                          "--no-sync"], capture_output=True, text=True)
    if run.returncode != 0:
        _unavailable(f"initdb failed: {run.stderr.strip()[-300:]}")
    # Each xdist worker starts its own server: a port another process took between _free_port and
    # the start is tried again on a new one.
    for _attempt in range(3):
        start = subprocess.run([*prefix, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log"), "-w",
                                "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
                                      "-c full_page_writes=off -c synchronous_commit=off",
                                "start"], capture_output=True, text=True)
        if start.returncode == 0:
            break
        port = _free_port()
    if start.returncode != 0:
        log = (base / "pg.log").read_text() if (base / "pg.log").exists() else ""
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()} {log[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the test server for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """The same test on the embedded DuckDB store and on a real PostgreSQL server."""
    if request.param == "duckdb":
        s = Store.open(str(tmp_path / "fireline.duckdb"))
    else:
        s = Store.open(request.getfixturevalue("pg_url"))
    yield s
    s.close()


@pytest.fixture
def duck(tmp_path):
    s = Store.open(str(tmp_path / "fireline.duckdb"))
    yield s
    s.close()


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo.create(tmp_path / "repo")


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory):
    """The demo organisation, as `fireline demo` builds it (its folder with the world, the DuckDB
    store and the report), built once per test run: building it takes seconds.

    Read it only: a module that writes to the store or the world copies the folder into its own
    tmp folder first (`shutil.copytree`; the config names the repositories by relative paths).
    DuckDB lets one process at a time open the store, so a test that runs the CLI in a subprocess
    on it must not hold it open in the test process, and a server gets a copy of the file."""
    from fireline.demo import run

    return run(tmp_path_factory.mktemp("demo-org") / "demo")



@pytest.fixture(scope="session")
def lake(demo_org, tmp_path_factory):
    """The demo exported twice for local Spark: parquet files (`export parquet`) and a Spark
    warehouse folder (`export tables --to pyspark:///...`, which starts the session all the Spark
    tests share)."""
    from typer.testing import CliRunner

    from fireline.cli import app

    from .spark_support import require_spark

    require_spark()
    root = tmp_path_factory.mktemp("lake")
    db = str(demo_org.db)
    for args in (["export", "tables", "--to", f"pyspark://{root / 'warehouse'}"],
                 ["export", "parquet", str(root / "parquet")]):
        result = CliRunner().invoke(app, [*args, "--db", db])
        assert result.exit_code == 0, (args, result.output, result.exception)
    return {"db": db, "world": str(Path(db).parent / "world"),
            "parquet": f"pyspark://{root / 'parquet'}", "warehouse": f"pyspark://{root / 'warehouse'}"}


@pytest.fixture(scope="session")
def spark_connect(demo_org):
    """A real Spark Connect server for the whole run (pyspark's own jars, a free loopback port),
    holding the demo's tables (`export tables --to sc://127.0.0.1:PORT`); stopped at the end."""
    from typer.testing import CliRunner

    from fireline.cli import app

    from .spark_support import connect_server, require_spark

    require_spark(connect=True)
    db = str(demo_org.db)
    with connect_server() as url:
        result = CliRunner().invoke(app, ["export", "tables", "--to", url, "--db", db])
        assert result.exit_code == 0, (result.output, result.exception)
        yield {"db": db, "world": str(Path(db).parent / "world"), "sc": url, "export": result.output}
