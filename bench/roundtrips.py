"""Counting an Ibis backend's round trips: every fetch, execute and cached table is a job on Spark,
so the count (not the time) says how a query plan will fare on a distributed engine. Used by the
Spark benchmarks and by tests/test_summary_queries.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROUND_TRIPS = ("execute", "to_pyarrow", "to_pyarrow_batches", "_create_cached_table")


@contextmanager
def counted(backend: Any) -> Iterator[list[str]]:
    """Every round trip `backend` makes inside the block, by method (nested calls count once)."""
    calls: list[str] = []
    depth = [0]

    def wrap(name: str, method: Any) -> Any:
        def hook(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls.append(name)
            depth[0] += 1
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
        return hook

    originals = {name: getattr(backend, name) for name in ROUND_TRIPS}
    for name, method in originals.items():
        setattr(backend, name, wrap(name, method))
    try:
        yield calls
    finally:
        for name in originals:
            delattr(backend, name)  # back to the class's method
