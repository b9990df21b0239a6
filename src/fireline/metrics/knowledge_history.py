"""File histories for the knowledge metrics, replayed from the stored git pass.

The history is NOT walked again: commits and their per-file numstat rows come from the
store (`changes`, `change_files`), the branch that HEAD points at is found through the
stored parent links, and renames are followed through `change_files.old_path`.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis

from ..identity import Directory, People


@dataclass
class FileStats:
    """One file's life, followed across renames: who created it and who changed it how often."""

    path: str  # its path after the last change replayed
    creator: str
    created: datetime
    last_changed: datetime
    changes: Counter[str] = field(default_factory=Counter)  # developer -> number of commits touching it
    lines: int = 0  # sum of added - removed over the history: its current size in lines
    # Commits by bots left out (fireline.identity): they move the file but earn or cost no authorship.
    bot_changes: int = 0

    @property
    def total_changes(self) -> int:
        return sum(self.changes.values()) + self.bot_changes


@dataclass
class Developer:
    key: str
    name: str
    emails: list[str]
    last_commit: datetime


@dataclass
class History:
    repo: str
    head: str | None
    files: dict[str, FileStats]  # path at HEAD -> stats; deleted files are gone
    developers: dict[str, Developer]  # key -> developer
    newest: datetime | None  # newest committer time in the repository
    services: list[dict]
    directory: Directory | None = None  # who is who (merged identities, bots)
    # What knowledge.analyse derives from the files alone, whatever its `now` (a page analyses one history
    # at several dates: the knowledge section, and the debt ledger at each month's end). A history is not
    # changed once replayed.
    derived: dict[object, Any] = field(default_factory=dict, repr=False, compare=False)


def _topological(commits: dict[str, dict], head: str | None) -> list[dict]:
    """The commits reachable from `head` (all commits when None), parents before children.

    Ties are broken by committer time then sha, so the replay order is deterministic and
    follows the calendar wherever the graph allows."""
    if head is not None and head in commits:
        reach: set[str] = set()
        stack = [head]
        while stack:
            sha = stack.pop()
            if sha in reach or sha not in commits:
                continue
            reach.add(sha)
            stack.extend(commits[sha]["parents"])
    else:
        reach = set(commits)
    pending = {sha: sum(1 for p in commits[sha]["parents"] if p in reach) for sha in reach}
    children: dict[str, list[str]] = {}
    for sha in reach:
        for p in commits[sha]["parents"]:
            if p in reach:
                children.setdefault(p, []).append(sha)
    ready = [(commits[s]["committer_time"], s) for s, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, sha = heapq.heappop(ready)
        order.append(commits[sha])
        for child in children.get(sha, ()):
            pending[child] -= 1
            if pending[child] == 0:
                heapq.heappush(ready, (commits[child]["committer_time"], child))
    return order


def pick_head(tips: Mapping[str, str], known: Mapping[str, dict], head: str | None = None) -> str | None:
    """HEAD as given (the CLI asks `git rev-parse HEAD`), else main/master, else the newest branch tip."""
    if head and head in known:
        return head
    for ref in ("refs/heads/main", "refs/heads/master"):
        if tips.get(ref) in known:
            return tips[ref]
    branches = [sha for ref, sha in tips.items() if ref.startswith("refs/heads/") and sha in known]
    candidates = branches or [sha for sha in tips.values() if sha in known]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (known[s]["committer_time"], s))


def _deleted(added: int | None, removed: int | None, stats: FileStats) -> bool:
    # numstat cannot tell "deleted" from "emptied": a change that only removes lines and leaves
    # the file at zero lines is taken as a deletion (see docs/knowledge.md, limitations).
    return added == 0 and (removed or 0) > 0 and stats.lines <= 0


def replay(commits: list[dict], files_by_sha: Mapping[str, list[dict]], resolve,
           left_out=lambda dev: False) -> dict[str, FileStats]:
    """Replay the per-file changes in order; returns path at HEAD -> stats of the live files.
    A developer `left_out` (a bot) changes files without earning or costing anyone authorship."""
    current: dict[str, FileStats] = {}
    for commit in commits:
        entries = files_by_sha.get(commit["sha"], ())
        if not entries:
            continue  # merges carry no numstat rows: their files' changes are in the merged commits
        dev = resolve(commit["author_name"], commit["author_email"])
        when = commit["committer_time"]
        # Resolve every entry against the state before this commit, so swaps (a->b, b->a) work.
        resolved = [(e, current.get(e["old_path"] if e["old_path"] is not None else e["path"])) for e in entries]
        for e, stats in resolved:
            if e["old_path"] is not None and current.get(e["old_path"]) is stats:
                current.pop(e["old_path"], None)
        for e, stats in resolved:
            if stats is None:
                stats = FileStats(path=e["path"], creator=dev, created=when, last_changed=when)
            if left_out(dev):
                stats.bot_changes += 1
            else:
                stats.changes[dev] += 1
            stats.lines += (e["added"] or 0) - (e["removed"] or 0)
            stats.last_changed = when
            stats.path = e["path"]
            if _deleted(e["added"], e["removed"], stats):
                if current.get(e["path"]) is stats:
                    current.pop(e["path"])
            else:
                current[e["path"]] = stats
    return current


def load_history(tables: Mapping[str, ibis.Table], repo: str, *, people: People | None = None,
                 head: str | None = None) -> History:
    """Read one repository's commits and file rows from the store and replay them.
    `people`: the configured people and bot rules (`People.from_config`); none by default."""
    ch = tables["changes"]
    cf = tables["change_files"]
    rows = (ch.filter(ch.repo == repo)
            .select("sha", "parents", "author_name", "author_email", "author_time", "committer_time")
            .to_pyarrow().to_pylist())
    commits = {r["sha"]: {**r, "parents": (r["parents"] or "").split()} for r in rows}
    files_by_sha: dict[str, list[dict]] = {}
    for r in (cf.filter(cf.repo == repo).select("sha", "path", "old_path", "added", "removed")
              .to_pyarrow().to_pylist()):
        files_by_sha.setdefault(r["sha"], []).append(r)
    repos = tables["repos"]
    meta = repos.filter(repos.repo == repo).select("tips", "services").to_pyarrow().to_pylist()
    tips = json.loads(meta[0]["tips"] or "{}") if meta else {}
    services = json.loads(meta[0]["services"] or "[]") if meta else []
    head = pick_head(tips, commits, head)

    directory = (people or People()).directory((c["author_name"], c["author_email"]) for c in commits.values())
    developers: dict[str, Developer] = {}
    for c in commits.values():
        key = directory.key(c["author_name"], c["author_email"])
        if directory.left_out(key):
            continue  # bots: not developers, authors, owners or active people
        dev = developers.get(key)
        if dev is None:
            identity = directory.identities[key]
            developers[key] = Developer(key, identity.name, identity.emails, c["author_time"])
        else:
            dev.last_commit = max(dev.last_commit, c["author_time"])
    files = replay(_topological(commits, head), files_by_sha, directory.key, directory.left_out)
    newest = max((c["committer_time"] for c in commits.values()), default=None)
    return History(repo=repo, head=head, files=files, developers=developers, newest=newest, services=services,
                   directory=directory)
