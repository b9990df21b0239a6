"""Terminal rendering with Rich. Formats results; computes nothing.

Data reaches the terminal from files, webhooks and config that anyone may have written, so it
must never act as markup or as terminal control: every value that goes into a table cell or a
markup string passes through `safe()` (Rich markup escaped, control characters shown as `\\x1b`),
and the console from `console()` shows any control character left in text the same way, so an
escape sequence in a service name cannot retitle, clear or recolour the user's terminal.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .. import registry
from ..metrics.summary_types import METRICS, Group, MetricValue, Summary
from ..wording import plural as plural  # the terminal's word for every view

LABELS = {m.name: m.short for m in registry.METRICS}
TIER_STYLE = {"Elite": "bold green", "High": "green", "Mid": "yellow", "Low": "red"}


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


# A column's padding on both sides and the box's divider between columns (2 with collapse_padding).
_COLUMN_GAP = 3


def last_that_fit(columns: Sequence[Sequence[str]], room: int, gap: int = _COLUMN_GAP) -> int:
    """How many of `columns` (each its header and cells), counted from the last, fit side by side in `room`
    terminal cells, padding included; at least one. A table of every month of a long window had every cell
    cut to '…' at 80 columns: it shows the latest months that fit instead (and says so)."""
    used = count = 0
    for column in reversed(columns):
        width = max((cell_len(plain(c)) for c in column), default=0) + gap
        if used + width > room:
            break
        used, count = used + width, count + 1
    return max(count, 1)


def months_shown(months: Sequence[str], columns: Sequence[Sequence[str]], other: Sequence[Sequence[str]],
                 console: Console, gap: int = _COLUMN_GAP) -> tuple[list[str], str]:
    """The latest of `months` (whose columns are `columns`) that fit the console beside the `other` columns,
    and a caption note when some were left out."""
    room = console.width - sum(max((cell_len(plain(c)) for c in col), default=0) + gap for col in other)
    shown = len(months) and last_that_fit(columns, room, gap)
    if shown >= len(months):
        return list(months), ""
    return list(months[-shown:]), f"the last {shown} of {len(months)} months (a wider terminal or --json shows all)"


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


def _number(x: float) -> str:
    """At most one decimal, none when it is .0; one significant digit below 0.1."""
    if x >= 10:
        return f"{x:.0f}"
    if x >= 0.095:
        return f"{x:.1f}".removesuffix(".0")
    return f"{x:.1g}"


def rate(per_day: float) -> str:
    """Deployments per day, per week or per month (30 days), whichever is the largest unit that counts at
    least one, so a low rate reads as 0.3/mo instead of 0.0/wk. JSON keeps deployments per day."""
    if per_day == 0:
        return "0"  # needs no unit, and fits a table of weeks or of months
    if per_day >= 1:
        return f"{_number(per_day)}/day"
    if per_day * 7 >= 0.95:
        return f"{_number(per_day * 7)}/wk"
    return f"{_number(per_day * 30)}/mo"


def format_value(metric: str, mv: MetricValue) -> str:
    if mv.value is None:
        return "unknown" if mv.unknown and "ingested" in mv.unknown else "—"
    if metric == "deployment_frequency":
        return rate(mv.value)
    if metric in ("lead_time", "time_to_restore"):
        return duration(mv.value)
    return f"{mv.value * 100:.0f}%"


def _cell(metric: str, mv: MetricValue) -> str:
    text = format_value(metric, mv)
    if mv.tier:
        style = TIER_STYLE.get(mv.tier, "")
        text += f" [{style}]{mv.tier}[/]" if style else f" {mv.tier}"
    return text


def dora_table(summary: Summary, title: str | None = None, period: str | None = None) -> Table:
    """`period` ("week" or "month"): the rows are periods; a month reads 2026-01, a week by its Monday."""
    scope = summary.scope
    caption = (f"{scope.since:%Y-%m-%d %H:%M} → {scope.until:%Y-%m-%d %H:%M} UTC · profile {summary.profile}"
               " · counts and reasons: --json or fireline explain")
    table = Table(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    header = {"month": "Month", "week": "Week of"}.get(period or "") or _first_header(summary.groups)
    table.add_column(header, no_wrap=True)
    for metric in METRICS:
        table.add_column(LABELS[metric], justify="right")
    for label, group, style in _ordered(summary.groups, period):
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


def period_label(value: Any, period: str | None) -> str:
    """A period's start as people name it: 2026-01 for a month, the Monday's date for a week."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:7] if period == "month" else text[:10]


def _ordered(groups: list[Group], period: str | None = None) -> list[tuple[str, Group, str]]:
    """Team rows, each followed by its services, indented."""
    teams = [g for g in groups if set(g.keys) == {"team"}]
    services = [g for g in groups if "service" in g.keys and "team" in g.keys]
    if not teams:
        return [(" · ".join(safe(period_label(v, period) if k == "period" else v) for k, v in g.keys.items()), g, "")
                for g in groups]
    rows = []
    for team in teams:
        rows.append((safe(team.keys["team"]), team, "bold"))
        for svc in services:
            if svc.keys["team"] == team.keys["team"]:
                rows.append((f"  └ {safe(svc.keys['service'])}", svc, ""))
    return rows


def _cells(group: Group) -> list[str]:
    return [_cell(m, group.metrics[m]) for m in METRICS]


STAGE_LABELS = {"coding": "Coding", "pickup": "Pickup", "review": "Review", "deploy": "Deploy"}


def _stage_cell(found: dict[str, Any]) -> str:
    if not found.get("count"):
        return "—"
    return f"{duration(found['median'])} [dim]({duration(found['p90'])})[/]"


