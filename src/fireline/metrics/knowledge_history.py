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
from typing import Any, cast

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from ..identity import Directory, People
from .arrow_times import python_rows, utc_datetimes


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


def _topological(parents: list[list[int]], times: list[int], shas: list[str], head: int | None) -> list[int]:
    """The commits (by index) reachable from `head` (all commits when None), parents before children;
    `parents` holds each commit's parents among the known commits (by index).

    Ties are broken by committer time then sha, so the replay order is deterministic and
    follows the calendar wherever the graph allows."""
    if head is not None:
        reach: set[int] | range = set()
        stack = [head]
        while stack:
            i = stack.pop()
            if i in reach:
                continue
            reach.add(i)  # type: ignore[union-attr]
            stack.extend(parents[i])
    else:
        reach = range(len(shas))
    pending = {i: sum(1 for p in parents[i] if p in reach) for i in reach}
    children: dict[int, list[int]] = {}
    for i in reach:
        for p in parents[i]:
            if p in reach:
                children.setdefault(p, []).append(i)
    ready = [(times[i], shas[i], i) for i, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, i = heapq.heappop(ready)
        order.append(i)
        for child in children.get(i, ()):
            pending[child] -= 1
            if pending[child] == 0:
                heapq.heappush(ready, (times[child], shas[child], child))
    return order


def pick_head(tips: Mapping[str, str], known: Mapping[str, Any], head: str | None = None) -> str | None:
    """HEAD as given (the CLI asks `git rev-parse HEAD`), else main/master, else the newest branch tip.
    `known`: the known commits' sha -> committer time."""
    if head and head in known:
        return head
    for ref in ("refs/heads/main", "refs/heads/master"):
        if tips.get(ref) in known:
            return tips[ref]
    branches = [sha for ref, sha in tips.items() if ref.startswith("refs/heads/") and sha in known]
    candidates = branches or [sha for sha in tips.values() if sha in known]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (known[s], s))


def _deleted(added: int | None, removed: int | None, stats: FileStats) -> bool:
    # numstat cannot tell "deleted" from "emptied": a change that only removes lines and leaves
    # the file at zero lines is taken as a deletion (see docs/knowledge.md, limitations).
    return added == 0 and (removed or 0) > 0 and stats.lines <= 0


@dataclass
class _Rows:
    """One repository's file rows, as columns, grouped by commit in the store's order: the rows of the
    commit `sha` are `at[sha]` (a range of indices into the columns)."""

    path: list[str]
    old_path: list[str | None]
    added: list[int | None]
    removed: list[int | None]
    at: dict[str, range]

    @classmethod
    def of(cls, table: pa.Table) -> _Rows:
        # A stable sort keeps each commit's rows in the order the store returned them.
        table = table.take(pc.sort_indices(table, [("sha", "ascending")]))
        runs = pc.run_end_encode(table["sha"].combine_chunks())
        ends = runs.run_ends.to_pylist()
        at = {sha: range(start, end) for sha, start, end in zip(runs.values.to_pylist(), [0, *ends], ends,
                                                                  strict=False)}
        return cls(table["path"].to_pylist(), table["old_path"].to_pylist(), table["added"].to_pylist(),
                   table["removed"].to_pylist(), at)


def replay(order: list[int], shas: list[str], devs: list[str], bots: list[bool], rows: _Rows) -> dict[str, FileStats]:
    """Replay the per-file changes of the commits in `order` (indices into `shas`, their authors' keys
    `devs`, whether each is `bots`: left out); returns path at HEAD -> stats of the live files, whose
    `created` and `last_changed` are still commit indices (see `_dated`). A developer left out (a bot)
    changes files without earning or costing anyone authorship."""
    current: dict[str, FileStats] = {}
    at, paths, olds, added, removed = rows.at, rows.path, rows.old_path, rows.added, rows.removed
    for i in order:
        entries = at.get(shas[i])
        if not entries:
            continue  # merges carry no numstat rows: their files' changes are in the merged commits
        dev, bot = devs[i], bots[i]
        # Resolve every entry against the state before this commit, so swaps (a->b, b->a) work.
        resolved = [(e, current.get(old if (old := olds[e]) is not None else paths[e])) for e in entries]
        for e, stats in resolved:
            old = olds[e]
            if old is not None and current.get(old) is stats:
                current.pop(old, None)
        for e, stats in resolved:
            path = paths[e]
            if stats is None:
                stats = FileStats(path=path, creator=dev, created=i, last_changed=i)  # type: ignore[arg-type]
            if bot:
                stats.bot_changes += 1
            else:
                stats.changes[dev] += 1
            stats.lines += (added[e] or 0) - (removed[e] or 0)
            stats.last_changed = i  # type: ignore[assignment]
            stats.path = path
            if _deleted(added[e], removed[e], stats):
                if current.get(path) is stats:
                    current.pop(path)
            else:
                current[path] = stats
    return current


