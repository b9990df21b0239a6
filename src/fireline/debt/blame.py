"""Blame for many files in a few `git log` passes: who wrote each line that is still at HEAD.

`git blame` takes one file per process and walks the whole history each time (about 0.4 s
a file on the 100,000-commit benchmark repository, 0.16 s with changed-path Bloom filters),
so a repository with markers in 2,000 files would cost minutes. Here a `git log -p -U0` pass
streams the diffs of just the files of interest (pathspec batches of MAX_PATHSPEC files, in
parallel; past MAX_BATCHES batches one unfiltered pass), parents before children, and the line
origins are replayed forward in Python, with git blame's rules:

- an unchanged line keeps its origin; a line a commit adds is that commit's;
- a merge prints no diff in the pass (against a branch's tip it would hold everything main did since
  the fork); one `git diff-tree --stdin` gives its tree diff against each parent: a file it took whole
  from a parent keeps that parent's lines; for a file every parent differs in, a second diff-tree gives
  line diffs: a line unchanged from the first parent comes from it, else from the first other parent it
  is unchanged from, else it is the merge's own (a conflict resolution);
- a rename carries the lines along: one `git log` listing the history's renames first gives each file
  every older name, in its first pass; a move it missed (a rename only a merge made, say) is found by one
  batched `git diff-tree --stdin` and the pass is repeated, for those files, with the older names.

Every replayed file is checked against HEAD (same blob id, same line count); a file that does
not match (history git cannot diff as text, say) falls back to `git blame` for its marker lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..steps import Steps, quietly
from .gitdiffs import (
    Commit,
    FileDiff,
    Origin,
    diff_tree,
    git_env,
    log_pass,
    older_names,
    parse,
    raw_changes,
    renamed_from,
    renames,
)

NEW = -1  # a line new relative to the parent being replayed
# git matches every path of a pathspec against every changed path (quadratic): a pass takes at most this
# many files, and past MAX_BATCHES such passes one unfiltered pass, filtered here, is faster (2,000 files x
# 2,000 commits: 6.1 s vs 0.15 s; prometheus, 128 files in 18,400 commits: a pathspec pass 4 s, unfiltered 30).
MAX_PATHSPEC = 48
MAX_BATCHES = 8
MAX_WORKERS = 4
BLAMING = "blaming files"
RENAME_ROUNDS = 4


@dataclass
class BlameResult:
    origins: dict[str, list[Origin | None]]  # path -> one origin per line (None: unknown)
    passes: int = 0  # git log passes (1 + rename rounds)
    fallback_files: int = 0  # files blamed by `git blame` because the replay did not match HEAD


_State = dict[str, tuple[str | None, list[int] | None]]  # path -> (blob id, origin index per line)


def _apply(lines: list[int] | None, diff: FileDiff, cid: int) -> list[int] | None:
    if diff.binary or (lines is None and diff.old is not None):
        return None
    old = lines or []
    out: list[int] = []
    pos = 0
    for start, removed, added in diff.hunks:
        if start < pos or start + removed > len(old):
            return None  # not the content we think it is: leave it to the fallback
        out += old[pos:start]
        out += [cid] * added
        pos = start + removed
    out += old[pos:]
    return out


def _apply_group(base: _State, diffs: list[FileDiff], cid: int, *, owned: bool = False) -> _State:
    """`base` with one parent's diffs applied (new lines marked `cid`); a copy unless `owned`.

    Line lists are never changed in place, so states that share them stay correct.
    """
    before = {d.old: base.get(d.old, (None, [])) for d in diffs if d.old is not None}
    state = base if owned else dict(base)
    for path in before:
        state.pop(path, None)
    for d in diffs:
        if d.new is None:
            continue
        blob, lines = before[d.old] if d.old is not None else (None, [])
        if d.hunks or d.binary or d.old is None:
            lines = _apply(lines, d, cid)
        state[d.new] = (d.new_blob or blob, lines)
    return state


@dataclass(slots=True)
class _Merge:
    """What a merge changed against each of its parents: per parent, name -> blob id at the merge (None: gone)
    from tree diffs, and line diffs for the names changed against every parent (`both`)."""
    changed: list[dict[str, str | None]]
    moved: dict[str, str] = field(default_factory=dict)  # new name -> old name, renamed against some parent
    both: set[str] = field(default_factory=set)
    patches: list[list[FileDiff]] = field(default_factory=list)


def _merge_changes(repo: Path, commits: list[Commit], paths: list[str] | None,
                   names: set[str] | None = None) -> dict[str, _Merge]:
    """Tree diffs of every merge against each parent; line diffs only for the names every parent differs in
    (two processes whatever the number of merges)."""
    merges = [c for c in commits if len(c.parents) > 1]
    pairs = [(c.sha, p) for c in merges for p in c.parents]
    raw = iter(diff_tree(repo, pairs, paths, patch=False))
    found: dict[str, _Merge] = {}
    for c in merges:
        m = _Merge([])
        m.changed = [raw_changes(next(raw), names, m.moved) for _ in c.parents]
        m.both = {n for n in m.changed[0] if all(n in other for other in m.changed[1:])}
        if m.changed[0]:
            found[c.sha] = m
    wanted = [c for c in merges if c.sha in found and found[c.sha].both]
    if wanted:
        # The old names too: without them a file renamed against a parent looks added.
        both = sorted({n for c in wanted for m in (found[c.sha],) for b in m.both for n in (b, m.moved.get(b, b))})
        texts = iter(diff_tree(repo, [(c.sha, p) for c in wanted for p in c.parents], both, patch=True))
        for c in wanted:
            m = found[c.sha]
            for _ in c.parents:
                (commit,) = parse([b"\x1eC" + c.sha.encode() + b" \x1f\x1f\x1f0\n",
                                    *next(texts).splitlines(keepends=True)])
                m.patches.append([d for g in commit.groups for d in g if d.new in m.both or d.old in m.both])
    return found


def _replay_merge(parents: list[_State], first_owned: bool, merge: _Merge | None, cid: int) -> _State:
    """git blame's rules: a file the merge took whole from a parent (the first such) keeps that parent's
    lines; in a file every parent differs in, a line unchanged from the first parent is its, else from
    the first other parent it is unchanged from, else the merge's own (a conflict resolution)."""
    if merge is None:
        return parents[0] if first_owned else dict(parents[0])
    # Line diffs first: the first parent's state may be changed in place below.
    applied = [_apply_group(p, [d for d in diffs if d.new in merge.both], NEW)
               for p, diffs in zip(parents, merge.patches, strict=True)] if merge.both else []
    state = parents[0] if first_owned else dict(parents[0])
    for name in merge.changed[0]:
        if name in merge.both:
            continue
        k = next(k for k in range(1, len(parents)) if name not in merge.changed[k])
        kept = parents[k].get(name)
        if kept is None:
            state.pop(name, None)
        else:
            state[name] = kept
    for name in merge.both:
        lines = applied[0].get(name, (None, None))[1]
        if merge.changed[0][name] is None:
            state.pop(name, None)
            continue
        if lines is not None:
            merged = list(lines)
            for other in applied[1:]:
                theirs = other.get(name, (None, None))[1]
                if theirs is None or len(theirs) != len(merged):
                    continue
                merged = [t if m == NEW else m for m, t in zip(merged, theirs, strict=True)]
            lines = [cid if m == NEW else m for m in merged]
        state[name] = (merge.changed[0][name], lines)
    return state


