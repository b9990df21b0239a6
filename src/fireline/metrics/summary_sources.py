"""Which data sources hold anything at all (and, in the same query, what the team map reads): the
first query of a summary."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from .arrow_times import query_rows
from .summary_pg import is_postgres


@dataclass(frozen=True)
class Sources:
    """Which data sources hold anything at all: an absent source makes a metric unknown. From
    `survey`, also what the team map reads: the services deployments and incidents name, and each
    repository's configured services (the `repos.services` text as stored)."""

    deployments: bool
    changes: bool
    incidents: bool
    services: frozenset[str] = frozenset()
    repo_services: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def of(cls, tables: dict[str, ir.Table]) -> Sources:
        # One query, one grouping of the three tables' rows by source: on Spark each aggregation and
        # each join is a job (three counts crossed were six jobs, this is two).
        names = ("deployments", "changes", "incidents")
        tags = [tables[n].select(source=ibis.literal(i, "int64")) for i, n in enumerate(names)]
        if is_postgres(tables[names[0]]):
            # PostgreSQL counts by reading every row (at 10M changes, 2.8 s of scanning `changes`):
            # a row of each table is enough to know it holds any.
            found = {row["source"] for row in query_rows(ibis.union(*(t.limit(1) for t in tags), distinct=False))}
        else:
            tagged = ibis.union(*tags, distinct=False)
            found = {row["source"] for row in query_rows(tagged.group_by("source").agg(rows=tagged.count()))}
        return cls(0 in found, 1 in found, 2 in found)

    @classmethod
    def survey(cls, tables: dict[str, ir.Table]) -> Sources:
        """`of`, with the services and repositories in the same query (grouped by source, service and
        repository): on Spark each query is a job or two, and reading them apart was three queries more."""
        names, text = ("deployments", "changes", "incidents"), ibis.null("string")
        # Cast: a key column may be typed not-null, and a union's columns must be typed alike.
        parts = [t.select(source=ibis.literal(i, "int64"), name=text if n == "changes" else t.service.cast("string"),
                          extra=text) for i, n in enumerate(names) for t in [tables[n]]]
        if is_postgres(tables["changes"]):
            parts[1] = parts[1].limit(1)  # whether there are changes at all: not a scan of them all (see `of`)
        if "repos" in tables:
            repos = tables["repos"]
            parts.append(repos.select(source=ibis.literal(len(names), "int64"), name=repos.repo.cast("string"),
                                      extra=repos.services.cast("string")))
        tagged = ibis.union(*parts, distinct=False)
        rows = query_rows(tagged.group_by(["source", "name", "extra"]).agg(rows=tagged.count()))
        found = {row["source"] for row in rows}
        return cls(0 in found, 1 in found, 2 in found,
                   services=frozenset(r["name"] for r in rows if r["source"] in (0, 2) and r["name"] is not None),
                   repo_services=tuple(sorted((r["name"], r["extra"]) for r in rows if r["source"] == len(names))))
