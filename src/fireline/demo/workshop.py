"""One repository's history, planned on a timeline and written in time order.

A seeded generator makes up the file contents and edits, so the same plan always gives
the same files and the same commit shas.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import PurePosixPath

from .fastimport import Changes, GitRepo
from .people import Person

_WORDS = ("cache", "retry", "quota", "batch", "index", "limit", "window", "buffer", "label",
          "route", "shard", "token", "budget", "cursor", "lease", "epoch")
_COMMENT = {".py": "#", ".sh": "#", ".yml": "#", ".yaml": "#", ".tf": "#", ".md": "#",
            ".ts": "//", ".tsx": "//", ".cpp": "//", ".h": "//", ".txt": "#"}
_TEMPLATES = {
    ".tf": 'resource "null_resource" "{w}_{n}" {{ triggers = {{ rev = "{n}" }} }}',
    ".yml": "- name: ensure {w} {n}",
    ".yaml": "{w}_{n}: {n}",
    ".sh": 'echo "{w} step {n}"',
    ".py": "def {w}_{n}() -> int: return {n}",
    "test.py": "def test_{w}_{n}() -> None: assert {n} == {n}",
    ".ts": "export const {w}{n} = {n};",
    ".tsx": "export const {w}{n} = () => <span>{w} {n}</span>;",
    "test.ts": 'it("handles {w} {n}", () => expect({n}).toBe({n}));',
    "test.tsx": 'it("renders {w} {n}", () => expect(render({n})).toBeTruthy());',
    ".cpp": "int {w}_{n}() {{ return {n}; }}",
    "test.cpp": "TEST(Pricing, {w}{n}) {{ EXPECT_EQ({n}, {n}); }}",
    ".h": "int {w}_{n}();",
    ".md": "- {w} note {n}",
}


class Workshop:
    """One repository's history being planned on a timeline and written in time order."""

    def __init__(self, repo: GitRepo, seed: int) -> None:
        self.git = repo
        self.rng = random.Random(seed)
        self.marks: dict[str, int] = {}  # notable commits by name
        self._events: list[tuple[datetime, int, Callable[[], object]]] = []
        self._n = 0

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        self._events.append((when, len(self._events), action))

    def run(self) -> None:
        # Landing order = time order, so every branch tip seen by an action is "now".
        for _, _, action in sorted(self._events, key=lambda e: (e[0], e[1])):
            action()
        self._events.clear()

    def line(self, path: str) -> str:
        self._n += 1
        name = PurePosixPath(path).name
        ext = PurePosixPath(path).suffix
        key = f"test{ext}" if "test" in name and f"test{ext}" in _TEMPLATES else ext
        template = _TEMPLATES.get(key, "# {w} {n}")
        return template.format(w=self.rng.choice(_WORDS), n=self._n)

    def new_file(self, path: str, size: int = 10) -> str:
        head = f"{_COMMENT.get(PurePosixPath(path).suffix, '#')} {path}"
        return "\n".join([head, *(self.line(path) for _ in range(size))]) + "\n"

    def edited(self, branch: str, paths: Sequence[str]) -> dict[str, str]:
        """New contents for ``paths``: a few lines dropped, a few added (numstat shows both)."""
        out: dict[str, str] = {}
        state = self.git.files[branch]
        for path in paths:
            if path not in state:
                out[path] = self.new_file(path)
                continue
            lines = state[path].splitlines()
            removable = max(len(lines) - 4, 0)
            drop = min(removable, self.rng.randint(0, 3) + (len(lines) > 60) * 4)
            for _ in range(drop):
                del lines[self.rng.randrange(1, len(lines))]
            for _ in range(self.rng.randint(1, 7)):
                lines.insert(self.rng.randint(1, len(lines)), self.line(path))
            out[path] = "\n".join(lines) + "\n"
        return out

    def commit_edit(self, branch: str, author: Person, when: datetime, message: str,
                    paths: Sequence[str], key: str | None = None) -> int:
        mark = self.git.commit(branch, author, when, message, self.edited(branch, paths))
        if key:
            self.marks[key] = mark
        return mark

    def revert(self, author: Person, when: datetime, key: str, subject: str,
               before: Changes) -> int:
        """A revert made the git way: restore the files, cite the full sha."""
        sha = self.git.sha(self.marks[key])
        msg = f'Revert "{subject}"\n\nThis reverts commit {sha}.\n'
        mark = self.git.commit("main", author, when, msg, before)
        self.marks[f"revert:{key}"] = mark
        return mark