def replay(commits: list[Commit], merges: Mapping[str, _Merge] | None = None) -> tuple[_State, list[Origin]]:
    """The state of the last commit (the tip), with origins as indexes into the returned list."""
    origins = [c.origin for c in commits]
    remaining: dict[str, int] = {}
    for c in commits:
        for p in c.parents:
            remaining[p] = remaining.get(p, 0) + 1
    states: dict[str, _State] = {}
    last: _State = {}

    def take(sha: str) -> tuple[_State, bool]:
        """A parent's state, and whether this child is its last (so it may be changed in place)."""
        remaining[sha] -= 1
        return (states.pop(sha), True) if remaining[sha] == 0 else (states[sha], False)

    for cid, c in enumerate(commits):
        if len(c.parents) <= 1:
            taken = [take(p) for p in c.parents if p in states]
            diffs = [d for g in c.groups for d in g]
            state = _apply_group(taken[0][0] if taken else {}, diffs, cid, owned=bool(taken) and taken[0][1])
        else:
            # A parent outside the pass (none of the files existed there) has no state: an empty one.
            taken = [take(p) if p in states else ({}, True) for p in c.parents]
            state = _replay_merge([s for s, _ in taken], taken[0][1], (merges or {}).get(c.sha), cid)
        if remaining.get(c.sha):
            states[c.sha] = state
        last = state
    return last, origins


