"""Small tables built from their buffers (metrics/memtables.py) are the tables `ibis.memtable` makes, on each
engine, and neither building nor querying one loads pandas (which `ibis.memtable` and `pa.array` of a Python
list do: 0.2 s inside a server's first page)."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from fireline.metrics.memtables import arrow_column, memtable

from .module_probe import packages_after

TEXT = ["api", None, "ü€𝄞 payments", "", None, "x" * 300, "web"]
NUMBERS = [1, None, -5, 2**62, 0, None, 7]


@pytest.mark.parametrize("values, kind, arrow_type", [(TEXT, "string", pa.string()), (NUMBERS, "int64", pa.int64()),
                                                      ([], "string", pa.string()), ([None] * 9, "int64", pa.int64())])
def test_a_column_is_the_one_pyarrow_builds(values, kind, arrow_type):
    ours = arrow_column(values, kind)
    ours.validate(full=True)
    assert ours.equals(pa.array(values, arrow_type))


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="string or int64"):
        arrow_column([1.5], "float64")


def test_joined_on_each_engine_it_gives_what_ibis_memtable_gives(store):
    columns, schema = {"service": TEXT, "n": NUMBERS}, {"service": "string", "n": "int64"}
    ours, theirs = memtable(columns, schema), ibis.memtable(columns, schema=schema)
    assert ours.schema() == theirs.schema()
    repos = store.tables()["repos"]

    def rows(t):
        joined = t.left_join(repos, t.service == repos.repo).select(t.service, t.n)
        return sorted(joined.to_pyarrow().to_pylist(), key=repr)

    assert rows(ours) == rows(theirs) and len(rows(ours)) == len(TEXT)


def test_building_and_querying_one_loads_no_pandas(tmp_path):
    # Joined with a store's table, as the metrics use them (alone, Ibis would run it on a default backend).
    code = ("from fireline.store import Store\nfrom fireline.metrics.memtables import memtable\n"
            f"store = Store.open({str(tmp_path / 'f.duckdb')!r})\n"
            "t = memtable({'s': ['a', None]}, {'s': 'string'})\n"
            "repos = store.tables()['repos']\n"
            "assert t.left_join(repos, t.s == repos.repo).to_pyarrow().num_rows == 2\n")
    assert packages_after(code, ("pandas",)) == []
