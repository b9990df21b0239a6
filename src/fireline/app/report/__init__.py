"""The HTML report and the dashboard's pages, assembled: the use case behind `fireline report` and `/`.

- ``context``: the Context every section reads (tables, scope, config, the clock).
- ``sections``: the DORA sections and the order of all sections; ``parts`` (and ``debt_part``,
  ``oncall_part``): the other parts.
- ``fireline.views.report``: what a page is made of (``model``) and its HTML (``html``).

``build_context`` turns command-line style filters into a Context; ``report_page`` gathers the
sections into a Page; ``write_report`` writes one self-contained file (and PNGs on request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ...config import Config
from ...errors import UserError
from ...metrics.scope import Scope
from ...metrics.tiers import get_profile
from ...scope import scope_of, team_map
from ...steps import Steps, quietly
from ...store import Store
from .context import PARTS_STEP, Anchors, Context, Shared

if TYPE_CHECKING:
    from ...debt.report import ScanCache
    from ...views.report.html import Filters, Option, Page, render
    from ...views.report.model import Links, Section


def __getattr__(name: str) -> object:
    # The page's HTML (and Altair, which draws its charts) is imported when a page is made, not to write
    # a kept one: a warm `fireline report` is mostly start-up.
    if name in ("Filters", "Option", "Page", "render"):
        from ...views.report import html

        return getattr(html, name)
    raise AttributeError(name)

__all__ = ["Context", "Filters", "Option", "Page", "ReportResult", "build_context", "render", "report_file",
           "report_page", "scope_text", "write_report"]


def build_context(store: Store, config: Config, *, team: str | None = None, service: str | None = None,
                  since: str | None = None, until: str | None = None, profile: str | None = None,
                  today: date | None = None, now: datetime | None = None, links: Links | None = None,
                  drill_rows: int = 100, scope: Scope | None = None, scans: ScanCache | None = None,
                  shared: Shared | None = None) -> Context:
    """`scans`: a long-running server's marker scans to reuse (the report command scans once anyway);
    `shared`: what its pages of one store generation share (context.Shared)."""
    try:
        chosen = get_profile(profile or config.profile)
    except KeyError as exc:
        raise UserError(exc.args[0], where="--profile") from None
    zone = ZoneInfo(config.timezone)
    if now is None and today is not None:
        # Every part is as of the end of that day (debts age, items fall overdue), not of the clock.
        now = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    now = now or datetime.now(UTC)
    team_of = team_map(config, store)
    scope = scope or scope_of(config, store, team, service, since, until, team_of=team_of, now=now)
    today = today or now.astimezone(zone).date()
    return Context(store=store, tables=store.tables(), config=config, scope=scope, team_of=team_of,
                   profile=chosen, today=today, now=now, links=links or Anchors(), team=team,
                   service=service, drill_rows=drill_rows, scans=scans, shared=shared)


def window_dates(ctx: Context) -> tuple[date, date]:
    """The window as local dates, `until` inclusive (the way --since/--until read them)."""
    zone = ZoneInfo(ctx.config.timezone)
    return (ctx.scope.since.astimezone(zone).date(),
            (ctx.scope.until - timedelta(microseconds=1)).astimezone(zone).date())


def scope_text(ctx: Context) -> str:
    first, last = window_dates(ctx)
    who = (f"service {ctx.service}" if ctx.service else f"team {ctx.team}" if ctx.team else "all teams")
    return (f"{first:%d %b %Y} – {last:%d %b %Y} ({ctx.config.timezone}) · {who} · "
            f"tier profile {ctx.profile.name} · as of {ctx.today.isoformat()}")


def report_page(ctx: Context, *, title: str = "Fireline report", filters: Filters | None = None,
                sections: list[Section] | None = None, steps: Steps | None = None,
                on_section: Callable[[Section], None] | None = None) -> Page:
    """`on_section`: see build_sections (a Drawing's `draw`, to draw the charts while the rest computes)."""
    from ...views.report.html import Page

    if sections is None:
        # Imported here: the parts (and Altair, for their charts) are not needed to write a kept report.
        from .sections import build_sections

        sections = build_sections(ctx, steps=steps, on_section=on_section)
    found = sections
    footer = ("Made by Fireline from the store's deployments, commits, incidents and alerts. "
              "Every figure can explain itself: fireline explain METRIC. This page makes no network requests.")
    return Page(title=title, scope_text=scope_text(ctx), sections=found, footer=footer, filters=filters)


@dataclass
class ReportResult:
    path: Path
    sections: list[str]
    charts: list[str]
    pngs: list[Path] = field(default_factory=list)
    bytes: int = 0

    def as_dict(self) -> dict:
        return {"out": str(self.path), "bytes": self.bytes, "sections": self.sections, "charts": self.charts,
                "png": [str(p) for p in self.pngs]}


def _make_folder(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise UserError(f"{blocker} is a file, not a folder; give a path in a folder", where=option) from None
        raise UserError(f"cannot create the folder {folder}: {exc.strerror}", where=option) from None


def write_report(ctx: Context, out: Path, *, png_dir: Path | None = None, title: str = "Fireline report",
                 steps: Steps | None = None) -> ReportResult:
    """Compute the report and write it to `out` (and its charts as PNGs to `png_dir`); `steps` hears
    "report parts"."""
    _make_folders(out, png_dir)
    return _write(out, *_made(ctx, title, png_dir, steps))


def report_file(store: Store, config: Config, out: Path, *, team: str | None = None, service: str | None = None,
                since: str | None = None, until: str | None = None, profile: str | None = None,
                today: date | None = None, now: datetime | None = None, png_dir: Path | None = None,
                title: str = "Fireline report", steps: Steps | None = None, reuse: bool = True) -> ReportResult:
    """`fireline report`: build_context and write_report, except that with `reuse` a page made earlier
    from the same data, working copies, options, config and code (kept in the store: app/report/kept.py)
    is written again instead of computed. With `png_dir` the page is always computed (its charts are
    drawn as PNGs), and kept."""
    from . import kept

    _make_folders(out, png_dir)
    options = {"team": team, "service": service, "since": since, "until": until, "profile": profile,
               "today": today, "now": now, "title": title}
    request = kept.request_key(config, options) if reuse else None
    state = kept.state_of(store, config) if request is not None else None
    if request is not None and state is not None and png_dir is None:
        found = kept.load(store, request, state)
        if found is not None:
            (steps or quietly)(PARTS_STEP, found["parts"], found["parts"])
            return _write(out, found["html"], found["sections"], found["charts"], [])
    ctx = build_context(store, config, team=team, service=service, since=since, until=until, profile=profile,
                        today=today, now=now)
    if request is not None and state is not None:
        # The marker scans first: one that writes its result to the store does so before the state is
        # read again (PostgreSQL's generation counts that write too), so the next run finds this page.
        kept.scan_markers(ctx, steps)
        state = kept.after_scans(store, config, state)
    made = _made(ctx, title, png_dir, steps)
    if request is not None and state is not None:
        text, sections, charts, _ = made
        kept.keep(store, request, state, text, sections, charts, parts=_parts())
    return _write(out, *made)


def _parts() -> int:
    from .sections import SECTIONS

    return len(SECTIONS)


def _make_folders(out: Path, png_dir: Path | None) -> None:
    # Both folders first: a path that cannot be written fails before any work, with nothing half-written.
    for folder, option in ((out.parent, "--out"), *(((png_dir, "--png"),) if png_dir else ())):
        _make_folder(folder, option)


def _made(ctx: Context, title: str, png_dir: Path | None, steps: Steps | None
          ) -> tuple[str, list[str], list[str], list[Path]]:
    """(HTML, section ids, chart ids, PNG files) of the report computed now."""
    from ...views.charts import write_png
    from ...views.report.html import render
    from .drawing import Drawing

    with Drawing() as drawing:
        page = report_page(ctx, title=title, steps=steps, on_section=drawing.draw)
        text = render(page, drawing.svgs())
    charts = [ch for s in page.sections for ch in s.charts]
    pngs = [write_png(ch, png_dir) for ch in charts] if png_dir else []
    return text, [s.id for s in page.sections], [c.id for c in charts], pngs


def _write(out: Path, text: str, sections: list[str], charts: list[str], pngs: list[Path]) -> ReportResult:
    # Written whole to a temporary name first: an interrupted run never leaves half a report.
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write the report: {exc.strerror}", where=str(out)) from None
    return ReportResult(out, sections, charts, pngs, len(text.encode()))