def _datetimes(column: pa.ChunkedArray | pa.Array, wanted: set[int]) -> dict[int, datetime]:
    """The timestamps at the indices `wanted` (only those: turning a time-zone-aware timestamp into a
    datetime is most of the cost of reading a history)."""
    picked = sorted(wanted)
    return dict(zip(picked, utc_datetimes(column, picked), strict=True))  # type: ignore[arg-type]


def load_history(tables: Mapping[str, ibis.Table], repo: str, *, people: People | None = None,
                 head: str | None = None) -> History:
    """Read one repository's commits and file rows from the store and replay them.
    `people`: the configured people and bot rules (`People.from_config`); none by default.

    Read as Arrow columns: the commits' times stay integers (microseconds) for the replay's order, and
    only the times the history keeps become datetimes."""
    ch = tables["changes"]
    cf = tables["change_files"]
    commits = (ch.filter(ch.repo == repo)
               .select("sha", "parents", "author_name", "author_email", "author_time", "committer_time")
               .to_pyarrow())
    shas: list[str] = commits["sha"].to_pylist()
    index = {sha: i for i, sha in enumerate(shas)}
    parents = [[index[p] for p in text.split() if p in index] if text else []
               for text in commits["parents"].to_pylist()]
    times: list[int] = commits["committer_time"].cast(pa.int64()).to_pylist()
    rows = _Rows.of(cf.filter(cf.repo == repo).select("sha", "path", "old_path", "added", "removed").to_pyarrow())
    repos = tables["repos"]
    meta = python_rows(repos.filter(repos.repo == repo).select("tips", "services").to_pyarrow())
    tips = json.loads(meta[0]["tips"] or "{}") if meta else {}
    services = json.loads(meta[0]["services"] or "[]") if meta else []
    head = pick_head(tips, {sha: times[i] for sha, i in index.items()}, head)

    pairs = list(zip(commits["author_name"].to_pylist(), commits["author_email"].to_pylist(), strict=True))
    directory = (people or People()).directory(pairs)
    key_of = {pair: directory.key(*pair) for pair in dict.fromkeys(pairs)}
    devs = [key_of[pair] for pair in pairs]
    left_out = {key: directory.left_out(key) for key in set(key_of.values())}
    bots = [left_out[key] for key in devs]
    authored = commits["author_time"].cast(pa.int64()).to_pylist()
    latest: dict[str, int] = {}  # developer -> index of their newest commit (the first of equals)
    for i, key in enumerate(devs):
        if left_out[key]:
            continue  # bots: not developers, authors, owners or active people
        seen = latest.get(key)
        if seen is None or authored[i] > authored[seen]:
            latest[key] = i
    files = replay(_topological(parents, times, shas, index.get(head) if head is not None else None),
                   shas, devs, bots, rows)
    newest = max(range(len(times)), key=times.__getitem__, default=None)
    replayed = cast(set[int], {i for s in files.values() for i in (s.created, s.last_changed)})
    committed = _datetimes(commits["committer_time"], replayed | ({newest} if newest is not None else set()))
    for stats in files.values():  # a copied file's two paths share one FileStats
        if isinstance(stats.created, int):
            stats.created, stats.last_changed = committed[stats.created], committed[stats.last_changed]
    when = _datetimes(commits["author_time"], set(latest.values()))
    developers: dict[str, Developer] = {}
    for key, i in latest.items():
        identity = directory.identities[key]
        developers[key] = Developer(key, identity.name, identity.emails, when[i])
    return History(repo=repo, head=head, files=files, developers=developers,
                   newest=committed[newest] if newest is not None else None, services=services,
                   directory=directory)
