"""Counts and short lists in words, for the text of every layer: the terminal's tables, the reasons
the metrics give (a chore's "why"), the debt ledger's titles."""

from __future__ import annotations

from collections.abc import Sequence


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 finding", "2 findings": the count with the word in the number it takes."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def first_few(items: Sequence[str], shown: int) -> str:
    """All of `items` when there are at most `shown`, else the first `shown` and how many more."""
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")