def _keep_history_of(commits: list[Commit], paths: set[str]) -> set[str]:
    """Drop the diffs of files that never become one of `paths` (followed back through renames); the names kept."""
    names = set(paths)
    for c in reversed(commits):
        for g in c.groups:
            for d in g:
                if d.new in names and d.old is not None:
                    names.add(d.old)
    for c in commits:
        c.groups = [[d for d in g if d.new in names or d.old in names] for g in c.groups]
    return names


def _blame_batch(repo: Path, head: str, batch: list[str], wanted: Mapping[str, tuple[str, int]],
                 moves: Mapping[str, set[str]]) -> tuple[dict[str, list[Origin] | None], int]:
    """One pathspec batch: its files' origins (None: the replay did not reach HEAD's content), git log passes.

    `moves` (new name -> older names) gives the first pass every name a file had; a round that still finds
    an older name reads the history again for the files so renamed only."""
    names: dict[str, set[str]] = {p: older_names(p, moves) for p in batch}  # HEAD path -> every name it had
    found: dict[str, list[Origin] | None] = {}
    todo = list(batch)
    passes = 0
    for round_ in range(RENAME_ROUNDS):
        paths = sorted({n for p in todo for n in names[p]})
        commits = log_pass(repo, head, paths)
        passes += 1
        tip, origins = replay(commits, _merge_changes(repo, commits, paths))
        at_head = {n: p for p in todo for n in names[p]}  # any name -> the HEAD path it became
        created: dict[str, set[str]] = {}
        for c in commits:
            for g in c.groups:
                for d in g:
                    # A root commit has no renames (diff-tree prints nothing for it), but a commit
                    # whose parents the pathspec left out may well be the one that moved the file
                    # (under any of its names: a file moved twice is found one move a round; a
                    # history grafted in by a subtree merge may create a name twice).
                    if d.old is None and d.new is not None and d.new in at_head:
                        created.setdefault(d.new, set()).add(c.sha)
        older: dict[str, set[str]] = {}
        if round_ + 1 < RENAME_ROUNDS:
            for new, olds in renamed_from(repo, created).items():
                older.setdefault(at_head[new], set()).update(olds - names[at_head[new]])
        for path in todo:
            if not older.get(path):
                found[path] = _matched(tip, origins, path, wanted[path])
        todo = [p for p in todo if older.get(p)]
        if not todo:
            break
        for path in todo:
            names[path] |= older[path]
    return found, passes


def _matched(tip: _State, origins: list[Origin], path: str, at_head: tuple[str, int]) -> list[Origin] | None:
    got_blob, lines = tip.get(path, (None, None))
    if lines is not None and got_blob == at_head[0] and len(lines) == at_head[1]:
        return [origins[i] for i in lines]
    return None


