"""Real git repositories written by ``git fast-import``, in a git environment of their own.

Every repository is written by a single ``git fast-import`` process fed from a
time-ordered timeline, so six months of history take well under a second per repo
and the resulting commit shas depend only on the seeded inputs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from .people import Person

NULL_SHA = "0" * 40
Changes = Mapping[str, str | None]  # path -> new content, None deletes the file


def clean_git_env(home: str) -> dict[str, str]:
    """An environment in which no user, system or hook git setting can leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME=home,
        XDG_CONFIG_HOME=home,
        LC_ALL="C",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


def run_git(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout


class GitRepo:
    """A repository written by one ``git fast-import`` process, tracking file state."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self._env = dict(env)
        path.mkdir(parents=True)
        # An empty template keeps the machine's sample hooks and excludes out.
        run_git(["init", "-q", "--template=", "-b", "main", str(path)], path, env)
        self._marks_file = path / ".git" / "fireline-marks"
        self._proc = subprocess.Popen(
            # No reflog: it would record this machine's user and clock, not the story's.
            ["git", "-c", "core.logAllRefUpdates=false", "fast-import", "--quiet", "--done",
             f"--export-marks={self._marks_file}"],
            cwd=path,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buf = bytearray()
        self._mark = 0
        self.tips: dict[str, int] = {}
        self.files: dict[str, dict[str, str]] = {"main": {}}
        self._bases: dict[str, dict[str, str]] = {}

    def _emit(self, chunk: str | bytes) -> None:
        self._buf += chunk.encode() if isinstance(chunk, str) else chunk
        if len(self._buf) > 1 << 20:
            self._flush()

    def _flush(self) -> None:
        stdin: IO[bytes] | None = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(bytes(self._buf))
            stdin.flush()
        except BrokenPipeError:
            self._fail()
        self._buf.clear()

    def _fail(self) -> None:
        self._proc.kill()
        _, err = self._proc.communicate()
        raise RuntimeError(f"git fast-import failed in {self.path}: {err.decode().strip()}")

    def _data(self, text: str) -> bytes:
        raw = text.encode()
        return f"data {len(raw)}\n".encode() + raw + b"\n"

    def commit(
        self,
        branch: str,
        author: Person,
        when: datetime,
        message: str,
        changes: Changes,
        *,
        committer: Person | None = None,
        committed: datetime | None = None,
        merge: str | None = None,
    ) -> int:
        self._mark += 1
        head = [
            f"commit refs/heads/{branch}",
            f"mark :{self._mark}",
            f"author {author.ident(when)}",
            f"committer {(committer or author).ident(committed or when)}",
        ]
        self._emit("\n".join(head) + "\n")
        self._emit(self._data(message if message.endswith("\n") else message + "\n"))
        if branch in self.tips:
            self._emit(f"from :{self.tips[branch]}\n")
        if merge is not None:
            self._emit(f"merge :{self.tips[merge]}\n")
        state = self.files.setdefault(branch, {})
        for path, content in sorted(changes.items()):
            if content is None:
                self._emit(f"D {path}\n")
                state.pop(path, None)
            else:
                self._emit(f"M 100644 inline {path}\n")
                self._emit(self._data(content))
                state[path] = content
        self._emit("\n")
        self.tips[branch] = self._mark
        return self._mark

    def branch_off(self, branch: str, source: str) -> None:
        self.tips[branch] = self.tips[source]
        self.files[branch] = dict(self.files[source])
        self._bases[branch] = dict(self.files[source])

    def merge_changes(self, feature: str) -> dict[str, str | None]:
        """What the feature branch changed since it forked: a conflict-free 3-way merge."""
        base, tip = self._bases[feature], self.files[feature]
        changed: dict[str, str | None] = {p: c for p, c in tip.items() if base.get(p) != c}
        changed.update({p: None for p in base if p not in tip})
        return changed

    def delete_branch(self, branch: str) -> None:
        # Merged feature branches are gone on the remote, so a clone would not show them.
        self._emit(f"reset refs/heads/{branch}\nfrom {NULL_SHA}\n\n")
        del self.tips[branch], self.files[branch], self._bases[branch]

    def sha(self, mark: int) -> str:
        """The sha fast-import gave a commit, needed inside later commit messages."""
        self._emit(f"get-mark :{mark}\n")
        self._flush()
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if len(line) != 40:
            self._fail()
        return line

    def annotated_tag(self, name: str, mark: int, tagger: Person, when: datetime, msg: str) -> None:
        self._emit(f"tag {name}\nfrom :{mark}\ntagger {tagger.ident(when)}\n")
        self._emit(self._data(msg))

    def lightweight_tag(self, name: str, mark: int) -> None:
        self._emit(f"reset refs/tags/{name}\nfrom :{mark}\n\n")

    def finish(self) -> dict[int, str]:
        """Close the stream, check out main like a clone would, return mark -> sha."""
        self._emit("done\n")
        self._flush()
        _, err = self._proc.communicate()
        if self._proc.returncode != 0:
            raise RuntimeError(f"git fast-import failed in {self.path}: {err.decode().strip()}")
        marks: dict[int, str] = {}
        for line in self._marks_file.read_text().splitlines():
            mark, sha = line.split()
            marks[int(mark[1:])] = sha
        self._marks_file.unlink()
        run_git(["read-tree", "--reset", "-u", "HEAD"], self.path, self._env)
        return marks
