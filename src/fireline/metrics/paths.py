"""Files that are not a service's code: documentation, CI and dependency manifests.

A revert of a documentation edit is no rework (`[rework] ignore_paths`), and a fix that touches
only such files needs no regression test (`[testing] ignore_paths`): one default list for both,
one glob rule, in two forms side by side: over rows in Python (`path_matches`) and as an Ibis
expression (`path_matches_expr`, LIKE patterns). `*` spans folders (`docs/**` and `docs/*`
alike), `?` is one character; a pattern without `/` is a file name at any depth; matching is
case-sensitive, as LIKE is on every engine the expression runs on.
"""

from __future__ import annotations

import fnmatch
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
    for glob in globs:
        pattern = glob.replace("**", "*")
        if fnmatch.fnmatchcase(path, pattern) or ("/" not in glob and fnmatch.fnmatchcase(path, "*/" + pattern)):
            return True
    return False


def _like(glob: str) -> str:
    return glob.replace("**", "*").replace("*", "%").replace("?", "_")


def path_matches_expr(path: ir.StringValue, globs: Iterable[str]) -> ir.BooleanValue:
    """`path_matches` as an expression over a column of paths (`globs` must not be empty)."""
    conds = []
    for glob in globs:
        like = _like(glob)
        conds.append(path.like(like))
        if "/" not in glob:
            conds.append(path.like("%/" + like))
    out = conds[0]
    for cond in conds[1:]:
        out |= cond
    return out
