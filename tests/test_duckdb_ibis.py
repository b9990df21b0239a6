"""The DuckDB store's shortcuts around Ibis give Ibis' own answers: figures read as Arrow without loading
pandas (store/duckdb_arrow.py; tests/test_startup.py checks that `fireline dora` loads no pandas), and every
table's expression from one catalogue query (DuckDBEngine.tables)."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pyarrow as pa

from fireline.store import Store


def _store(tmp_path) -> Store:
    store = Store.open(str(tmp_path / "s.duckdb"), create=True)
    store.raw.execute("CREATE TABLE t (n INTEGER, big BIGINT, x DOUBLE, s TEXT, at_ TIMESTAMPTZ, d DATE, ok BOOLEAN)")
    store.raw.execute("INSERT INTO t VALUES (1, 10, 1.5, 'a', '2026-03-29 01:30:00+00', '2026-03-29', true), "
                      "(2, NULL, NULL, NULL, NULL, NULL, NULL), (2, 30, 2.5, 'é', '2026-10-25 01:00:00+00', "
                      "'2026-10-25', false)")
    return store


def test_the_same_arrow_tables_as_ibis_own(tmp_path):
    store = _store(tmp_path)
    t = store.con.table("t")
    exprs = [
        t,
        t.group_by("n").agg(total=t.big.sum(), mean=t.x.mean(), first=t.at_.min(), days=t.d.nunique()),
        t.aggregate(med=t.x.median(), c=t.count(), none=ibis.null()),
        t.select(week=t.at_.truncate("W"), flag=t.ok.cast("int8"), nothing=ibis.null()),
        t.order_by("n").limit(1),
    ]
    for expr in exprs:
        ours = expr.to_pyarrow()
        theirs = type(store.con).to_pyarrow(store.con, expr)
        assert ours.schema == theirs.schema
        assert ours.to_pylist() == theirs.to_pylist()
    assert t.big.sum().to_pyarrow() == type(store.con).to_pyarrow(store.con, t.big.sum())
    column = t.order_by("n").at_.to_pyarrow()
    assert isinstance(column, pa.ChunkedArray | pa.Array)
    assert column.to_pylist()[0] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    store.close()


def test_every_table_from_one_catalogue_query_is_the_table_ibis_describes(demo_org, tmp_path):
    with Store.open(str(demo_org.db)) as store:
        tables = store.tables()
        assert len(tables) > 10
        for name, table in tables.items():
            described = store.con.table(name)
            assert table.schema() == described.schema(), name
            assert table.equals(described), name
        t = tables["changes"]
        assert t.count().to_pyarrow().as_py() == store.con.table("changes").count().to_pyarrow().as_py() > 0
