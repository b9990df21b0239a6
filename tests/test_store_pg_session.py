"""The settings of Fireline's PostgreSQL sessions. JIT compilation is off: Ibis writes wide queries (the
deployment query of `summarise` compiles to some 400 functions) whose estimated cost sets off LLVM's
inlining and optimisation, which took about 3 s of a 6.6 s `summarise` at 1M changes (BENCHMARKS.md)."""

from __future__ import annotations

from fireline.store import Store


def test_every_session_of_a_postgres_store_runs_without_jit(pg_url):
    store = Store.open(pg_url)
    try:
        assert store.query("SHOW jit") == [("off",)]
        with store.transaction() as tx:  # a transaction does not bring the server's default back
            tx.execute("CREATE TABLE IF NOT EXISTS jit_probe (x INTEGER)")
        assert store.query("SHOW jit") == [("off",)]
        assert store.table("deployments").count().execute() == 0  # Ibis reads use the same session
        sibling = store.sibling()
        try:
            assert sibling.query("SHOW jit") == [("off",)]
        finally:
            sibling.close()
    finally:
        store.close()