def _share(stages: dict[str, Any]) -> str:
    return "—" if stages.get("outside_share") is None else f"{stages['outside_share'] * 100:.0f}%"


def stages_table(summary: Summary, period: str | None = None) -> Table:
    """Lead time in stages per group: median (p90) of each stage over the pull requests merged."""
    table = Table(title="Lead time in stages", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="median (p90) over pull requests merged in the window · outside PRs: share of shipped "
                          "commits that came through none · fireline explain lead-time --stage review")
    header = {"month": "Month", "week": "Week of"}.get(period or "") or _first_header(summary.groups)
    table.add_column(header, no_wrap=True)
    table.add_column("PRs", justify="right")
    for label in STAGE_LABELS.values():
        table.add_column(label, justify="right")
    table.add_column("Outside PRs", justify="right")

    def cells(group: Group) -> list[str]:
        stages = group.metrics["lead_time"].details.get("stages") or {}
        return [str(stages.get("pull_requests", 0)), *(_stage_cell(stages.get(s) or {}) for s in STAGE_LABELS),
                _share(stages)]

    for label, group, style in _ordered(summary.groups, period):
        table.add_row(label, *cells(group), style=style)
    if summary.groups:
        table.add_section()
    table.add_row("All", *cells(summary.overall), style="bold")
    return table


def stage_notes(summary: Summary) -> list[str]:
    """What the stages leave out, counted (docs/metrics.md "Lead time in stages")."""
    stages = summary.overall.metrics["lead_time"].details.get("stages") or {}
    n = stages.get("pull_requests", 0)
    if not n and not stages.get("changes"):
        return ["Lead time in stages: no pull requests merged in the window (webhooks `pull_request`, "
                "`pull_request_review`, GitLab merge request events, or `fireline sync`)."]
    parts = [f"{stages.get('unreviewed', 0)} merged without review",
             f"{stages.get('undeployed', 0)} not deployed by the end of the window",
             f"{stages.get('first_commit_unknown', 0)} without a known first commit"]
    if stages.get("baseline"):
        parts.append(f"{stages['baseline']} first shipped by a baseline deployment")
    notes = [f"{plural(n, 'pull request')} merged: " + ", ".join(parts) + "."]
    if stages.get("changes"):
        notes.append(f"{_share(stages)} of shipped commits came through no pull request "
                     f"({stages.get('outside_pull_requests', 0)} of {stages['changes']}).")
    return notes


def unknown_notes(summary: Summary) -> list[str]:
    return [f"{LABELS[m]}: unknown: {safe(mv.unknown)}" for m, mv in summary.overall.metrics.items()
            if mv.value is None and mv.unknown]


# Free text wraps at words; every other column is an id, a time or a number, which is folded onto a second
# line rather than cut with "…" when 80 columns are not enough (the full value is what one copies).
_PROSE = {"subject", "title", "reason", "why", "summary", "message", "what", "rework_subject"}
SHA_WIDTH = 10  # as the report shows shas; `--json` has them whole


def rows_table(rows: list[dict[str, Any]], columns: list[str], tz: str, title: str | None = None) -> Table:
    """Rows as a table that reads at 80 columns. A column with one value in every row is said once in the
    caption instead; ids that share a `kind:repo:` prefix show what tells them apart (the caption names
    the prefix); ids, shas and times are never cut."""
    zone = ZoneInfo(tz)
    cells = {c: [_fmt(r.get(c), zone, c) for r in rows] for c in columns}
    notes = []
    shown = list(columns)
    if len(rows) > 1:
        for c in columns:
            if c not in _PROSE and len(set(cells[c])) == 1 and len(shown) > 2:
                notes.append(f"{c.replace('_', ' ')}: {cells[c][0]}")
                shown.remove(c)
            elif c.endswith("_id"):
                prefix = _shared_prefix(cells[c])
                if prefix:
                    notes.append(f"{c.replace('_', ' ')}: {prefix}…")
                    cells[c] = [v[len(prefix):] for v in cells[c]]
    if any(isinstance(r.get(c), datetime) for r in rows for c in columns):
        notes.append(f"times in {tz}")
    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                  caption=textwrap.fill(" · ".join(notes), 78, break_long_words=False) or None)
    for c in shown:
        values = [r.get(c) for r in rows if r.get(c) is not None]
        numeric = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        keep = c.endswith("sha") or c.endswith("_id")  # what one copies to look a row up: never folded
        table.add_column(safe(c.replace("_", " ")), overflow="fold", justify="right" if numeric else "left",
                         ratio=1 if c in _PROSE else None,
                         min_width=max((len(v) for v in cells[c]), default=None) if keep else None)
    for i in range(len(rows)):
        table.add_row(*(cells[c][i] for c in shown))
    return table


def _shared_prefix(values: list[str]) -> str:
    """The `kind:repo:` part every value shares (tag deployments: tag:flask:3.1.2), if any."""
    first = values[0].rsplit(":", 1)[0] + ":" if ":" in values[0] else ""
    return first if first and all(v.startswith(first) and len(v) > len(first) for v in values) else ""


def _fmt(value: Any, zone: ZoneInfo, column: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.2f}"
    if column == "sha" or column.endswith("_sha"):
        return safe(str(value)[:SHA_WIDTH])
    return safe(value)


def console(stderr: bool = False) -> Console:
    # soft_wrap: Rich never breaks a line of text, so a piped message or path stays whole
    # (tables are still laid out to the terminal's width).
    # emoji off: `:fire:` in a service name is text, not a picture.
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
