"""What a report page is made of: sections of figures, charts and tables, and where links go.

Sections hold display-ready text (formatted numbers, tier names, link targets) and the raw
value beside each figure (`data-value` in the page), so a test or a script can check the
page against `fireline dora --json` without parsing formatted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from ..charts import Chart


@dataclass
class Cell:
    text: str
    tier: str | None = None
    href: str | None = None
    value: float | None = None  # the raw figure, for data-value
    metric: str | None = None
    title: str | None = None  # a tooltip: counts and reasons
    css: str | None = None


@dataclass
class Table:
    id: str
    caption: str
    columns: list[str]
    rows: list[list[Cell | str]]
    row_css: list[str | None] = field(default_factory=list)  # one per row, e.g. "overdue"
    row_keys: list[str | None] = field(default_factory=list)  # data-key per row (a team, a service)
    note: str | None = None
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    # Columns of long words (paths, URLs) that may break anywhere, so a wide table fits the page; and
    # columns that never break (dates).
    breakable: set[int] = field(default_factory=set)
    nowrap: set[int] = field(default_factory=set)


@dataclass
class Figure:
    label: str
    cell: Cell
    detail: str | None = None


@dataclass
class Drilldown:
    """The rows behind one figure, shown folded in the report and as a page in the dashboard."""

    id: str
    title: str
    table: Table


@dataclass
class Section:
    id: str
    title: str
    lead: str  # one or two sentences: what this part says, at a glance
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    drilldowns: list[Drilldown] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: str | None = None  # a warning worth reading first


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class Links(Protocol):
    def drilldown(self, metric: str, team: str | None = None, service: str | None = None) -> str: ...


class AnchorLinks:
    """The static report: drill-downs are folded sections of the same file."""

    def drilldown(self, metric: str, team: str | None = None, service: str | None = None) -> str:
        return "#" + drill_id(metric, team, service)


@dataclass
class PageLinks:
    """The dashboard: drill-downs are pages that keep the window and profile of the page they came from."""

    query: dict[str, str]

    def drilldown(self, metric: str, team: str | None = None, service: str | None = None) -> str:
        params = {k: v for k, v in self.query.items() if k not in ("team", "service") and v}
        if service:
            params["service"] = service
        elif team:
            params["team"] = team
        else:
            params.update({k: v for k, v in self.query.items() if k in ("team", "service") and v})
        qs = urlencode(params)
        return f"/explain/{metric.replace('_', '-')}" + (f"?{qs}" if qs else "")


def drill_id(metric: str, team: str | None = None, service: str | None = None) -> str:
    who = f"service-{slug(service)}" if service else (f"team-{slug(team)}" if team else "all")
    return f"drill-{slug(metric)}-{who}"
