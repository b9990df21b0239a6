"""Which commits came through each pull request, found in the commit graph (part of relinking).

A webhook's pull request carries no commit list (sync adds one), so the first commit, where
coding time starts, comes from git; and "commits outside any pull request" needs to know
which commits a request brought. For each request whose commits are in the store:

- `merge`: the commit that ships it (merge, squash or rebase commit), when git has it;
- `branch`: the commits reachable from the merge commit's other parents (a true merge) or
  from the request's head (an open request, or a squash whose branch was fetched), stopping
  at the main line: the first-parent chains of every merge commit and base commit seen.
  A squash or rebase merge whose branch is not in git has no `branch` commits: its first
  commit is then unknown unless sync listed the commits.

The walk stops after MAX_BRANCH commits: a request that merged a long-lived branch is not
allowed to claim the history behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from .store import Store, Writer

MAX_BRANCH = 2000


class _Graph(Protocol):
    parents: dict[str, tuple[str, ...]]

    def resolve(self, sha: str) -> str | None: ...


def derive(store: Store, tx: Writer, graph: Callable[[str], _Graph]) -> int:
    """Rewrite `pull_request_commits` from the stored requests and commits; returns its rows."""
    by_repo: dict[str, list[tuple[str, str | None, str | None, str | None]]] = defaultdict(list)
    for pr_id, repo, merge, head, base in store.pull_requests_to_link():
        by_repo[repo].append((pr_id, merge, head, base))
    rows: dict[str, list] = {k: [] for k in ("pull_request_id", "repo", "sha", "author_time", "role")}
    known = store.repos_with_changes()
    for repo in sorted(by_repo):
        if repo not in known:
            continue
        g = graph(repo)
        found = _commits_of(g, by_repo[repo])
        times = store.author_times(repo, sorted({sha for shas in found.values() for sha, _role in shas}))
        for pr_id, shas in found.items():
            for sha, role in shas:
                for key, value in (("pull_request_id", pr_id), ("repo", repo), ("sha", sha),
                                   ("author_time", times.get(sha)), ("role", role)):
                    rows[key].append(value)
    tx.replace_all("pull_request_commits", rows)
    return len(rows["sha"])


def _commits_of(g: _Graph, prs: list[tuple[str, str | None, str | None, str | None]]
                ) -> dict[str, list[tuple[str, str]]]:
    resolved = [(pr_id, g.resolve(merge) if merge else None, g.resolve(head) if head else None,
                 g.resolve(base) if base else None) for pr_id, merge, head, base in prs]
    mainline: set[str] = set()
    for _pr, merge, _head, base in resolved:
        start = g.parents[merge][0] if merge and g.parents[merge] else None
        for sha in (start, base):
            while sha and sha in g.parents and sha not in mainline:
                mainline.add(sha)
                sha = g.parents[sha][0] if g.parents[sha] else None
    out: dict[str, list[tuple[str, str]]] = {}
    for pr_id, merge, head, _base in resolved:
        shas: list[tuple[str, str]] = [(merge, "merge")] if merge else []
        tips = list(g.parents[merge][1:]) if merge else []
        if not tips and head and head != merge:
            tips = [head]
        seen: set[str] = {merge} if merge else set()
        stack = list(tips)
        while stack and len(seen) <= MAX_BRANCH:
            sha = stack.pop()
            if sha in seen or sha in mainline or sha not in g.parents:
                continue
            seen.add(sha)
            shas.append((sha, "branch"))
            stack.extend(g.parents[sha])
        if shas:
            out[pr_id] = shas
    return out
