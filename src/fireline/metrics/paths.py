"""Files that are not a service's code: documentation, CI and dependency manifests.

A revert of a documentation edit is no rework (`[rework] ignore_paths`), and a fix that touches
only such files needs no regression test (`[testing] ignore_paths`): one default list for both,
one glob rule, in two forms side by side: over rows in Python (`path_matches`) and as an Ibis
expression (`path_matches_expr`, LIKE patterns). `*` spans folders (`docs/**` and `docs/*`
alike), `?` is one character; a pattern without `/` is a file name at any depth; matching is
case-sensitive, as LIKE is on every engine the expression runs on. `_`, `%` and `\\` are literal in
a glob, but engines disagree on LIKE's escape character (PostgreSQL and Spark take `\\`, DuckDB none),
so a glob holding one is matched by an anchored regular expression of the few constructs every
engine's regex dialect reads alike.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable

import ibis.expr.types as ir

NOT_SERVICE_CODE: tuple[str, ...] = (
    "docs/**", "doc/**", "*.md", "*.rst", "*.adoc", "CHANGES*", "CHANGELOG*", "AUTHORS*", "LICENSE*",
    ".github/**", ".gitlab-ci.yml", ".gitlab/**", ".circleci/**", ".travis.yml", ".buildkite/**",
    "Jenkinsfile", "azure-pipelines.yml", ".pre-commit-config.yaml", "renovate.json", ".readthedocs.yaml",
    "go.mod", "go.sum", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "uv.lock", "Pipfile.lock", "Cargo.lock", "Gemfile.lock", "composer.lock", "requirements*.txt",
    "jsonnetfile.json", "jsonnetfile.lock.json",
)


def path_matches(path: str, globs: Iterable[str]) -> bool:
    """Whether `path` matches one of `globs` (the rule above; `[` is refused in config)."""
    return _one_pattern(tuple(globs)).match(path) is not None


@functools.lru_cache(maxsize=64)
def _one_pattern(globs: tuple[str, ...]) -> re.Pattern[str]:
    # One regular expression for all the globs: the debt ledger asks about every file of a repository,
    # and one fnmatch per glob and path was a third of a dashboard page's time.
    forms = []
    for glob in globs:
        pattern = glob.replace("**", "*")
        forms.append(fnmatch.translate(pattern))
        if "/" not in glob:
            forms.append(fnmatch.translate("*/" + pattern))
    return re.compile("|".join(forms) or "(?!)")


_LIKE_SPECIAL = frozenset("_%\\")
_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")


def _like(glob: str) -> str:
    return glob.replace("**", "*").replace("*", "%").replace("?", "_")


def _regex(glob: str) -> str:
    wild = {"*": ".*", "?": "."}
    return "".join(wild.get(c) or ("\\" + c if c in _REGEX_SPECIAL else c) for c in glob.replace("**", "*"))


def _matches(path: ir.StringValue, glob: str, anywhere: bool) -> ir.BooleanValue:
    if _LIKE_SPECIAL.isdisjoint(glob):
        return path.like(("%/" if anywhere else "") + _like(glob))
    return path.re_search(("^(.*/)?" if anywhere else "^") + _regex(glob) + "$")


def path_matches_expr(path: ir.StringValue, globs: Iterable[str]) -> ir.BooleanValue:
    """`path_matches` as an expression over a column of paths (`globs` must not be empty)."""
    conds = []
    for glob in globs:
        conds.append(_matches(path, glob, anywhere=False))
        if "/" not in glob:
            conds.append(_matches(path, glob, anywhere=True))
    out = conds[0]
    for cond in conds[1:]:
        out |= cond
    return out
