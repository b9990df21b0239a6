"""TODO, FIXME, HACK and XXX markers in the files tracked at HEAD, with who wrote them and when.

A source in the house sense: it reads git, never the store. Three processes per repository
whatever its size: `git ls-tree` (paths, blob ids, sizes), `git cat-file --batch` (the
contents, streamed) and the batched blame pass of blame.py (plus one `git diff-tree` when
files were renamed). Binary files (a NUL byte in the first 8,000 bytes, git's own test),
files over the size limit and files that are not UTF-8 are skipped and counted, never read
as text.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..steps import Steps, quietly
from . import generated as gen
from .blame import blame_files
from .comments import comment_markers

if TYPE_CHECKING:
    from ..config import Config

DEFAULT_WORDS = ("TODO", "FIXME", "HACK", "XXX")
DEFAULT_MAX_BYTES = 1_000_000
_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
TEXT_LIMIT = 200
READING = "reading files"  # characters of the marker's line kept for the ledger


@dataclass(slots=True)
class Marker:
    repo: str
    path: str
    line: int
    word: str
    text: str
    sha: str | None = None  # the commit that wrote the line (None: blame unknown)
    author: str | None = None
    email: str | None = None
    time: datetime | None = None  # author time of that commit

    def as_dict(self) -> dict:
        return {"repo": self.repo, "path": self.path, "line": self.line, "word": self.word, "text": self.text,
                "sha": self.sha, "author": self.author, "email": self.email, "time": self.time}


@dataclass
class ScanResult:
    repo: str
    path: str
    head: str | None
    markers: list[Marker] = field(default_factory=list)
    files: int = 0  # files tracked at HEAD
    scanned: int = 0  # read as text
    skipped: dict[str, int] = field(default_factory=lambda: {"binary": 0, "huge": 0, "not_utf8": 0, "other": 0,
                                                             "generated": 0})
    # Generated and vendored files, lockfiles and changelogs at HEAD (generated.py): no markers or
    # hotspots of the team's.
    generated: set[str] = field(default_factory=set)
    tracked: set[str] = field(default_factory=set)  # every file at HEAD: a hotspot is one of them
    blame_passes: int = 0
    blame_fallback_files: int = 0
    # path -> (blob id, what its content was: binary, generated, not_utf8, text, marked): what a later
    # scan at another HEAD may reuse for a file whose blob did not change (scan_cache.py keeps it).
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    reused_files: int = 0  # files whose content was not read again (same blob as the previous scan)
    blamed_files: int = 0  # files blamed by this scan (the rest kept their previous authors)

    def as_dict(self) -> dict:
        return {"repo": self.repo, "head": self.head, "files": self.files, "scanned": self.scanned,
                "skipped": dict(self.skipped), "markers": len(self.markers), "blame_passes": self.blame_passes,
                "blame_fallback_files": self.blame_fallback_files}


def marker_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """Whole words, case as written: `TODO` and `TODO(ann):` match, `todos` and `XXXL` do not."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    if not ordered:
        raise UserError("no marker words configured", where="fireline.toml: budget.markers")
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(w) for w in ordered) + r")(?![\w])")


def _git(repo: Path, *args: str) -> bytes:
    run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env={**os.environ, **_ENV},
                         check=False)
    if run.returncode != 0:
        raise UserError(f"git {args[0]} failed: {run.stderr.decode(errors='replace').strip()}", where=str(repo))
    return run.stdout


def head_of(repo: Path) -> str | None:
    run = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD^{commit}"],
                         capture_output=True, text=True, env={**os.environ, **_ENV}, check=False)
    return run.stdout.strip() or None


def working_copy(config: Config, stored: str | None, services: Iterable[dict]) -> Path | None:
    """Where a repository's files are: its ingested path, else the config's path for one of its services."""
    candidates = [Path(stored)] if stored else []
    for entry in services:
        path = config.repo_path(str(entry.get("name", "")))
        if path is not None:
            candidates.append(path)
    return next((p for p in candidates if p.is_dir()), None)


