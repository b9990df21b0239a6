"""The metric commands on a real Spark Connect server give DuckDB's figures: the server is started
from pyspark's own jars (one for the whole run, the `spark_connect` fixture of conftest.py), the demo
exported to it with `fireline export tables --to sc://127.0.0.1:PORT`, and each command's JSON on
`--db sc://...` compared with DuckDB's. Marked `spark` like tests/test_spark.py: skip locally with
`-m "not spark"`; under CI=true a missing pyspark, Spark Connect client or Java fails."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fireline import Workspace
from fireline.cli import app
from fireline.errors import UserError
from fireline.store.readonly import EXPORTED

from .spark_support import cli_json, same
from .test_golden import COMMANDS

pytestmark = pytest.mark.spark


def test_every_table_is_exported_to_spark_connect_and_read_back(spark_connect):
    for name in EXPORTED:
        assert f"{name}: " in spark_connect["export"]
    with Workspace(spark_connect["sc"]) as ws:
        assert sorted(ws.tables()) == sorted(EXPORTED)
        with Workspace(spark_connect["db"]) as duck:
            assert ws.tables()["deployments"].count().execute() == duck.tables()["deployments"].count().execute()


@pytest.mark.parametrize("name", ["actions.json", "testing.json"])
def test_metric_commands_give_duckdbs_figures_on_spark_connect(spark_connect, name):
    args = COMMANDS[name]
    same(cli_json(args, spark_connect, spark_connect["db"]), cli_json(args, spark_connect, spark_connect["sc"]), name)


def test_dora_on_spark_connect_prints_duckdbs_json_and_nothing_else(spark_connect):
    """A real `fireline dora --db sc://...` process: the same JSON as DuckDB, and no warning of the
    Spark Connect client on stderr (Ibis asks it for a schema check it does not have, once per
    in-memory table)."""
    args = [a.format(db=spark_connect["sc"], world=spark_connect["world"]) for a in COMMANDS["dora.json"]]
    run = subprocess.run([sys.executable, "-m", "fireline", *args], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TZ": "UTC"})
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    same(cli_json(COMMANDS["dora.json"], spark_connect, spark_connect["db"]), json.loads(run.stdout), "dora")


def test_a_spark_connect_database_without_the_tables_is_refused_with_the_way_out(spark_connect):
    """An empty database (nothing exported there yet) said nothing until a command failed with a
    KeyError traceback."""
    from fireline.store.readonly import spark_session

    spark_session(spark_connect["sc"]).sql("CREATE DATABASE IF NOT EXISTS nothing_exported")
    result = CliRunner().invoke(app, ["actions", "--db", f"{spark_connect['sc']}/;database=nothing_exported",
                                      "--config", f"{spark_connect['world']}/fireline.toml", "--json"])
    assert isinstance(result.exception, UserError), result.exception  # `fireline.cli.main` exits 2 with it
    message = result.exception.for_cli()
    assert "no exported tables" in message and "fireline export tables --to" in message


def test_a_local_spark_store_and_a_spark_connect_store_open_in_one_process(lake, spark_connect):
    """pyspark refused a Connect session in a process that had a local one (SESSION_ALREADY_EXIST),
    and a local one after a Connect session: a server or notebook may read both."""
    counts = []
    for url in (lake["parquet"], spark_connect["sc"], lake["parquet"]):
        with Workspace(url) as ws:
            counts.append(ws.tables()["deployments"].count().execute())
    assert counts[0] == counts[1] == counts[2] > 0


def _fireline(*args: str) -> subprocess.CompletedProcess[str]:
    # The timeout guards the run against the old hang (the Connect client retried for 10 minutes); it
    # measures nothing.
    return subprocess.run([sys.executable, "-m", "fireline", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TZ": "UTC"})


def test_a_spark_connect_url_with_no_server_fails_at_once_naming_the_url():
    """`--db sc://localhost:1` (no server there, or a wrong port) hung for minutes in the Connect
    client's retries before failing with a gRPC trace."""
    from .spark_support import _free_port, require_spark

    require_spark(connect=True)
    url = f"sc://127.0.0.1:{_free_port()}"
    run = _fireline("dora", "--db", url, "--json")
    assert run.returncode == 2, run.stderr
    assert url in run.stderr and "cannot reach the Spark Connect server" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_a_spark_connect_url_on_a_port_that_is_no_spark_server_fails_at_once():
    """A port that accepts connections but speaks no gRPC (here a socket that never answers) hung the
    same way."""
    from .spark_support import require_spark

    require_spark(connect=True)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"sc://127.0.0.1:{silent.getsockname()[1]}"
        run = _fireline("dora", "--db", url, "--json")
    assert run.returncode == 2, run.stderr
    assert url in run.stderr and "no Spark Connect server answered" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
