"""The Ibis backend of a local Spark session, keeping the analysed plan of each query it has run.

`session.sql` parses and analyses its SQL text every time: for the 14 kB query of a `dora` summary
that is about a sixth of the JVM's work in a warm call. A process that asks the same question
again (`fireline serve`, a notebook) sends the same text, so the plan Spark analysed the first time
is run again as a new Dataset: Spark still optimises, plans and executes it from the start, and reads
the tables anew; only the parse and analysis are skipped. The plans live with the backend, that is
with one opened store: the views they name are the ones that store registered (a store opened again
registers its views again, with a fresh listing of their files, and starts with no plans). The rows
come back as Arrow (`DataFrame.toArrow`), not through pandas.

Measured on the demo, warm `dora`, alternating call by call in one process: 0.597 s against 0.716 s,
JVM CPU 0.74 s against 0.87 s (BENCHMARKS.md).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache
from typing import Any

from .ibis_setup import ibis_module

# Distinct questions a process keeps plans for (a `dora` is two queries; each window is new text).
PLANS_KEPT = 64


def plan_reusing_backend(session: Any) -> Any:
    """An Ibis pyspark backend on the local `session` that reuses analysed plans."""
    backend = _backend_class()
    if getattr(ibis_module().options, backend.name, None) is None:
        # What `ibis.pyspark` does when first used: its compiler reads these options, and a fresh
        # process that imported the class alone failed in its first query.
        backend.register_options()
    return backend().connect(session)


@cache
def _backend_class() -> Any:
    from ibis.backends.pyspark import Backend
    from ibis.formats.pyarrow import PyArrowData
    from pyspark.sql import DataFrame

    class PlanReusingBackend(Backend):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._plans: OrderedDict[str, Any] = OrderedDict()  # SQL text -> Spark's analysed plan

        def to_pyarrow(self, expr: Any, /, *, params: Any = None, limit: Any = None, **kwargs: Any) -> Any:
            if self.mode == "streaming" or not hasattr(DataFrame, "toArrow"):  # pyspark < 4 has no toArrow
                return super().to_pyarrow(expr, params=params, limit=limit, **kwargs)
            table = expr.as_table()
            self._run_pre_execute_hooks(table)
            sql = self.compile(table, params=params, limit=limit, **kwargs)
            plans = self._plans
            plan = plans.pop(sql, None)
            if plan is None:
                # Through pyspark's own `sql`, so an analysis error arrives as pyspark's exception.
                plan = self._session.sql(sql)._jdf.queryExecution().analyzed()
            plans[sql] = plan
            while len(plans) > PLANS_KEPT:
                plans.popitem(last=False)
            dataset = _dataset_of(self._session, plan)
            if dataset is None:
                return super().to_pyarrow(expr, params=params, limit=limit, **kwargs)
            frame = DataFrame(dataset, self._session)
            return expr.__pyarrow_result__(PyArrowData.convert_table(frame.toArrow(), table.schema()))

    return PlanReusingBackend


def _dataset_of(session: Any, plan: Any) -> Any:
    """A new Dataset of an analysed logical plan, or None where this Spark has no such entry (an
    internal of Spark 4's classic sessions; the query then goes the way Ibis sends it)."""
    from py4j.protocol import Py4JError

    try:
        return session._jvm.org.apache.spark.sql.classic.Dataset.ofRows(session._jsparkSession, plan)
    except Py4JError:
        return None