def _tree(repo: Path, head: str) -> list[tuple[str, str, str, int | None]]:
    """(mode, blob id, path, size) of every file at HEAD; `-l` asks for sizes, `-z` keeps paths intact."""
    out = []
    for entry in _git(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", head).split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, oid, size = meta.split()
        if kind != b"blob":
            continue  # submodules (commits) have no lines of ours
        out.append((mode.decode(), oid.decode(), path.decode("utf-8", "surrogateescape"),
                    int(size) if size.isdigit() else None))  # "-": no size; "BAD": the blob is missing
    return out


def _contents(repo: Path, oids: list[str]):
    """Yield each blob's bytes in order from one `git cat-file --batch` process."""
    proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **_ENV})
    assert proc.stdin and proc.stdout
    stdin = proc.stdin

    def feed() -> None:
        try:
            for oid in oids:
                stdin.write(oid.encode() + b"\n")
        except BrokenPipeError:
            pass
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for _ in oids:
            header = proc.stdout.readline().split()
            size = int(header[2]) if len(header) == 3 else 0
            data = proc.stdout.read(size) if size else b""
            proc.stdout.read(1)  # the newline after each object
            yield data
    finally:
        proc.stdout.close()
        writer.join()
        proc.wait()


def _touched_since(repo: Path, old: str | None, head: str) -> set[str] | None:
    """Every path a commit between `old` and `head` touched (a file changed and changed back keeps
    its blob but not its authors), or None when `old` is not an ancestor of `head` (history rewritten)."""
    if not old:
        return None
    run = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", old, head], capture_output=True,
                         env={**os.environ, **_ENV}, check=False)
    if run.returncode != 0:
        return None
    out = _git(repo, "-c", "core.quotepath=off", "log", "--format=", "--name-only", "-z", "-m", "--no-renames",
               f"{old}..{head}")
    return {p.strip(b"\n").decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p.strip(b"\n")}


