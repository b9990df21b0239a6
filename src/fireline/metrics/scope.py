"""What a metric measures (`Scope`): a window and services, in a module of its own so that code which only
names a scope (the workspace, a kept result's request) does not load Ibis with the DORA expressions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .paths import NOT_SERVICE_CODE

__all__ = ["DEFAULT_REWORK_IGNORE", "Scope"]

# Documentation, CI and dependency manifests (docs/metrics.md "Rework rate"), as paths.py defines them.
DEFAULT_REWORK_IGNORE: tuple[str, ...] = NOT_SERVICE_CODE


@dataclass(frozen=True)
class Scope:
    """What to measure: a half-open window [since, until) in UTC and optional services."""

    since: datetime
    until: datetime
    services: tuple[str, ...] | None = None
    production: tuple[str, ...] = ("production",)
    time_basis: str = "committer"
    # Rework: a revert or hotfix touching only these paths (globs) is not rework (`[rework] ignore_paths`).
    rework_ignore: tuple[str, ...] = DEFAULT_REWORK_IGNORE

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400
