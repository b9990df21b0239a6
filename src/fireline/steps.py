"""How long library work tells its caller where it is, without knowing who listens.

A long operation (a marker scan, blame, the parts of a report, the knowledge analysis) takes an optional
`steps: Steps` and calls it as it goes: `steps("blaming files", done, total)`. `total` is None while it is
unknown. The CLI turns the calls into a Rich bar on a terminal or one plain line per step on stderr
(cli/progress.py); the server and tests pass nothing. The callback must be cheap: callers may call it once
per file.
"""

from __future__ import annotations

from collections.abc import Callable

Steps = Callable[[str, int, "int | None"], None]


def quietly(label: str, done: int, total: int | None) -> None:
    """The listener that ignores everything (so library code can call `steps` unconditionally)."""
