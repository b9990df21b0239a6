"""Git history as Change records, from one streamed `git log` pass.

One subprocess per pass, parsed as it streams: per-commit tools (PyDriller and
the like) spawn a diff per commit and are tens of times slower.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import UserError
from ..model import Change, FileChange

# Record separator before each commit, unit separator between header fields.
_RS, _US = "\x1e", "\x1f"
# %aN/%aE: names and emails after .mailmap, so one person with several addresses is one author.
_FORMAT = _RS + _US.join(["%H", "%P", "%aN", "%aE", "%aI", "%cN", "%cE", "%cI", "%B"])
_CHUNK = 1 << 20

_GIT_ENV = {
    # Never let a user's or the system's git config change what we parse.
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


@dataclass(frozen=True, slots=True)
class RepoInfo:
    path: Path
    name: str
    shallow: bool


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    sha: str  # the commit the tag points at
    time: datetime  # tagger date, or the commit's committer date for a lightweight tag
    annotated: bool
    inferred: bool = False  # no time of its own (lightweight, or no tagger date): the commit's time


def _git(path: Path, *args: str, input: str | None = None, check: bool = True) -> str:
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.run(
        ["git", "-C", str(path), *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        check=False,
    )
    if check and proc.returncode != 0:
        raise UserError(f"git {args[0]} failed: {proc.stderr.strip()}", where=str(path))
    return proc.stdout


def is_repo(path: Path) -> bool:
    """Whether `path` is inside a git repository (work tree or bare)."""
    if not path.is_dir():
        return False
    probe = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True,
                           env={**os.environ, **_GIT_ENV}, check=False)
    return probe.returncode == 0


def open_repo(path: str | Path) -> RepoInfo:
    p = Path(path)
    if not p.exists():
        raise UserError("no such directory", where=str(p))
    if not p.is_dir():
        raise UserError("not a directory (expected a git repository)", where=str(p))
    env = {**os.environ, **_GIT_ENV}
    probe = subprocess.run(
        ["git", "-C", str(p), "rev-parse", "--is-bare-repository", "--is-shallow-repository", "--absolute-git-dir"],
        capture_output=True, text=True, env=env, check=False,
    )
    if probe.returncode != 0:
        raise UserError("not a git repository", where=str(p))
    bare_flag, shallow_flag, git_dir = probe.stdout.splitlines()[:3]
    shallow = shallow_flag == "true"
    if bare_flag == "true":
        top = Path(git_dir).resolve()
    else:
        # --show-toplevel fails in a bare repository, so it is asked only of a work tree.
        top = Path(_git(p, "rev-parse", "--show-toplevel").strip()).resolve()
    if not list_tips(top):
        raise UserError("empty repository: no commits to read", where=str(p))
    name = top.name.removesuffix(".git")
    return RepoInfo(path=top, name=name, shallow=shallow)


def head(path: Path) -> str | None:
    """The checked-out commit (one ref lookup, not a history walk), or None in an empty repository."""
    return _git(path, "rev-parse", "--verify", "-q", "HEAD", check=False).strip() or None


def list_tips(path: Path) -> dict[str, str]:
    """Every ref that leads to commits, except the stash."""
    out = _git(path, "for-each-ref", "--format=%(objectname) %(refname)")
    tips = {}
    for line in out.splitlines():
        oid, ref = line.split(" ", 1)
        if ref != "refs/stash":
            tips[ref] = oid
    return tips


def count_commits(path: Path, tips: Iterable[str], exclude: Iterable[str]) -> int:
    revs = "\n".join([*tips, *(f"^{e}" for e in exclude)]) + "\n"
    out = _git(path, "rev-list", "--count", "--stdin", input=revs)
    return int(out.strip() or 0)


def existing_commits(path: Path, shas: Iterable[str]) -> list[str]:
    """The given shas that are still commits in the repository (force-pushes drop some)."""
    shas = list(shas)
    if not shas:
        return []
    out = _git(path, "cat-file", "--batch-check=%(objectname) %(objecttype)", input="\n".join(shas) + "\n")
    return [line.split()[0] for line in out.splitlines() if line.endswith(" commit")]


def iter_changes(
    info: RepoInfo,
    tips: Iterable[str],
    exclude: Iterable[str] = (),
    on_commit: Callable[[], None] | None = None,
) -> Iterator[Change]:
    """Stream every commit reachable from `tips` and not from `exclude`, with its files."""
    revs = "\n".join([*tips, *(f"^{e}" for e in exclude)]) + "\n"
    env = {**os.environ, **_GIT_ENV}
    cmd = [
        "git", "-C", str(info.path), "-c", "diff.renames=true", "log", "--stdin",
        "--no-color", "--no-show-signature", "--encoding=UTF-8", "-z", "--numstat", "-M",
        f"--format={_FORMAT}",
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    assert proc.stdin and proc.stdout and proc.stderr
    proc.stdin.write(revs.encode())
    proc.stdin.close()
    buffer = ""
    try:
        while True:
            chunk = proc.stdout.read(_CHUNK)
            if not chunk:
                break
            buffer += chunk.decode("utf-8", errors="replace")
            records = buffer.split(_RS)
            buffer = records.pop()
            for record in records:
                if record:
                    yield _parse_record(info.name, record)
                    if on_commit:
                        on_commit()
        if buffer:
            yield _parse_record(info.name, buffer)
            if on_commit:
                on_commit()
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
    if code != 0:
        raise UserError(f"git log failed: {stderr.strip()}", where=str(info.path))


def _parse_record(repo: str, record: str) -> Change:
    header, _, rest = record.partition("\0")
    sha, parents, an, ae, ai, cn, ce, ci, message = header.split(_US, 8)
    files: list[FileChange] = []
    tokens = rest.lstrip("\n").split("\0")
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        i += 1
        if not token:
            continue
        added, removed, path = token.split("\t", 2)
        old_path = None
        if not path:  # a rename: the old and new paths follow as their own fields
            old_path, path = tokens[i], tokens[i + 1]
            i += 2
        files.append(FileChange(
            path=path,
            added=None if added == "-" else int(added),
            removed=None if removed == "-" else int(removed),
            old_path=old_path,
        ))
    return Change(
        repo=repo,
        sha=sha,
        parents=tuple(parents.split()),
        author_name=an,
        author_email=ae,
        author_time=datetime.fromisoformat(ai),
        committer_name=cn,
        committer_email=ce,
        committer_time=datetime.fromisoformat(ci),
        message=message.rstrip("\n"),
        files=files,
    )


def tag_matches(name: str, patterns: str | Sequence[str]) -> bool:
    """Whether tag `name` is a deployment: it matches at least one include glob and no `!` exclude
    glob. Globs are case-sensitive, like git's own; a single string is one pattern."""
    if isinstance(patterns, str):
        patterns = [patterns]
    include = exclude = False
    for pattern in patterns:
        if pattern.startswith("!"):
            exclude = exclude or fnmatch.fnmatchcase(name, pattern[1:])
        else:
            include = include or fnmatch.fnmatchcase(name, pattern)
    return include and not exclude


def list_tags(info: RepoInfo, patterns: str | Sequence[str]) -> list[Tag]:
    """Tags of commits that `tag_matches` the patterns, in time order."""
    fmt = _US.join([
        "%(refname:strip=2)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(*objecttype)",
        "%(taggerdate:iso-strict)", "%(committerdate:iso-strict)", "%(*committerdate:iso-strict)",
    ])
    out = _git(info.path, "for-each-ref", f"--format={fmt}", "refs/tags")
    tags = []
    for line in out.splitlines():
        name, otype, oid, target, target_type, tagger, cdate, target_cdate = line.split(_US)
        if not tag_matches(name, patterns):
            continue
        if otype == "commit":
            tags.append(Tag(name, oid, datetime.fromisoformat(cdate), annotated=False, inferred=True))
        elif otype == "tag" and target_type == "commit":
            when = tagger or target_cdate
            tags.append(Tag(name, target, datetime.fromisoformat(when), annotated=True, inferred=not tagger))
        # Tags of trees, blobs or tags of tags are not deployments of a commit.
    tags.sort(key=lambda t: (t.time, t.name))
    return tags
