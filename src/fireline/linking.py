"""Derive which deployment shipped each commit, and which deployment each incident hit.

This is the derivation step between the normalised tables and the metrics
(DevLake's "domain layer"). It walks the commit graph, which SQL is poor at, and
writes `deployment_changes` and `incident_deployments` whole, inside the ingest's
transaction, so they always agree with the tables they come from.

The rules (docs/metrics.md):
- A commit belongs to the earliest production deployment of its service whose commit
  contains it by ancestry. Merges, squash and rebase merges, batched deploys and
  reverts all follow from that.
- A commit with a `(cherry picked from commit X)` trailer also ships X, if X has not
  shipped yet: a fix cherry-picked to a release branch reaches production then.
- The first deployment of a service is a baseline: its commits get no lead time.
- In a monorepo a commit belongs to the services whose path globs it touches.
- A deployment given an abbreviated sha is stored with the full one once it resolves.
- An incident links to its named cause (a deployment id, a deployment's sha or a
  commit that a deployment shipped), else to the latest production deployment of
  its service at or before it started.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from . import pr_commits
from .config import in_service
from .store import Store, Writer

_CHERRY = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")


@dataclass
class Graph:
    parents: dict[str, tuple[str, ...]]
    cherry_of: dict[str, str]  # cherry-pick commit -> original
    files: dict[str, list[str]] | None = None
    _sorted: list[str] = field(default_factory=list)

    def resolve(self, sha: str) -> str | None:
        """Full sha for a full or abbreviated one; None when unknown or ambiguous."""
        if sha in self.parents:
            return sha
        if len(sha) >= 40:
            return None
        if not self._sorted:
            self._sorted = sorted(self.parents)
        i = bisect.bisect_left(self._sorted, sha)
        hits: list[str] = []
        while i < len(self._sorted) and self._sorted[i].startswith(sha) and len(hits) < 2:
            hits.append(self._sorted[i])
            i += 1
        return hits[0] if len(hits) == 1 else None


@dataclass
class LinkResult:
    deployment_changes: int = 0
    incident_links: int = 0
    pull_request_commits: int = 0
    unresolved_deployments: list[str] = field(default_factory=list)


def counted_deployments(store: Store, production: list[str]) -> list[tuple[str, str, str, datetime]]:
    return store.counted_deployments(production)


def _load_graph(store: Store, repo: str, with_files: bool) -> Graph:
    table = store.commit_parents(repo)
    shas = table.column("sha").to_pylist()
    parents = table.column("parents").to_pylist()
    graph = {s: tuple(p.split()) if p else () for s, p in zip(shas, parents, strict=True)}
    cherry = {}
    for sha, message in store.cherry_pick_messages(repo):
        match = _CHERRY.search(message)
        if match:
            cherry[sha] = match.group(1)
    files = None
    if with_files:
        files = defaultdict(list)
        ft = store.changed_paths(repo)
        for sha, path in zip(ft.column("sha").to_pylist(), ft.column("path").to_pylist(), strict=True):
            files[sha].append(path)
    return Graph(graph, cherry, files)


def relink(store: Store, tx: Writer, production: list[str]) -> LinkResult:
    # The link tables are rewritten whole from what this transaction reads: two at once on a shared
    # PostgreSQL store would each write its own snapshot and the last would lose the other's links.
    # Waiting here makes every relink read what all earlier ones committed.
    tx.lock("relink")
    result = LinkResult()
    deployments = counted_deployments(store, production)
    services_by_repo = store.repo_services()
    repos_of_service: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for repo, services in services_by_repo.items():
        for svc in services:
            repos_of_service[svc["name"]].append((repo, svc.get("paths") or []))

    graphs: dict[str, Graph] = {}

    def graph(repo: str) -> Graph:
        if repo not in graphs:
            needs_files = any(s.get("paths") for s in services_by_repo.get(repo, []))
            graphs[repo] = _load_graph(store, repo, needs_files)
        return graphs[repo]

    by_service: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for dep_id, service, sha, time in deployments:
        by_service[service].append((dep_id, sha, time))

    dc_rows: dict[str, list] = {k: [] for k in ("deployment_id", "service", "repo", "sha", "baseline", "via")}
    shipped: dict[tuple[str, str], str] = {}  # (repo, sha) -> deployment id, over all services
    dep_sha: dict[str, tuple[str, str]] = {}  # deployment id -> (repo, full sha)

    # Repositories known only from webhook pushes have commits but no `repos` row.
    all_repos = sorted(store.repos_with_changes() | set(services_by_repo))
    for service, deps in by_service.items():
        targets = repos_of_service.get(service)
        if not targets and service in all_repos:
            targets = [(service, [])]  # a service named after its repository, as webhooks name them
        targets = targets or [(repo, []) for repo in all_repos]
        for dep_id, sha, _time in deps:
            for repo, _paths in targets:
                full = graph(repo).resolve(sha)
                if full:
                    dep_sha[dep_id] = (repo, full)
                    break
            else:
                result.unresolved_deployments.append(dep_id)
        for repo, paths in targets:
            g = graph(repo)
            repo_deps = [(d, dep_sha[d][1]) for d, _s, _t in deps if dep_sha.get(d, ("",))[0] == repo]
            _link_service(service, repo, paths, g, repo_deps, dc_rows, shipped)

    _store_full_shas(tx, by_service, dep_sha)
    result.deployment_changes = len(dc_rows["sha"])
    tx.replace_all("deployment_changes", dc_rows)

    inc_rows = _link_incidents(store, by_service, dep_sha, shipped, graphs)
    result.incident_links = len(inc_rows["incident_id"])
    tx.replace_all("incident_deployments", inc_rows)
    result.pull_request_commits = pr_commits.derive(store, tx, graph)
    return result


def _store_full_shas(tx: Writer, by_service: dict[str, list[tuple[str, str, datetime]]],
                     dep_sha: dict[str, tuple[str, str]]) -> None:
    """Deployments given an abbreviated sha keep the full one, so that every comparison of
    deployments by commit (the steps of a rollout, a redeploy) sees one commit as one value."""
    short = [(dep_id, dep_sha[dep_id][1]) for deps in by_service.values() for dep_id, sha, _t in deps
             if dep_id in dep_sha and dep_sha[dep_id][1] != sha]
    for start in range(0, len(short), 500):
        chunk = short[start:start + 500]
        values = ", ".join("(?, ?)" for _ in chunk)
        tx.execute(f"UPDATE deployments SET sha = v.full_sha FROM (VALUES {values}) AS v(dep_id, full_sha) "
                   "WHERE deployments.id = v.dep_id", [x for pair in chunk for x in pair])


def _link_service(service: str, repo: str, paths: list[str], g: Graph, deps: list[tuple[str, str]],
                  rows: dict[str, list], shipped: dict[tuple[str, str], str]) -> None:
    covered: set[str] = set()  # ancestor-closed: everything earlier deployments contain
    linked: set[str] = set()

    def belongs(sha: str) -> bool:
        return in_service((g.files or {}).get(sha, ()), paths)

    def add(dep_id: str, sha: str, baseline: bool, via: str) -> None:
        linked.add(sha)
        shipped.setdefault((repo, sha), dep_id)
        for key, value in (("deployment_id", dep_id), ("service", service), ("repo", repo),
                           ("sha", sha), ("baseline", baseline), ("via", via)):
            rows[key].append(value)

    for index, (dep_id, head) in enumerate(deps):
        baseline = index == 0
        stack = [head]
        new: list[str] = []
        while stack:
            sha = stack.pop()
            if sha in covered or sha not in g.parents:
                continue
            covered.add(sha)
            new.append(sha)
            stack.extend(g.parents[sha])
        for sha in new:
            if sha not in linked and belongs(sha):
                add(dep_id, sha, baseline, "ancestry")
        for sha in new:
            original = g.cherry_of.get(sha)
            full = g.resolve(original) if original else None
            if full and full not in linked and full not in covered and belongs(full):
                add(dep_id, full, baseline, "cherry-pick")


def _link_incidents(store: Store, by_service: dict[str, list[tuple[str, str, datetime]]],
                    dep_sha: dict[str, tuple[str, str]], shipped: dict[tuple[str, str], str],
                    graphs: dict[str, Graph]) -> dict[str, list]:
    rows: dict[str, list] = {"incident_id": [], "deployment_id": [], "via": []}
    times = {svc: [t for _d, _s, t in deps] for svc, deps in by_service.items()}
    by_sha: dict[str, list[str]] = defaultdict(list)
    for dep_id, (_repo, full) in dep_sha.items():
        by_sha[full].append(dep_id)
    for inc_id, service, started, cause in store.incidents_to_link():
        target, via = _named_cause(cause, dep_sha, by_sha, shipped, graphs)
        if target is None and service in by_service:
            i = bisect.bisect_right(times[service], started)
            if i > 0:
                target, via = by_service[service][i - 1][0], "latest-before"
        if target is not None:
            rows["incident_id"].append(inc_id)
            rows["deployment_id"].append(target)
            rows["via"].append(via)
    return rows


def _named_cause(cause: str | None, dep_sha: dict[str, tuple[str, str]], by_sha: dict[str, list[str]],
                 shipped: dict[tuple[str, str], str], graphs: dict[str, Graph]) -> tuple[str | None, str]:
    if not cause:
        return None, ""
    cause = cause.strip()
    if cause in dep_sha:
        return cause, "cause-deployment"
    lowered = cause.lower()
    for repo, g in graphs.items():
        full = g.resolve(lowered)
        if not full:
            continue
        if by_sha.get(full):
            return by_sha[full][0], "cause-sha"
        if (repo, full) in shipped:
            return shipped[(repo, full)], "cause-commit"
    return None, ""
