"""The demo's HTML report, written after everything else is ingested.

A demo part (see parts.py): CONFIG_TOML is appended to the demo's fireline.toml,
build() writes files once the repositories exist, ingest() loads them into the
store, hints() adds commands to the printed walkthrough.

The report of the demo organisation lands beside the store as `<demo dir>/report.html`.
Its window, "today" and "now" are the story's, so the file is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..metrics.scope import Scope
from ..store import Store
from .dates import WINDOW_END, WINDOW_START

CONFIG_TOML = ""
FILE = "report.html"


def build(root: Path) -> None:
    """Nothing to write before ingest: the report is made from the store."""


def ingest(store: Store, config: Config, root: Path) -> None:
    """Write the demo's report (root is `<demo dir>/world`; the report goes in `<demo dir>`)."""
    from ..app.report import build_context, write_report

    scope = Scope(since=WINDOW_START, until=WINDOW_END, production=tuple(config.production_environments),
                  time_basis=config.time_basis)
    ctx = build_context(store, config, scope=scope, today=WINDOW_END.date(), now=WINDOW_END)
    write_report(ctx, root.parent / FILE, title="Fireline report: the demo organisation")


def hints(window: str) -> list[str]:
    return [
        f"  Open the report in a browser: {FILE}",
        f"  fireline report {window} --team Data --out data-report.html",
        "  fireline serve   (then open http://127.0.0.1:8080/ for the dashboard)",
    ]
