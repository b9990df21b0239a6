"""Start-up stays cheap: the CLI and the library load Ibis, Altair, FastAPI and pandas only for a command that
needs them. A behaviour test (which modules a fresh interpreter holds), never a timing test: the timings are in
bench/startup.py and BENCHMARKS.md."""

from __future__ import annotations

import shutil

import pytest

from .module_probe import command_code, packages_after


def test_import_cli_loads_no_heavy_package():
    assert packages_after("import fireline.cli") == []


def test_import_library_loads_no_heavy_package():
    assert packages_after("import fireline") == []


@pytest.mark.parametrize("args", [["--help"], ["dora", "--help"], ["ingest", "--help"], ["actions", "--help"],
                                  ["oncall", "--help"], ["debt", "--help"], ["sync", "--help"],
                                  ["sync", "github", "--help"], ["notify", "--help"], ["notify", "send", "--help"],
                                  ["--version"]])
def test_help_loads_no_heavy_package(args):
    assert packages_after(command_code(args)) == []


def test_a_metric_command_loads_neither_pandas_nor_the_on_call_libraries(demo_org, tmp_path):
    """`fireline dora` reads figures as Arrow (no pandas) and plans no rotation (no holidays, no iCalendar)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_org.db.parent, folder)
    args = ["--db", str(folder / "fireline.duckdb"), "--config", str(folder / "world" / "fireline.toml"), "dora",
            "--json"]
    code = command_code(args, check="assert json.loads(out.getvalue())['overall']")
    assert packages_after(code, ("pandas", "holidays", "icalendar"), cwd=folder) == []


def test_ingesting_a_file_loads_no_query_engine(tmp_path):
    """An ingestion writes rows and reads a few names back with plain queries: Ibis and sqlglot, a third of its
    start-up, stay unloaded (pyarrow writes the rows, and loads pandas for it)."""
    deployments = tmp_path / "deployments.csv"
    deployments.write_text("time,service,sha\n2026-03-02T10:00:00Z,web,abcdef1\n")
    args = ["--db", str(tmp_path / "fireline.duckdb"), "ingest", "deployments", str(deployments), "--json"]
    code = command_code(args, check="assert json.loads(out.getvalue())['new_deployments'] == 1, out.getvalue()")
    assert packages_after(code, ("ibis", "sqlglot"), cwd=tmp_path) == []


def test_the_dashboards_overview_is_built_without_pandas(demo_org, tmp_path):
    """Every query's rows, the 'is there data' checks, the small joined tables and the marker scans kept in the
    store are read or written without pandas, which loaded inside a server's first page (0.2 s of it)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_org.db.parent, folder)
    code = ("from fireline.app.settings import load_config\nfrom fireline.store import Store\n"
            "from fireline.server.dashboard import build_page, page_key\nfrom fireline.debt.report import ScanCache\n"
            f"config = load_config({str(folder / 'world' / 'fireline.toml')!r})\n"
            f"store = Store.open({str(folder / 'fireline.duckdb')!r})\n"
            "page = build_page(store, config, page_key('/', {}), ScanCache())\n"
            "assert page.status == 200 and 'Debt' in page.html, page.status\n")
    assert packages_after(code, ("pandas",), cwd=folder) == []
