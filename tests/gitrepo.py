"""Build real git repositories in tests, with exact commit times and offsets."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class GitRepo:
    path: Path

    @classmethod
    def create(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", branch)
        return repo

    def git(self, *args: str, when: datetime | None = None, author_when: datetime | None = None,
            author: str = "Ada Lovelace <ada@example.com>") -> str:
        name, email = author.rsplit(" <", 1)
        env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.path),
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email.rstrip(">"),
        }
        if when is not None:
            env["GIT_COMMITTER_DATE"] = when.isoformat()
            env["GIT_AUTHOR_DATE"] = (author_when or when).isoformat()
        out = subprocess.run(["git", "-C", str(self.path), *args], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    def commit(self, message: str, when: datetime, files: dict[str, str] | None = None,
               author: str = "Ada Lovelace <ada@example.com>", author_when: datetime | None = None) -> str:
        files = files or {f"file-{abs(hash(message)) % 10_000}.txt": message + "\n"}
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            self.git("add", rel)
        self.git("commit", "-q", "-m", message, when=when, author=author, author_when=author_when)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def tag(self, name: str, ref: str = "HEAD", when: datetime | None = None, annotated: bool = True) -> None:
        if annotated:
            self.git("tag", "-a", name, "-m", name, ref, when=when)
        else:
            self.git("tag", name, ref)
