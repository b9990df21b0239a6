"""The demo's debt ledger, bug budget and release plan.

The ledger needs nothing beyond the world: the purger job's growing FIXME pile is in the
data-platform repository (repos/data_platform.py), the overdue action items come from the
postmortems part, and the knowledge debt from the history. This part sets the bug budgets
(team Data promised the export redesign this half, so it budgeted little for fixes and is
over) and prints the commands that show all three, with a release plan for the next quarter.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..store import Store

CONFIG_TOML = """
# Bug budget: the share of each team's work planned for fixes (fireline budget, docs/debt.md).
[budget]
default = 0.25
tolerance = 0.03
weight = "commits"
[budget.teams]
Data = 0.15   # the export redesign was promised this half: little room planned for fixes
"""

RELEASE = "2026-09-30"  # the end of the next quarter


def build(root: Path) -> None:
    """Nothing to write: the markers live in the repositories themselves."""


def ingest(store: Store, config: Config, root: Path) -> None:
    """Nothing to load: `fireline debt` scans the ingested repositories when it runs."""


def hints(window: str) -> list[str]:
    return [
        "  fireline debt --team Data",
        f"  fireline budget {window}",
        f"  fireline plan --release {RELEASE} --team Data {window}",
        f"  fireline plan --release {RELEASE} --team C++ {window}",
    ]
