"""Terminal rendering with Rich. Formats results; computes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.table import Table

from .. import registry
from ..metrics.summary import METRICS, Group, MetricValue, Summary

LABELS = {m.name: m.short for m in registry.METRICS}
TIER_STYLE = {"Elite": "bold green", "High": "green", "Mid": "yellow", "Medium": "yellow", "Low": "red"}


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
        return [(" · ".join(str(v) for v in g.keys.values()), g, "") for g in groups]
    rows = []
    for team in teams:
        rows.append((str(team.keys["team"]), team, "bold"))
        for svc in services:
            if svc.keys["team"] == team.keys["team"]:
                rows.append((f"  └ {svc.keys['service']}", svc, ""))
    return rows


def _cells(group: Group) -> list[str]:
    return [_cell(m, group.metrics[m]) for m in METRICS]


def unknown_notes(summary: Summary) -> list[str]:
    return [f"{LABELS[m]}: unknown: {mv.unknown}" for m, mv in summary.overall.metrics.items()
            if mv.value is None and mv.unknown]


def rows_table(rows: list[dict[str, Any]], columns: list[str], tz: str, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for c in columns:
        table.add_column(c)
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
    return str(value)


def console(stderr: bool = False) -> Console:
    # soft_wrap: Rich never breaks a line of text, so a piped message or path stays whole
    # (tables are still laid out to the terminal's width).
    return Console(stderr=stderr, highlight=False, soft_wrap=True)
