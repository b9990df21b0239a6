"""Charts: Vega-Lite specs (Altair) rendered to inline SVG or PNG by vl-convert, with no network.

A chart carries its data as plain rows, so every picture has a table behind it (for
screen readers, for copying, and for anyone who distrusts a picture). SVG output uses
`currentColor` for text and axes, so one rendering reads in light and in dark mode; PNG
has no surrounding page, so it gets explicit colours on white.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

HEIGHT = 220
# Every chart is drawn this wide overall, axis labels and legend included (Vega-Lite's "fit"), so charts
# of one page line up, and the page scales each to its card's width.
FULL_WIDTH = 620
TREND_HEIGHT = 300  # a weekly chart's whole height: plot, axis titles and legend
# Tableau 10 keeps its hues apart on white and on near-black backgrounds.
SCHEME = "tableau10"


@dataclass
class Chart:
    id: str
    title: str
    description: str  # the text alternative: what the chart shows, in words
    spec: dict[str, Any]
    columns: list[str]  # the data table behind the chart
    rows: list[list[Any]] = field(default_factory=list)


def _theme(for_png: bool) -> dict[str, Any]:
    ink = "#1f2937" if for_png else "currentColor"
    return {
        "background": "white" if for_png else None,
        "view": {"stroke": None},
        "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        "axis": {"labelColor": ink, "titleColor": ink, "domainColor": ink, "tickColor": ink,
                 "gridColor": "#9ca3af", "gridOpacity": 0.35, "labelFontSize": 11, "titleFontSize": 12},
        "legend": {"labelColor": ink, "titleColor": ink, "orient": "bottom", "labelFontSize": 11},
        "range": {"category": {"scheme": SCHEME}},
    }


WEEKLY, ROLLING = "weekly", "4 weeks"


def _segments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points with a `segment` number that changes after each missing value of their line, so a line stops
    at a period without data instead of bridging it (a gap is a gap); the missing points are dropped."""
    out: list[dict[str, Any]] = []
    gaps: dict[tuple[str, str], int] = {}
    for r in rows:
        line = (r["series"], r.get("kind", WEEKLY))
        if r["value"] is None:
            gaps[line] = gaps.get(line, 0) + 1
            continue
        out.append({**r, "kind": r.get("kind", WEEKLY), "segment": f"{line[0]}|{line[1]}|{gaps.get(line, 0)}"})
    return out


def trend(chart_id: str, title: str, description: str, rows: list[dict[str, Any]], *, y_title: str,
          table_columns: list[str], table_rows: list[list[Any]], domain: tuple[str, str] | None = None) -> Chart:
    """One line per series over weeks, broken where a week has no value. `rows`: {"week": ISO date, "series":
    name, "value": number or None, "kind": "weekly" (points and a solid line) or "4 weeks" (a dashed rolling
    line)}, in week order. `domain`: the window (ISO times), so every chart of a report spans the same time."""
    scale = alt.Scale(type="utc", domain=list(domain)) if domain else alt.Scale(type="utc")
    data = alt.Data(values=_segments(rows))
    base = alt.Chart(data).encode(
        x=alt.X("week:T", title="week starting", scale=scale, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=8)),
        y=alt.Y("value:Q", title=y_title),
        color=alt.Color("series:N", title=None),
    )
    lines = base.mark_line(strokeWidth=2).encode(detail="segment:N")
    if any(r.get("kind") == ROLLING for r in rows):
        lines = lines.encode(strokeDash=alt.StrokeDash("kind:N", title=None, scale=alt.Scale(
            domain=[WEEKLY, ROLLING], range=[[1, 0], [6, 4]])))
    points = base.transform_filter(alt.datum.kind == WEEKLY).mark_point(filled=True, size=28)
    return Chart(chart_id, title, description, _fit(alt.layer(lines, points), TREND_HEIGHT, total=True),
                 table_columns, table_rows)


