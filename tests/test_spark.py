"""The metric commands on local Spark give DuckDB's figures: the demo is exported once (`fireline
export`), read back through `--db pyspark:///DIR`, and every command's JSON compared with DuckDB's.

One SparkSession for the whole run (starting one takes about 10 s; Fireline's own `spark_session`
reuses it): the `lake` fixture of conftest.py. Skip locally with `-m "not spark"`; under CI=true a
missing pyspark or Java fails."""

from __future__ import annotations

import os

import pytest

from fireline import Workspace
from fireline.errors import UserError

from .spark_support import cli_json as _json
from .spark_support import same as _same
from .test_golden import COMMANDS

pytestmark = pytest.mark.spark

# Every metric command, once (the golden list has more variants of each on DuckDB).
CASES = [
    "dora.json", "explain-ttr-purger.json",
    "actions.json", "followup.json", "alerts-report-at.json", "testing.json", "oncall-gaps.json",
    "oncall-load.json", "oncall-handoff.json", "knowledge.json", "debt-data.json", "budget.json",
    "plan-data.json", "repeats.json",
]


@pytest.mark.parametrize("name", CASES)
def test_every_metric_command_gives_duckdbs_figures_on_spark(lake, name):
    args = COMMANDS[name]
    _same(_json(args, lake, lake["db"]), _json(args, lake, lake["parquet"]), name)


def test_the_report_gives_duckdbs_figures_on_spark(lake, tmp_path):
    args = ["report", "--out", str(tmp_path / "report.html"), "--db", "{db}", "--config", "{world}/fireline.toml",
            "--since", "2026-01-05T00:00Z",
            "--until", "2026-07-05T00:00Z", "--at", "2026-07-05T00:00Z", "--json"]
    _same(_json(args, lake, lake["db"]), _json(args, lake, lake["parquet"]), "report")


def test_tables_exported_to_a_spark_warehouse_read_back_the_same(lake):
    args = COMMANDS["testing.json"]
    _same(_json(args, lake, lake["db"]), _json(args, lake, lake["warehouse"]), "testing.json")


def test_spark_times_come_back_utc_aware(lake):
    """Spark hands timestamps back naive; the store makes them UTC-aware (on-call, knowledge and debt
    compared naive with aware datetimes before)."""
    with Workspace(lake["parquet"]) as ws:
        tables = ws.tables()
        latest = tables["deployments"].time.max().execute()
        first = tables["changes"].select("committer_time").limit(1).to_pyarrow().to_pylist()[0]["committer_time"]
    assert latest.tzinfo is not None and latest.utcoffset().total_seconds() == 0
    assert first.tzinfo is not None


def test_writing_to_spark_is_refused_with_the_way_out(lake):
    with Workspace(lake["parquet"]) as ws, pytest.raises(UserError) as caught:
        ws.rebuild()
    assert "read-only" in str(caught.value) and "fireline export parquet" in str(caught.value)


def test_opening_exported_tables_starts_no_spark_job(lake):
    """Each table's schema comes from its parquet footer, read here: Spark inferred it with one job
    per table (18 before `dora` could start its first query)."""
    from fireline.store.readonly import spark_session

    context = spark_session(lake["parquet"]).sparkContext
    context.setJobGroup("open-lake", "opening the exported tables")
    try:
        with Workspace(lake["parquet"]) as ws:
            assert "deployments" in ws.tables()
        assert context.statusTracker().getJobIdsForGroup("open-lake") == []
    finally:
        context.setJobGroup("", "")


@pytest.mark.parametrize("made", [False, True])
def test_a_folder_without_exported_tables_is_refused_before_spark_starts(tmp_path, made):
    """`--db pyspark:///DIR` on a missing or empty folder started the JVM (about 10 s) before saying
    there was nothing there. Here Java cannot start at all: only a check made before it can answer."""
    import os
    import subprocess
    import sys

    from .spark_support import require_spark

    require_spark()
    folder = tmp_path / "lake"
    if made:
        folder.mkdir()
    run = subprocess.run([sys.executable, "-m", "fireline", "dora", "--db", f"pyspark://{folder}", "--json"],
                         capture_output=True, text=True, timeout=180,
                         env={**os.environ, "JAVA_HOME": str(tmp_path / "no-java"), "COLUMNS": "200"})
    assert run.returncode == 2, run.stderr
    assert "no exported tables here" in run.stderr and str(folder) in run.stderr, run.stderr


def test_a_warm_dora_compiles_no_code_again(lake):
    """The second `dora` of a process reuses the classes Spark generated for the first: one `dora` on
    the demo generates about 105, more than Spark's code cache held by default (100), so a warm call
    compiled about 55 of them again (a fifth of the JVM's CPU)."""
    from fireline.store.readonly import spark_session

    metrics = spark_session(lake["parquet"]).sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics
    generating = f"{lake['parquet']}?spark.sql.codegen.wholeStage=true&spark.sql.codegen.factoryMode=FALLBACK"
    with Workspace(generating, f"{lake['world']}/fireline.toml") as ws:
        ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z")
        before = metrics.METRIC_COMPILATION_TIME().getCount()
        ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z")
        assert metrics.METRIC_COMPILATION_TIME().getCount() == before


