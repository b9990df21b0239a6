"""The DORA figures and the rows behind them, as every face asks for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa

from ..config import Config
from ..errors import UserError
from ..metrics import explain as explain_metric
from ..metrics.dora import Scope
from ..metrics.span import data_span
from ..metrics.summary import MetricValue, Summary, summarise
from ..metrics.tiers import PROFILES, Profile, get_profile
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
    return summary_of_tables(store.tables(), config, scope, get_profile(name), team_map(config, store), by)


def summary_of_tables(tables: dict[str, Any], config: Config, scope: Scope, profile: Profile,
                      team_of: dict[str, str], by: Period | None = None) -> Summary:
    """`summary` over tables already at hand (the report's), grouped the one way every face groups."""
    result = summarise(tables, scope, profile, team_of=team_of, group_sets=group_sets(config, by), period=by)
    result.hint = empty_window_hint(tables, config, scope, result)
    return result


def empty_window_hint(tables: dict[str, Any], config: Config, scope: Scope, result: Summary) -> dict[str, Any] | None:
    """Nothing in the window (no deployment, no incident) while the store has data for these services: say
    where the data is and which window shows it, instead of a table of zeros."""
    figures = result.overall.metrics
    if figures["deployment_frequency"].count or figures["time_to_restore"].count:
        return None
    span = data_span(tables, scope)
    if span is None:
        return None
    zone = ZoneInfo(config.timezone)
    first, last = (t.astimezone(zone) for t in span)
    since, until = first.date().isoformat(), last.date().isoformat()
    return {"message": f"nothing in this window; the data runs from {first:%Y-%m-%d %H:%M} to "
                       f"{last:%Y-%m-%d %H:%M} ({config.timezone}): try --since {since} --until {until}",
            "first": span[0], "last": span[1], "since": since, "until": until}


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