def bars(chart_id: str, title: str, description: str, rows: list[dict[str, Any]], *, x_title: str,
         table_columns: list[str], table_rows: list[list[Any]], percent: bool = False) -> Chart:
    """Horizontal bars, one per category. `rows`: {"category": name, "value": number}."""
    axis = alt.Axis(format=".0%", tickCount=6) if percent else alt.Axis(tickCount=6)
    chart = alt.Chart(alt.Data(values=rows)).mark_bar(color="#4e79a7").encode(
        x=alt.X("value:Q", title=x_title, axis=axis),
        # Every category keeps its row, a missing value included (a month without incidents).
        y=alt.Y("category:N", title=None, sort=None, scale=alt.Scale(domain=[r["category"] for r in rows])),
    )
    return Chart(chart_id, title, description, _fit(chart, max(40, 26 * len(rows))), table_columns, table_rows)


def stacked(chart_id: str, title: str, description: str, rows: list[dict[str, Any]], *, value_title: str,
            series: list[str], table_columns: list[str], table_rows: list[list[Any]], horizontal: bool) -> Chart:
    """Bars split into `series` (stacked in that order), one per category; categories keep their order.
    `rows`: {"category": name, "series": one of `series`, "value": number}.

    Horizontal: one bar per row, the chart as tall as its categories (people, teams). Vertical: columns
    along an ordered axis (months, say), at the usual chart size."""
    order = {name: i for i, name in enumerate(series)}
    values = [{**r, "order": order.get(r["series"], len(order))} for r in rows]
    categories = list(dict.fromkeys(r["category"] for r in rows))
    value = alt.X if horizontal else alt.Y
    category = alt.Y if horizontal else alt.X
    axis: dict[str, Any] = {} if horizontal else {"axis": alt.Axis(labelAngle=0)}
    encoding = {"x" if horizontal else "y": value("value:Q", title=value_title, stack="zero"),
                "y" if horizontal else "x": category("category:N", title=None, sort=categories, **axis)}
    height = max(40, 26 * len(categories)) if horizontal else HEIGHT
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        **encoding,
        color=alt.Color("series:N", title=None, sort=series, scale=alt.Scale(domain=series)),
        order=alt.Order("order:Q"),
    )
    return Chart(chart_id, title, description, _fit(chart, height), table_columns, table_rows)


def _fit(chart: Any, height: int, *, total: bool = False) -> dict[str, Any]:
    """`height`: of the plot, or with `total` of the whole chart. A fixed total is what keeps a chart
    without a single value a frame of that size: sized from its content, Vega makes it 1.8e308 px tall."""
    # Not validated against the Vega-Lite schema here (jsonschema: about as long as building the spec, on a
    # server's first page): the specs' shapes are fixed by this module, and tests/test_report.py validates
    # every chart of the demo's report. The dict is the same either way.
    spec = chart.properties(width=FULL_WIDTH, height=height).to_dict(validate=False)
    spec["autosize"] = {"type": "fit" if total else "fit-x", "contains": "padding"}
    return spec


def _with_theme(spec: dict[str, Any], for_png: bool) -> dict[str, Any]:
    return {**spec, "config": {**spec.get("config", {}), **_theme(for_png)}}


_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")


def to_svg(chart: Chart) -> str:
    """The chart as an inline SVG that is one image to assistive technology, named by its <title>."""
    svg = vlc.vegalite_to_svg(_with_theme(chart.spec, for_png=False))
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    match = _SVG_OPEN.search(svg)
    if match is None:  # vl-convert always writes one root <svg>; refuse to emit a broken page if not
        raise ValueError("vl-convert returned no <svg> element")
    attrs = match.group(1)
    opening = (f'<svg{attrs} role="img" aria-labelledby="{title_id} {desc_id}" focusable="false">'
               f'<title id="{title_id}">{html.escape(chart.title)}</title>'
               f'<desc id="{desc_id}">{html.escape(chart.description)}</desc>')
    return svg[:match.start()] + opening + svg[match.end():]


def warm_up() -> None:
    """Start vl-convert's JavaScript runtime (~0.3 s, once per process, off the GIL) before the first chart
    is drawn: a server does it beside its first page's queries instead of after them."""
    vlc.vegalite_to_svg({"mark": "point", "data": {"values": []}})


def write_png(chart: Chart, directory: Path, scale: float = 2.0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{chart.id}.png"
    path.write_bytes(vlc.vegalite_to_png(_with_theme(chart.spec, for_png=True), scale=scale))
    return path
