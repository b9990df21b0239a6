"""Spark for the tests: whether it can run here, a real Spark Connect server started from pyspark's
own jars, and the comparison of a command's JSON on Spark with DuckDB's.

Skip Spark locally with `-m "not spark"`; under CI=true a missing pyspark or Java fails."""

from __future__ import annotations

import glob
import importlib.util
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The Connect server runs in a zone far from UTC (servers run in their host's zone): a figure that
# depended on the server's session time zone would differ from DuckDB's.
SERVER_ZONE = "Pacific/Auckland"


def no_spark(connect: bool = False) -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[test]')"
    if shutil.which("java") is None:
        return "no Java runtime (apt-get install default-jre-headless; make test does)"
    if connect and importlib.util.find_spec("grpc") is None:
        return "the Spark Connect client is not installed (pip install -e '.[test]' brings pyspark[connect])"
    return None


def require_spark(connect: bool = False) -> None:
    reason = no_spark(connect)
    if reason:
        if IN_CI:
            pytest.fail(f"Spark is required in CI: {reason}")
        pytest.skip(f"Spark not available: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def connect_server(timeout: float = 180.0) -> Iterator[str]:
    """A Spark Connect server (pyspark's own spark-connect jar, master local[2]) on a free loopback
    port: yields its `sc://127.0.0.1:PORT` once it accepts connections, and stops it at the end."""
    import pyspark

    home = Path(pyspark.__file__).parent
    jars = glob.glob(str(home / "jars" / "spark-connect_*.jar"))
    if not jars:
        pytest.fail(f"no spark-connect jar in {home / 'jars'} (pyspark {pyspark.__version__})")
    work = Path(tempfile.mkdtemp(prefix="fireline-sc-"))
    port = _free_port()
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [str(home / "bin" / "spark-submit"), "--master", "local[2]",
         "--driver-java-options", f"-Duser.timezone={SERVER_ZONE}",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
         "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.sql.shuffle.partitions=2",
         "--conf", f"spark.sql.warehouse.dir={work / 'warehouse'}",
         "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", jars[0]],
        cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, "SPARK_HOME": str(home), "TZ": SERVER_ZONE}, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _accepts(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Spark Connect server did not start: {(work / 'server.log').read_text()[-2000:]}")
            time.sleep(0.25)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def cli_json(args: list[str], paths: dict[str, str], db: str) -> object:
    """The JSON a command prints, its {db} and {world} filled in."""
    filled = [a.format(db=db, world=paths["world"]) for a in args]
    result = CliRunner().invoke(app, filled, env={"COLUMNS": "120", "NO_COLOR": "1", "TZ": "UTC"})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1), (filled, result.output)
    return json.loads(result.stdout)


def same(a: object, b: object, where: str = "") -> None:
    """Equal, floats to 1e-9 relative (Spark's percentile interpolates in another order)."""
    if isinstance(a, float) and isinstance(b, float | int):
        assert math.isclose(a, b, rel_tol=1e-9), (where, a, b)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), (where, list(a), list(b))
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)
