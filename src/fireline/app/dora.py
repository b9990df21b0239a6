"""The DORA figures and the rows behind them, as every face asks for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from ..config import Config
from ..errors import UserError
from ..metrics import explain as explain_metric
from ..metrics.dora import Scope
from ..metrics.summary import MetricValue, Summary, summarise
from ..metrics.tiers import PROFILES, get_profile
from ..scope import team_map
from ..store import Store

Period = Literal["week", "month"]


def group_sets(config: Config, by: Period | None) -> tuple[tuple[str, ...], ...]:
    """How a summary is grouped: by period when asked, else per team and service when teams are
    configured, else per service. The CLI, the report and the dashboard all group this way."""
    if by:
        return (("period",),)
    if config.team_names:
        return (("team",), ("team", "service"))
    return (("service",),)


def summary(store: Store, config: Config, scope: Scope, *, profile: str | None = None,
            by: Period | None = None) -> Summary:
    """The four keys plus rework rate over `scope`, each with its tier in `profile` (default: config's)."""
    name = profile or config.profile
    if name not in PROFILES:
        raise UserError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}", field="profile")
    if by not in (None, "week", "month"):
        raise UserError(f"unknown period {by!r}; choose week or month", field="by")
    return summarise(store.tables(), scope, get_profile(name), team_of=team_map(config, store),
                     group_sets=group_sets(config, by), period=by)


@dataclass(frozen=True)
class Explained:
    """One figure and the rows behind it (what `fireline explain` prints)."""

    metric: str
    figure: MetricValue
    note: str
    columns: list[str]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "figure": self.figure.as_dict(), "note": self.note, "rows": self.rows}

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (`.to_pandas()` on it for a DataFrame)."""
        return pa.Table.from_pylist([{c: row.get(c) for c in self.columns} for row in self.rows])


def explain(store: Store, config: Config, metric: str, scope: Scope) -> Explained:
    """`metric` by its name (`lead_time`) or its slug (`lead-time`)."""
    name = explain_metric.ALIASES.get(metric, metric)
    if name not in explain_metric.ALIASES.values():
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(explain_metric.ALIASES)}",
                        field="metric")
    result = explain_metric.explain(store.tables(), name, scope)
    figure = summary(store, config, scope).overall.metrics[name]
    return Explained(name, figure, result.note, result.columns, result.rows)
