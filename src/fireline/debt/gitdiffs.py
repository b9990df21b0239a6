"""Reading git for the batched blame (blame.py): the `git log -p -U0` pass, its parser, merges' tree and
line diffs from `git diff-tree --stdin`, and which files a commit renamed from outside the pass."""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1"}
_HEADER = b"\x1eC"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ZERO = re.compile(r"^0+$")


@dataclass(slots=True)
class Origin:
    sha: str
    author: str
    email: str
    time: int  # author time, epoch seconds


@dataclass(slots=True)
class FileDiff:
    old: str | None = None
    new: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None
    hunks: list[tuple[int, int, int]] = field(default_factory=list)  # (old start 0-based, removed, added)
    binary: bool = False


@dataclass(slots=True)
class Commit:
    sha: str
    parents: list[str]
    origin: Origin
    groups: list[list[FileDiff]] = field(default_factory=list)


def git_env() -> dict[str, str]:
    return {**os.environ, **_ENV}


def _unquote(raw: bytes) -> str:
    raw = raw.rstrip(b"\t")
    if raw.startswith(b'"') and raw.endswith(b'"'):
        raw = codecs.escape_decode(raw[1:-1])[0]
    return raw.decode("utf-8", "surrogateescape")


def _strip_prefix(path: str) -> str | None:
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def log_pass(repo: Path, head: str, paths: list[str] | None) -> list[Commit]:
    fmt = "%x1eC%H %P%x1f%an%x1f%ae%x1f%at"
    # --parents rewrites parents past the commits a pathspec leaves out. Merges print no diff here: against
    # a branch's tip, a merge's diff holds everything main did since the fork (on prometheus 228 of the
    # 249 MB of `-m` output); _merge_changes asks for tree diffs and only the few line diffs it needs.
    cmd = ["git", "-C", str(repo), "-c", "core.quotepath=off", "log", "--parents", "--reverse", "--topo-order",
           "-p", "-U0", "-M", "--full-index", "--no-color", "--no-ext-diff", "--no-textconv",
           "--no-show-signature", "--encoding=UTF-8", "--src-prefix=a/", "--dst-prefix=b/", f"--format={fmt}",
           head, "--"]
    if paths is not None:
        cmd += paths
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
    assert proc.stdout and proc.stderr
    stderr = proc.stderr
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    drain.start()
    commits = parse(proc.stdout)
    proc.stdout.close()
    code = proc.wait()
    drain.join()
    if code != 0:
        raise RuntimeError(f"git log failed in {repo}: {b''.join(errors).decode(errors='replace').strip()}")
    return commits


def parse(stream: Iterable[bytes]) -> list[Commit]:
    commits: list[Commit] = []
    current: Commit | None = None
    group: list[FileDiff] | None = None
    diff: FileDiff | None = None
    pending = 0  # content lines still to skip in the current hunk
    for line in stream:
        if pending:
            if not line.startswith(b"\\"):
                pending -= 1
            continue
        if line.startswith(_HEADER):
            head, author, email, when = line[2:].rstrip(b"\n").split(b"\x1f")
            sha, *parents = head.decode().split()
            if current is None or current.sha != sha:
                current = Commit(sha, parents, Origin(sha, author.decode("utf-8", "replace"),
                                                       email.decode("utf-8", "replace"), int(when or 0)))
                commits.append(current)
            group = []
            current.groups.append(group)
            diff = None
            continue
        if group is None:
            continue
        if line.startswith(b"diff --git "):
            diff = FileDiff()
            group.append(diff)
            rest = line[11:].rstrip(b"\n")
            half = (len(rest) - 1) // 2  # "a/P b/P": the same path twice when it was not renamed
            if rest[:half].removeprefix(b"a/") == rest[half + 1:].removeprefix(b"b/"):
                diff.old = diff.new = _unquote(rest[half + 1:][2:])
        elif diff is None:
            continue
        elif line.startswith(b"@@ -"):
            m = _HUNK.match(line)
            if m:
                a = int(m.group(1))
                b = 1 if m.group(2) is None else int(m.group(2))
                d = 1 if m.group(4) is None else int(m.group(4))
                diff.hunks.append((a - 1 if b else a, b, d))
                pending = b + d
        elif line.startswith(b"--- "):
            diff.old = _strip_prefix(_unquote(line[4:].rstrip(b"\n")))
        elif line.startswith(b"+++ "):
            diff.new = _strip_prefix(_unquote(line[4:].rstrip(b"\n")))
        elif line.startswith(b"rename from "):
            diff.old = _unquote(line[12:].rstrip(b"\n"))
        elif line.startswith(b"rename to "):
            diff.new = _unquote(line[10:].rstrip(b"\n"))
        elif line.startswith(b"new file mode"):
            diff.old = None
            diff.old_blob = None
        elif line.startswith(b"deleted file mode"):
            diff.new = None
        elif line.startswith(b"index "):
            blobs = line[6:].rstrip(b"\n").split(b" ", 1)[0].decode()
            old_blob, _, new_blob = blobs.partition("..")
            diff.old_blob = None if _ZERO.match(old_blob) else old_blob
            diff.new_blob = None if _ZERO.match(new_blob) else new_blob
        elif line.startswith(b"Binary files"):
            diff.binary = True
    return commits