def blame_files(repo: Path, head: str, wanted: Mapping[str, tuple[str, int]],
                marker_lines: Mapping[str, list[int]] | None = None, steps: Steps | None = None) -> BlameResult:
    """Origins of every line of `wanted` (path -> (blob id at HEAD, line count)).

    Few files (up to MAX_BATCHES batches of MAX_PATHSPEC): each batch is its own pathspec-limited pass,
    the batches in parallel git processes; more: one unfiltered pass, filtered here."""
    steps = steps or quietly
    result = BlameResult({})
    if not wanted:
        return result
    ordered = sorted(wanted)
    size = max(MAX_PATHSPEC, 1)
    batches = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    found: dict[str, list[Origin] | None] = {}
    steps(BLAMING, 0, len(wanted))
    if len(batches) > MAX_BATCHES:
        try:
            commits = log_pass(repo, head, None)
        except RuntimeError:
            commits = None  # a partial clone lacks blobs of files no one asked about: read by pathspec
        if commits is not None:
            result.passes = 1
            kept = _keep_history_of(commits, set(wanted))
            tip, origins = replay(commits, _merge_changes(repo, commits, None, kept))
            found = {p: _matched(tip, origins, p, wanted[p]) for p in ordered}
            steps(BLAMING, len(found), len(wanted))
    if not found:
        # Each move found by a round costs another pass over the whole history (16 of 22 passes on mypy's):
        # one listing of the history's renames, first, spares most of them.
        moves = renames(repo, head)
        workers = max(1, min(len(batches), os.cpu_count() or 1, MAX_WORKERS))
        if workers == 1:  # in the caller's thread (the server keeps git to its worker thread)
            results: Iterator[tuple[dict[str, list[Origin] | None], int]] = (
                _blame_batch(repo, head, b, wanted, moves) for b in batches)
            pool = None
        else:
            # Named after the caller: whose git processes these are stays visible.
            pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{threading.current_thread().name}-blame")
            results = pool.map(lambda b: _blame_batch(repo, head, b, wanted, moves), batches)
        try:
            for got, passes in results:
                found.update(got)
                result.passes += passes
                steps(BLAMING, len(found), len(wanted))
        finally:
            if pool is not None:
                pool.shutdown()
    for path in ordered:
        origins_of = found.get(path)
        if origins_of is not None:
            result.origins[path] = list(origins_of)
        else:
            result.fallback_files += 1
            result.origins[path] = _git_blame(repo, head, path, wanted[path][1], (marker_lines or {}).get(path))
    return result


def _git_blame(repo: Path, head: str, path: str, count: int, lines: list[int] | None) -> list[Origin | None]:
    """`git blame` for one file's marker lines: the fallback, one process for the file."""
    out: list[Origin | None] = [None] * count
    ranges = [f"-L{n},{n}" for n in (lines or range(1, count + 1))] if lines else []
    run = subprocess.run(["git", "-C", str(repo), "blame", "--line-porcelain", *ranges, head, "--", path],
                         capture_output=True, env=git_env(), check=False)
    if run.returncode != 0:
        return out
    sha, author, email, when, final = "", "", "", 0, 0
    for raw in run.stdout.split(b"\n"):
        if raw.startswith(b"\t"):
            if 0 < final <= count:
                out[final - 1] = Origin(sha, author, email, when)
            continue
        parts = raw.split(b" ")
        if len(parts) >= 3 and re.fullmatch(rb"[0-9a-f]{40}([0-9a-f]{24})?", parts[0]):
            sha, final = parts[0].decode(), int(parts[2])
        elif raw.startswith(b"author "):
            author = raw[7:].decode("utf-8", "replace")
        elif raw.startswith(b"author-mail "):
            email = raw[12:].decode("utf-8", "replace").strip("<>")
        elif raw.startswith(b"author-time "):
            when = int(raw[12:])
    return out
