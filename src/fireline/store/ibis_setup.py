"""Ibis, imported the first time an engine builds a backend rather than when the store opens: a result kept
in the store (app/kept.py) is answered with a few plain queries, and loading Ibis with pyarrow, numpy and
sqlglot was most of such a command's time (issue 16)."""

from __future__ import annotations

from typing import Any


def ibis_module() -> Any:
    """The `ibis` module, with the compile options every engine here relies on set."""
    import ibis

    # Ibis merges each select into the one below it while compiling; on the metrics' expressions that
    # took a third of the compile, which is most of a warm `fireline dora` (0.8 s against 1.15 s, the
    # same figures): every engine the store runs on flattens nested projections itself.
    ibis.options.sql.fuse_selects = False
    return ibis