def scan_repo(path: str | Path, *, repo: str | None = None, words: Iterable[str] = DEFAULT_WORDS,
              max_bytes: int = DEFAULT_MAX_BYTES, blame: bool = True, generated: Iterable[str] = (),
              previous: ScanResult | None = None, steps: Steps | None = None) -> ScanResult:
    """Every marker in the files at HEAD, blamed in one batched pass; `generated`: more globs of
    generated files (`[budget] generated`) besides what generated.py recognises.

    `previous`: an earlier scan of the same repository with the same settings. A file whose blob is
    unchanged is not read again, and its markers keep their authors unless a commit since touched it:
    a new commit costs only the files it changed. `steps`: told "reading files" and "blaming files" with counts."""
    steps = steps or quietly
    root = Path(path)
    name = repo or root.name.removesuffix(".git")
    head = head_of(root)
    result = ScanResult(repo=name, path=str(root), head=head)
    if head is None:
        return result
    pattern = marker_pattern(words)
    literals = tuple({w for w in words if w})  # a file holding none of them holds no marker
    entries = _tree(root, head)
    result.files = len(entries)
    result.tracked = {p for _, _, p, _ in entries}
    marks = [(oid, p) for _, oid, p, _ in entries if p.rpartition("/")[2] == ".gitattributes"]
    attributes = gen.Attributes([(p, data.decode("utf-8", "replace"))
                                 for (_, p), data in zip(marks, _contents(root, [o for o, _ in marks]), strict=True)],
                                generated)
    before = previous.seen if previous is not None else {}
    kept_markers: dict[str, list[Marker]] = {}
    if previous is not None:
        for m in previous.markers:
            kept_markers.setdefault(m.path, []).append(m)
    touched = _touched_since(root, previous.head, head) if previous is not None and blame else None
    readable, reused = [], []
    for mode, oid, file_path, size in entries:
        if gen.by_name(file_path) or attributes.of(file_path):
            result.generated.add(file_path)
            result.skipped["generated"] += 1
        elif mode == "120000":
            result.skipped["other"] += 1  # a symbolic link's "content" is its target's name
        elif size is not None and size > max_bytes:
            result.skipped["huge"] += 1
        elif before.get(file_path, ("", ""))[0] == oid:
            reused.append((oid, file_path, before[file_path][1]))
        else:
            readable.append((oid, file_path))
    wanted: dict[str, tuple[str, int]] = {}
    found: dict[str, list[Marker]] = {}
    reblame: list[tuple[str, str]] = []
    for oid, file_path, kind in reused:
        result.seen[file_path] = (oid, kind)
        result.reused_files += 1
        if kind in ("binary", "not_utf8"):
            result.skipped[kind] += 1
            continue
        if kind == "generated":
            result.generated.add(file_path)
            result.skipped["generated"] += 1
            continue
        result.scanned += 1
        if kind != "marked":
            continue
        shown = file_path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        old = kept_markers.get(shown, [])
        blamed = touched is not None and file_path not in touched
        found[file_path] = [Marker(name, m.path, m.line, m.word, m.text, *(
            (m.sha, m.author, m.email, m.time) if blamed else (None, None, None, None))) for m in old]
        if not blamed:
            reblame.append((oid, file_path))
    # Line counts of the kept files to blame again, read in one batched process like the rest.
    for (oid, file_path), data in zip(reblame, _contents(root, [o for o, _ in reblame]), strict=True):
        wanted[file_path] = (oid, data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0))
    steps(READING, 0, len(readable))
    for done, ((oid, file_path), data) in enumerate(zip(readable, _contents(root, [o for o, _ in readable]),
                                                        strict=True), 1):
        if done % 500 == 0 or done == len(readable):
            steps(READING, done, len(readable))
        if b"\0" in data[:8000]:
            result.skipped["binary"] += 1
            result.seen[file_path] = (oid, "binary")
            continue
        if gen.by_content(data):
            result.generated.add(file_path)
            result.skipped["generated"] += 1
            result.seen[file_path] = (oid, "generated")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            result.skipped["not_utf8"] += 1
            result.seen[file_path] = (oid, "not_utf8")
            continue
        result.scanned += 1
        result.seen[file_path] = (oid, "text")
        # Looking for the words as plain substrings first is ~10x cheaper than the regular expression,
        # and most files hold none.
        if not any(w in text for w in literals) or not pattern.search(text):
            continue
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # git counts lines, not newline separators
        # git needs the path's own bytes; people (and the store, and JSON) get U+FFFD for a byte
        # that is not UTF-8, as the git ingest writes it.
        shown = file_path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        in_comments = comment_markers(file_path, text, pattern)
        if in_comments is None:  # prose or an unknown language: every line's first marker word
            in_comments = {n: hit.group(1) for n, line in enumerate(lines, 1) if (hit := pattern.search(line))}
        for number, word in in_comments.items():
            if number <= len(lines):
                found.setdefault(file_path, []).append(
                    Marker(name, shown, number, word, lines[number - 1].strip()[:TEXT_LIMIT]))
        if file_path in found:
            wanted[file_path] = (oid, len(lines))
            result.seen[file_path] = (oid, "marked")
    if blame and wanted:
        blamed_files = blame_files(root, head, wanted, {p: [m.line for m in found[p]] for p in wanted}, steps=steps)
        result.blame_passes, result.blame_fallback_files = blamed_files.passes, blamed_files.fallback_files
        result.blamed_files = len(wanted)
        for file_path in wanted:
            origins = blamed_files.origins.get(file_path, [])
            for m in found[file_path]:
                origin = origins[m.line - 1] if m.line - 1 < len(origins) else None
                if origin is not None:
                    m.sha, m.author, m.email = origin.sha, origin.author, origin.email
                    m.time = datetime.fromtimestamp(origin.time, UTC)
    result.markers = [m for p in sorted(found) for m in found[p]]
    return result