def diff_tree(repo: Path, pairs: list[tuple[str, str]], paths: list[str] | None, patch: bool) -> list[bytes]:
    """One `git diff-tree --stdin` over (commit, parent) pairs: each pair's output, in order."""
    if not pairs:
        return []
    how = (["-p", "-U0", "--full-index", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/",
            "--dst-prefix=b/"] if patch else ["--raw", "--no-abbrev", "-z"])
    cmd = ["git", "-C", str(repo), "-c", "core.quotepath=off", "diff-tree", "--stdin", "--always", "-r", "-M",
           "--format=%x1eP", *how, "--", *(paths or [])]
    run = subprocess.run(cmd, input="".join(f"{c} {p}\n" for c, p in pairs).encode(), capture_output=True,
                         env=git_env(), check=False)
    if run.returncode != 0:
        raise RuntimeError(f"git diff-tree failed in {repo}: {run.stderr.decode(errors='replace').strip()}")
    return run.stdout.split(b"\x1eP")[1:]


def raw_changes(out: bytes, names: set[str] | None, moved: dict[str, str]) -> dict[str, str | None]:
    changed: dict[str, str | None] = {}
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")
        i += 1
        if not tok.startswith(b":"):
            continue
        meta = tok.split()
        blob = meta[3].decode()
        new = None if _ZERO.match(blob) else blob
        status = meta[4][:1]
        first = tokens[i].decode("utf-8", "surrogateescape")
        i += 1
        if status in (b"R", b"C"):
            second = tokens[i].decode("utf-8", "surrogateescape")
            i += 1
            if status == b"R":
                changed[first] = None
                moved[second] = first
            changed[second] = new
        else:
            changed[first] = None if status == b"D" else new
    return changed if names is None else {k: v for k, v in changed.items() if k in names}


def _with_renames(cmd: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`cmd` (holding "-M") run once; if it fails, once more with exact renames only ("-M100%"): pairing
    an added file with a deleted one by similarity reads both blobs, which a partial clone may lack, while
    an exact move is told by blob ids alone."""
    run = subprocess.run(cmd, input=stdin, capture_output=True, env=git_env(), check=False)
    if run.returncode != 0:
        run = subprocess.run([("-M100%" if a == "-M" else a) for a in cmd], input=stdin, capture_output=True,
                             env=git_env(), check=False)
    return run


def renames(repo: Path, head: str) -> dict[str, set[str]]:
    """new path -> the paths it was renamed from, anywhere in `head`'s history (one `git log` printing only
    renames: tree diffs, blobs read only to pair added with deleted files; exact moves only where those
    blobs are missing). Empty if git cannot tell: the blame's rename rounds then look commit by commit."""
    run = _with_renames(["git", "-C", str(repo), "-c", "core.quotepath=off", "log", "-M", "--diff-filter=R",
                         "--name-status", "-z", "--format=", head, "--"])
    if run.returncode != 0:
        return {}
    found: dict[str, set[str]] = {}
    for old, new in _rename_pairs(run.stdout):
        found.setdefault(new, set()).add(old)
    return found


def _rename_pairs(out: bytes) -> list[tuple[str, str]]:
    """(old, new) of each rename in `--name-status -z` output that lists renames only (one entry whose
    status is not a rename, as `log --follow -1` may print, gives none)."""
    tokens = [t for t in (t.strip(b"\n") for t in out.split(b"\0")) if t]
    return [(tokens[i + 1].decode("utf-8", "surrogateescape"), tokens[i + 2].decode("utf-8", "surrogateescape"))
            for i in range(0, len(tokens) - 2, 3) if tokens[i][:1] == b"R"]


def older_names(path: str, edges: Mapping[str, set[str]]) -> set[str]:
    """`path` and every name it was renamed from, followed back through moves (a name reused later is
    included too: harmless, its history is read and left out of the replay's answer)."""
    names, todo = {path}, [path]
    while todo:
        for old in edges.get(todo.pop(), ()):
            if old not in names:
                names.add(old)
                todo.append(old)
    return names


def renamed_from(repo: Path, created: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """new path -> old path, for files whose first commit in the pass was a rename (one process; and one
    more per file that commit created beside a deletion or move, see `_own_source`)."""
    if not created:
        return {}
    commits = sorted({sha for shas in created.values() for sha in shas})
    run = _with_renames(["git", "-C", str(repo), "-c", "core.quotepath=off", "diff-tree", "--stdin", "-r", "-m",
                         "-M", "-z", "--name-status"], ("\n".join(commits) + "\n").encode())
    tokens = run.stdout.split(b"\0")
    found: dict[str, set[str]] = {}
    sources: set[str] = set()  # commits that deleted or moved a file: a source another file may come from
    i, sha = 0, ""
    while i < len(tokens):
        tok = tokens[i].decode("utf-8", "surrogateescape").strip("\n")
        i += 1
        if re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", tok):
            sha = tok
        elif tok[:1] in ("R", "C") and i + 1 < len(tokens):
            old, new = (t.decode("utf-8", "surrogateescape") for t in tokens[i:i + 2])
            i += 2
            sources.add(sha)
            if tok[0] == "R" and sha in created.get(new, ()):
                found.setdefault(new, set()).add(old)
        elif tok[:1] in ("A", "M", "D", "T", "U", "X"):
            if tok[:1] == "D":
                sources.add(sha)
            i += 1
    for new, shas in created.items():
        if new in found:
            continue
        for sha in shas & sources:
            source = _own_source(repo, sha, new)
            if source is not None:
                found.setdefault(new, set()).add(source)
    return found


def _own_source(repo: Path, sha: str, path: str) -> str | None:
    """The file `path` came from in commit `sha`, looked for as git blame does: for this path alone. Over a
    whole commit, rename detection gives a deleted file to one new file only; a file moved and copied in
    one commit (alertmanager's tests split into v1 and v2) leaves the copy without its source there."""
    run = _with_renames(["git", "-C", str(repo), "-c", "core.quotepath=off", "log", "--follow", "-M", "-1",
                         "--name-status", "-z", "--format=", sha, "--", path])
    pairs = _rename_pairs(run.stdout) if run.returncode == 0 else []
    return pairs[0][0] if pairs and pairs[0][1] == path else None