def _codegen_of(url: str) -> tuple[str, str]:
    """Spark's code generation settings once a Workspace has opened `url`."""
    from fireline.store.readonly import spark_session

    with Workspace(url) as ws:
        ws.existing_store()
    conf = spark_session(url).conf
    return conf.get("spark.sql.codegen.wholeStage"), conf.get("spark.sql.codegen.factoryMode")


def test_a_small_lake_runs_without_generated_code_and_a_big_one_with_it(lake, tmp_path):
    """Generating and compiling code for every stage of every query costs a small lake more than it
    saves (warm `dora` on the demo, 0.6 MB: 0.73 s interpreted against 0.80 s); from a megabyte of
    tables on it pays (at 100,000 changes interpreted was 18% slower). A key in the URL wins."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from fireline.store.readonly import SMALL_LAKE_BYTES

    assert _codegen_of(lake["parquet"]) == ("false", "NO_CODEGEN")
    small = lake["parquet"].removeprefix("pyspark://")
    big = tmp_path / "big"
    shutil.copytree(small, big)
    alerts = pq.read_table(big / "alert_events.parquet")
    # Random hex compresses to about half: 1,000 characters a row, the table alone twice the bound.
    rows = SMALL_LAKE_BYTES // 250
    noise = pa.array([os.urandom(500).hex() for _ in range(rows)])
    grown = pa.concat_tables([alerts] * (rows // alerts.num_rows + 1)).slice(0, rows)
    column = next(i for i, f in enumerate(grown.schema) if pa.types.is_string(f.type))
    pq.write_table(grown.set_column(column, grown.schema.field(column), noise), big / "alert_events.parquet")
    assert _codegen_of(f"pyspark://{big}") == ("true", "FALLBACK")
    assert _codegen_of(lake["parquet"] + "?spark.sql.codegen.wholeStage=true") == ("true", "NO_CODEGEN")
    assert _codegen_of(lake["parquet"]) == ("false", "NO_CODEGEN")


def _deployments_counted(url: str, world: str) -> int:
    with Workspace(url, f"{world}/fireline.toml") as ws:
        return ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z").to_dict()["overall"][
            "deployment_frequency"]["count"]


def test_a_warm_dora_sends_spark_no_sql_to_parse_again(lake, monkeypatch):
    """Spark parses and analyses a query's SQL each time it is given; the same question asked again
    in one process runs the plan analysed the first time (a sixth of a warm call's JVM work)."""
    from fireline.store.readonly import spark_session

    session = spark_session(lake["parquet"])
    sent: list[str] = []
    real_sql = session.sql
    monkeypatch.setattr(session, "sql", lambda query, *a, **k: sent.append(query) or real_sql(query, *a, **k))
    with Workspace(lake["parquet"], f"{lake['world']}/fireline.toml") as ws:
        first = ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z").to_dict()
        assert len(sent) == 2
        again = ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z").to_dict()
        assert len(sent) == 2 and again == first
        # Another window: the figures' query is new text; the source survey is not.
        ws.dora(since="2026-02-02T00:00Z", until="2026-07-05T00:00Z")
        assert len(sent) == 3


def test_the_plan_reusing_backend_brings_ibis_pyspark_options_itself(lake, monkeypatch):
    """In a fresh process nothing had loaded Ibis' pyspark backend through `ibis.pyspark`, which is
    what registers its options; the backend class imported alone compiled no literal ('NoneType'
    object has no attribute 'treat_nan_as_null'). Here the options are taken away as in a new process."""
    import ibis

    from fireline.store import spark_plans

    monkeypatch.setattr(ibis.options, "pyspark", None)
    spark_plans._backend_class.cache_clear()
    assert _deployments_counted(lake["parquet"], lake["world"]) > 0


def test_a_lake_exported_again_is_read_anew_by_the_next_store(lake, tmp_path):
    """Plans are kept per opened store: a store opened after the lake was rewritten reads the new
    tables, not the plan (and file listing) of the one before."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = tmp_path / "lake"
    shutil.copytree(lake["parquet"].removeprefix("pyspark://"), folder)
    before = _deployments_counted(f"pyspark://{folder}", lake["world"])
    deployments = pq.read_table(folder / "deployments.parquet")
    kept = deployments.filter(pc.not_equal(deployments["service"], deployments["service"][0]))
    pq.write_table(kept, folder / "deployments.parquet")
    after = _deployments_counted(f"pyspark://{folder}", lake["world"])
    assert 0 < after < before


def test_dora_on_spark_is_two_queries_team_map_included(lake):
    """The team map's reads (the services of deployments and incidents, the repositories' services)
    ride on the source check, and the deployment and duration figures are one aggregation: on a
    read-only store this was six queries (eleven Spark jobs more for the whole call)."""
    from bench.roundtrips import counted

    with Workspace(lake["parquet"], f"{lake['world']}/fireline.toml") as ws:
        store = ws.existing_store()
        with counted(store.con) as calls:
            ws.dora(since="2026-01-05T00:00Z", until="2026-07-05T00:00Z")
        assert len(calls) == 2, calls
