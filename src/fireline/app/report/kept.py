"""The finished report page kept in the store (app/kept.py), so `fireline report` over unchanged data
writes the page it wrote last time instead of computing every part again (issue 16: a warm report at
most 0.1x the ingestion). What makes a page reusable is app/kept.py's; what is kept here is the page.

The parts, their queries through Ibis (and pandas) and Altair are not even imported to write a kept page.
"""

from __future__ import annotations

from typing import Any

from ...config import Config
from ...steps import Steps, quietly
from ...store import Store
from .. import kept as results
from ..kept import after_scans, state_of
from .context import Context

__all__ = ["SCAN_STEP", "after_scans", "keep", "load", "request_key", "scan_markers", "state_of"]


def request_key(config: Config, options: dict[str, Any]) -> str:
    """The report's options (team, service, window, profile, today, now, title), the config and the code."""
    return results.request_key("report", config, options)


SCAN_STEP = "marker scans"


def scan_markers(ctx: Context, steps: Steps | None = None) -> None:
    """Scan the working copies the debt part reads now, keeping the scans in ctx.scans for its ledger.
    `steps` hears SCAN_STEP start and end, and inside it each repository's reading and blaming of files."""
    steps = steps or quietly
    steps(SCAN_STEP, 0, 1)
    # The ledger's own choice of repositories (debt_part._asked), so it finds every scan here.
    ctx.scans = results.scan_first(ctx.store, ctx.config, team_of=ctx.team_of, team=ctx.team, service=ctx.service,
                                   cache=ctx.scans, steps=steps)
    steps(SCAN_STEP, 1, 1)


def load(store: Store, request: str, state: tuple[str, str]) -> dict[str, Any] | None:
    """The page kept for `request` at `state`: its html, sections, charts and parts."""
    found = results.load(store, request, state)
    return found if found is not None and "html" in found else None


def keep(store: Store, request: str, state: tuple[str, str], html: str, sections: list[str], charts: list[str], *,
         parts: int) -> None:
    """`parts`: how many parts were computed (what a reused page reports as its progress)."""
    results.keep(store, request, state, {"html": html, "sections": sections, "charts": charts, "parts": parts})
