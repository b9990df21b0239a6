"""Commits that are chores whatever their words say: dependency bumps.

Renovate writes `fix(deps): update module ...`, Dependabot `Bump x from a to b` with the
dependency's release notes (full of "fixes") in the body; neither is a bug fix of the team's
code, and neither needs a regression test. `[testing] ignore_subjects` replaces the list,
`ignore_authors` names accounts whose commits are never fixes. Definitions: docs/testing.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Regular expressions searched in the subject (first line), case-insensitive.
DEFAULT_IGNORE_SUBJECTS: tuple[str, ...] = (
    # Conventional commits scoped to dependencies: fix(deps), build(deps-dev), chore(dependencies).
    r"^\s*\w+\((deps|deps-dev|dev-deps|dependencies|dependency)\)!?:",
    # Dependabot: "Bump x from a to b", also after a type ("chore: bump ...") or a [tag].
    r"^\s*(\[[^\]]*\]\s*)?(\w+(\([^)]*\))?!?:\s*)?bump\s+\S+.*\bfrom\s+\S+\s+to\s+\S+",
    # Any "Bump ..." subject, bare or typed as build/CI/chore ("ci: bump action-setup to v6").
    r"^\s*((build|ci|chore|deps)(\([^)]*\))?!?:\s*)?bump\s",
    # "Update Go dependencies", "Upgrade prometheus/common dependency to v0.67.2".
    r"^\s*(\w+(\([^)]*\))?!?:\s*)?(update|upgrade|bump)\s+(\S+\s+)?(dependency|dependencies)\b",
    # Renovate without a conventional prefix: "Update module x to v1", "Update dependency x to v2",
    # "Update x digest to abc1234".
    r"^\s*update\s+(module|dependency)\s+\S+\s+to\s+\S+",
    r"^\s*update\s+\S+\s+digest\s+to\s+[0-9a-f]+",
)


@dataclass(frozen=True)
class ChoreRules:
    subjects: tuple[re.Pattern[str], ...]
    authors: frozenset[str]  # case-folded names

    @classmethod
    def of(cls, subjects: Iterable[str], authors: Iterable[str]) -> ChoreRules:
        return cls(tuple(re.compile(s, re.IGNORECASE) for s in subjects),
                   frozenset(a.strip().casefold() for a in authors if a.strip()))

    def why(self, message: str, author: str | None = None) -> str | None:
        """Why this commit is a chore ("subject matches ...", "author ..."), or None."""
        if author and author.strip().casefold() in self.authors:
            return f"author {author.strip()}"
        subject = (message or "").partition("\n")[0]
        for pattern in self.subjects:
            if pattern.search(subject):
                return f"subject matches {pattern.pattern}"
        return None
