"""`fireline oncall now|next|schedule|gaps|load|handoff`."""

from __future__ import annotations

import typer


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add this module's commands to the `fireline` app (and its `ingest` group)."""
