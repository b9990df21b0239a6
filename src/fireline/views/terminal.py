"""Terminal rendering with Rich. Formats results; computes nothing.

Data reaches the terminal from files, webhooks and config that anyone may have written, so it
must never act as markup or as terminal control: every value that goes into a table cell or a
markup string passes through `safe()` (Rich markup escaped, control characters shown as `\\x1b`),
and the console from `console()` shows any control character left in text the same way, so an
escape sequence in a service name cannot retitle, clear or recolour the user's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .. import registry
from ..metrics.summary import METRICS, Group, MetricValue, Summary

LABELS = {m.name: m.short for m in registry.METRICS}
TIER_STYLE = {"Elite": "bold green", "High": "green", "Mid": "yellow", "Medium": "yellow", "Low": "red"}


# C0 and C1 control characters, DEL, and lone surrogates (which cannot even be encoded).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# In whole messages, line breaks and tabs are layout and stay; everything else is shown.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def plain(value: Any) -> str:
    """A value as one line of inert text: control characters (ESC, BEL, CR, newline, C1 ...) become
    visible escapes such as `\\x1b`. For output that Rich does not parse (lint findings)."""
    return _CONTROL.sub(_visible, str(value))


def clean_text(text: str) -> str:
    """Text written to stdout without Rich (Markdown notes): line breaks and tabs stay, every other
    control character becomes a visible escape."""
    return _CONTROL_IN_TEXT.sub(_visible, text)


def safe(value: Any) -> str:
    """A value for a table cell or a markup string: `plain()`, with Rich markup escaped, so
    `[bold red]` shows as written. Every cell of data goes through this."""
    return escape(plain(value))


class DataTable(Table):
    """A Table whose string cells are data: each goes through `safe()`, so none can carry markup or
    terminal control. A cell meant to be styled is passed as `styled(text, style)` (a Rich Text)."""

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(safe(c) if isinstance(c, str) else c for c in renderables), **kwargs)


def styled(text: str, style: str) -> Text:
    """A cell shown in a style, its text taken literally (for DataTable rows)."""
    return Text(plain(text), style=style)


class SafeConsole(Console):
    """A Console that shows control characters instead of sending them to the terminal.

    Strings are cleaned before markup and layout (so tables keep their widths); other renderables
    are cleaned segment by segment as a last line of defence. Rich's own styling is unaffected.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(clean_text(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if not segment.control and _CONTROL_IN_TEXT.search(segment.text):
                segment = Segment(_CONTROL_IN_TEXT.sub(_visible, segment.text), segment.style)
            yield segment


def duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.0f}m"
    if hours < 48:
        return f"{hours:.1f}h"
    return f"{hours / 24:.1f}d"


def format_value(metric: str, mv: MetricValue) -> str:
    if mv.value is None:
        return "unknown" if mv.unknown and "ingested" in mv.unknown else "—"
    if metric == "deployment_frequency":
        per_week = mv.value * 7
        return f"{mv.value:.1f}/day" if mv.value >= 1 else f"{per_week:.1f}/wk"
    if metric in ("lead_time", "time_to_restore"):
        return duration(mv.value)
    return f"{mv.value * 100:.0f}%"


def _cell(metric: str, mv: MetricValue) -> str:
    text = format_value(metric, mv)
    if mv.tier:
        style = TIER_STYLE.get(mv.tier, "")
        text += f" [{style}]{mv.tier}[/]" if style else f" {mv.tier}"
    return text


def dora_table(summary: Summary, title: str | None = None) -> Table:
    scope = summary.scope
    caption = (f"{scope.since:%Y-%m-%d %H:%M} → {scope.until:%Y-%m-%d %H:%M} UTC · profile {summary.profile}"
               " · counts and reasons: --json or fireline explain")
    table = Table(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(_first_header(summary.groups), no_wrap=True)
    for metric in METRICS:
        table.add_column(LABELS[metric], justify="right")
    for label, group, style in _ordered(summary.groups):
        table.add_row(label, *_cells(group), style=style)
    if summary.groups:
        table.add_section()
    table.add_row("All", *_cells(summary.overall), style="bold")
    return table


def _first_header(groups: list[Group]) -> str:
    keys = {k for g in groups for k in g.keys}
    if keys == {"team", "service"}:
        return "Team / service"
    return next(iter(keys), "Scope").capitalize()


def _ordered(groups: list[Group]) -> list[tuple[str, Group, str]]:
    """Team rows, each followed by its services, indented."""
    teams = [g for g in groups if set(g.keys) == {"team"}]
    services = [g for g in groups if "service" in g.keys and "team" in g.keys]
    if not teams:
        return [(" · ".join(safe(v) for v in g.keys.values()), g, "") for g in groups]
    rows = []
    for team in teams:
        rows.append((safe(team.keys["team"]), team, "bold"))
        for svc in services:
            if svc.keys["team"] == team.keys["team"]:
                rows.append((f"  └ {safe(svc.keys['service'])}", svc, ""))
    return rows


def _cells(group: Group) -> list[str]:
    return [_cell(m, group.metrics[m]) for m in METRICS]


def unknown_notes(summary: Summary) -> list[str]:
    return [f"{LABELS[m]}: unknown: {safe(mv.unknown)}" for m, mv in summary.overall.metrics.items()
            if mv.value is None and mv.unknown]


def rows_table(rows: list[dict[str, Any]], columns: list[str], tz: str, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for c in columns:
        table.add_column(safe(c))
    zone = ZoneInfo(tz)
    for row in rows:
        table.add_row(*[_fmt(row.get(c), zone) for c in columns])
    return table


def _fmt(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, float):
        return f"{value:.2f}"
    return safe(value)


def console(stderr: bool = False) -> Console:
    # soft_wrap: Rich never breaks a line of text, so a piped message or path stays whole
    # (tables are still laid out to the terminal's width).
    # emoji off: `:fire:` in a service name is text, not a picture.
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
