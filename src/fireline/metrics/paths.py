"""Files that are not a service's code: documentation, CI and dependency manifests.

A revert of a documentation edit is no rework (`[rework] ignore_paths`), and a fix that touches
only such files needs no regression test (`[testing] ignore_paths`): one default list for both,
one glob rule, in two forms side by side: over rows in Python (`path_matches`) and as an Ibis
expression (`path_matches_expr`, a regular expression). `*` spans folders (`docs/**` and `docs/*`
alike), `?` is one character; a pattern without `/` is a file name at any depth; matching is
case-sensitive. The expression uses only the constructs every engine's regex dialect reads alike
(RE2 on DuckDB, PostgreSQL's, Java's on Spark): `.`, `.*`, `(a|b)`, `?` after a group, `^`, `$` and
backslash-escaped punctuation.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")


def _regex(glob: str) -> str:
    wild = {"*": ".*", "?": "."}
    return "".join(wild.get(c) or ("\\" + c if c in _REGEX_SPECIAL else c) for c in glob.replace("**", "*"))


def path_matches_expr(path: ir.StringValue, globs: Iterable[str]) -> ir.BooleanValue:
    """`path_matches` as an expression over a column of paths (`globs` must not be empty): one anchored
    regular expression. 72 LIKEs joined by OR (the default list) were a quarter of `fireline dora`'s time
    in Ibis building and compiling the expression, and LIKE reads `_` and `%` as wildcards."""
    forms = [("(.*/)?" if "/" not in glob else "") + _regex(glob) for glob in globs]
    return path.re_search("^(" + "|".join(forms) + ")$")
