"""Generated and vendored files: not the team's code, so no hotspots and no markers of theirs.

A file is generated or vendored when
- `.gitattributes` at HEAD says so (`linguist-generated`, `linguist-vendored`, as GitHub's
  linguist reads them; `-attr` or `attr=false` later on unsets it), matched with pathspec's
  gitignore-style patterns, each file relative to its own folder, deeper files winning;
- it is a lockfile or a changelog (`package-lock.json`, `yarn.lock`, `go.sum`, `Cargo.lock`,
  `CHANGELOG.md` ...) or lives in a `vendor/`, `node_modules/` or `third_party/` folder;
- its first lines say so (`Code generated ... DO NOT EDIT.`, `@generated`, "auto-generated"), or
  it is a Kubernetes CustomResourceDefinition (CRD output of controller-gen or jsonnet).
Definitions: docs/debt.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

ATTRIBUTES = ("linguist-generated", "linguist-vendored")
LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "go.sum", "poetry.lock",
    "uv.lock", "Pipfile.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock", "composer.lock", "mix.lock",
    "packages.lock.json", "flake.lock", "jsonnetfile.lock.json",
})
_CHANGELOG = re.compile(r"^(changelog|changes|history|news)([._-].*)?$", re.IGNORECASE)
_VENDOR_DIRS = ("vendor/", "node_modules/", "third_party/", "third-party/")
_HEADER = re.compile(r"code generated\b.*\bdo not edit|@generated\b|\bdo not edit\b|\bauto-?generated\b"
                     r"|\bautomatically generated\b|\bthis file (is|was) generated\b", re.IGNORECASE)
_CRD = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.MULTILINE)
HEAD_BYTES = 2048


@dataclass(frozen=True)
class _Rule:
    base: str  # the folder of its .gitattributes, "" or "dir/"
    pattern: GitIgnoreBasicPattern
    values: dict[str, bool]


class Attributes:
    """The linguist attributes of every `.gitattributes` file at HEAD, and `[budget] generated`."""

    def __init__(self, files: Iterable[tuple[str, str]], globs: Iterable[str] = ()) -> None:
        """`files`: (path of the .gitattributes file, its text); `globs`: more generated paths."""
        rules: list[_Rule] = [_Rule("", GitIgnoreBasicPattern(g), {"linguist-generated": True}) for g in globs]
        # Shallower files first: a deeper .gitattributes overrides, as git reads them.
        for path, text in sorted(files, key=lambda f: (f[0].count("/"), f[0])):
            base = path.rpartition("/")[0]
            base = base + "/" if base else ""
            for line in text.splitlines():
                parts = line.split()
                if not parts or parts[0].startswith("#") or parts[0].startswith("!"):
                    continue  # comments; negative patterns are forbidden in .gitattributes
                values = {}
                for attr in parts[1:]:
                    name, _, value = attr.lstrip("-!").partition("=")
                    if name in ATTRIBUTES:
                        values[name] = not attr.startswith(("-", "!")) and value.lower() not in ("false", "0")
                if values:
                    rules.append(_Rule(base, GitIgnoreBasicPattern(parts[0]), values))
        self.rules = rules

    def of(self, path: str) -> bool:
        """Whether linguist-generated or linguist-vendored is set on `path` (last match wins)."""
        state: dict[str, bool] = {}
        for rule in self.rules:
            if rule.base and not path.startswith(rule.base):
                continue
            if rule.pattern.match_file(path[len(rule.base):]):
                state.update(rule.values)
        return any(state.values())


def by_name(path: str) -> bool:
    name = path.rpartition("/")[2]
    if name in LOCKFILES or _CHANGELOG.match(name):
        return True
    return any(path.startswith(d) or f"/{d}" in path for d in _VENDOR_DIRS)


def by_content(head: bytes) -> bool:
    """From a file's first bytes: a generator's header, or a CRD."""
    text = head[:HEAD_BYTES].decode("utf-8", "replace")
    first_lines = "\n".join(text.split("\n")[:5])
    # Every header the expression knows says "generated" or "do not edit": looking for those first spares
    # the expressions on most files (a marker scan reads every file of a repository).
    low = first_lines.lower()
    header = ("generated" in low or "do not edit" in low) and _HEADER.search(first_lines)
    return bool(header or ("CustomResourceDefinition" in text and _CRD.search(text)))
