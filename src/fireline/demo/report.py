"""The demo's HTML report, written after everything else is ingested.

A demo part (see parts.py): CONFIG_TOML is appended to the demo's fireline.toml,
build() writes files once the repositories exist, ingest() loads them into the
store, hints() adds commands to the printed walkthrough.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..store import Store

CONFIG_TOML = ""


def build(root: Path) -> None:
    """Write this part's files under the world's root."""


def ingest(store: Store, config: Config, root: Path) -> None:
    """Load this part's files into the demo store."""


def hints(db: str, config: str, window: str) -> list[str]:
    return []
