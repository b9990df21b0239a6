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
from collections.abc import Collection
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


def relink(store: Store, tx: Writer, production: list[str], *, repos: Collection[str] | None = None,
           services: Collection[str] | None = None) -> LinkResult:
    """Rewrite the commit links of the services whose data changed, and every incident link.

    With neither `repos` nor `services`, every service is relinked (`fireline rebuild`). Otherwise
    only the services given, those whose commits may lie in one of `repos` (by today's mapping, or by
    the links they have now) and those that name no repository of their own: a service's links depend
    only on its deployments and its repositories' commits, so the others' links are already what a
    full relink would write. Incident links are small and are rewritten whole from the store.
    """
    # Two relinks at once on a shared PostgreSQL store would each write from its own snapshot and
    # the last would lose the other's links. Waiting here makes every relink read what all earlier
    # ones committed.
    tx.lock("relink")
    result = LinkResult()
    deployments = counted_deployments(store, production)
    services_by_repo = store.repo_services()
    repos_of_service: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for repo, svcs in services_by_repo.items():
        for svc in svcs:
            repos_of_service[svc["name"]].append((repo, svc.get("paths") or []))

    by_service: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for dep_id, service, sha, time in deployments:
        by_service[service].append((dep_id, sha, time))

    # Repositories known only from webhook pushes have commits but no `repos` row.
    all_repos = sorted(store.repos_with_changes() | set(services_by_repo))

    def targets_of(service: str) -> list[tuple[str, list[str]]]:
        targets = repos_of_service.get(service)
        if not targets and service in all_repos:
            targets = [(service, [])]  # a service named after its repository, as webhooks name them
        return targets or [(repo, []) for repo in all_repos]

    targets = {service: targets_of(service) for service in by_service}
    if repos is None and services is None:
        changed = set(by_service)
    else:
        touched = set(repos or ())
        changed = set(services or ()) | store.services_linked_in(sorted(touched))
        changed |= {s for s, ts in targets.items() if any(r in touched for r, _p in ts)}

    graphs: dict[str, Graph] = {}

    def graph(repo: str) -> Graph:
        if repo not in graphs:
            needs_files = any(s.get("paths") for s in services_by_repo.get(repo, []))
            graphs[repo] = _load_graph(store, repo, needs_files)
        return graphs[repo]

    dc_rows: dict[str, list] = {k: [] for k in ("deployment_id", "service", "repo", "sha", "baseline", "via")}
    dep_sha: dict[str, tuple[str, str]] = {}  # deployment id -> (repo, full sha)
    for service, deps in by_service.items():
        if service not in changed:
            continue
        for dep_id, sha, _time in deps:
            for repo, _paths in targets[service]:
                full = graph(repo).resolve(sha)
                if full:
                    dep_sha[dep_id] = (repo, full)
                    break
        for repo, paths in targets[service]:
            repo_deps = [(d, dep_sha[d][1]) for d, _s, _t in deps if dep_sha.get(d, ("",))[0] == repo]
            _link_service(service, repo, paths, graph(repo), repo_deps, dc_rows)

    _store_full_shas(tx, by_service, dep_sha)
    result.deployment_changes = len(dc_rows["sha"])
    if repos is None and services is None:
        tx.replace_all("deployment_changes", dc_rows)
    else:
        tx.delete_links_of(sorted(changed))
        tx.insert("deployment_changes", dc_rows)

    # The others' deployments were resolved by an earlier relink, which stored their full shas.
    unchanged = [s for s in by_service if s not in changed]
    present = store.deployed_commits() if unchanged else set()
    for service in unchanged:
        for dep_id, sha, _time in by_service[service]:
            found = next((r for r, _p in targets[service] if (r, sha) in present), None)
            if found is not None:
                dep_sha[dep_id] = (found, sha)
    result.unresolved_deployments = [d for deps in by_service.values() for d, _s, _t in deps if d not in dep_sha]

    # The repositories a cause is looked up in, in the order a full relink has always used.
    cause_repos = list(dict.fromkeys(r for s in by_service for r, _p in targets[s]))
    inc_rows = _link_incidents(store, by_service, dep_sha, cause_repos)
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
                  rows: dict[str, list]) -> None:
    covered: set[str] = set()  # ancestor-closed: everything earlier deployments contain
    linked: set[str] = set()

    def belongs(sha: str) -> bool:
        return in_service((g.files or {}).get(sha, ()), paths)

    def add(dep_id: str, sha: str, baseline: bool, via: str) -> None:
        linked.add(sha)
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
                    dep_sha: dict[str, tuple[str, str]], cause_repos: list[str]) -> dict[str, list]:
    rows: dict[str, list] = {"incident_id": [], "deployment_id": [], "via": []}
    times = {svc: [t for _d, _s, t in deps] for svc, deps in by_service.items()}
    by_sha: dict[str, list[str]] = defaultdict(list)
    for deps in by_service.values():  # in the order of a full relink, whichever services changed
        for dep_id, _sha, _time in deps:
            if dep_id in dep_sha:
                by_sha[dep_sha[dep_id][1]].append(dep_id)
    rank = {service: i for i, service in enumerate(by_service)}
    for inc_id, service, started, cause in store.incidents_to_link():
        target, via = _named_cause(store, cause, dep_sha, by_sha, rank, cause_repos)
        if target is None and service in by_service:
            i = bisect.bisect_right(times[service], started)
            if i > 0:
                target, via = by_service[service][i - 1][0], "latest-before"
        if target is not None:
            rows["incident_id"].append(inc_id)
            rows["deployment_id"].append(target)
            rows["via"].append(via)
    return rows


def _resolve_in(matches: list[str], sha: str) -> str | None:
    """`Graph.resolve` over the shas of one repository that start with `sha`."""
    if sha in matches:
        return sha
    return matches[0] if len(sha) < 40 and len(matches) == 1 else None


def _named_cause(store: Store, cause: str | None, dep_sha: dict[str, tuple[str, str]],
                 by_sha: dict[str, list[str]], rank: dict[str, int],
                 cause_repos: list[str]) -> tuple[str | None, str]:
    if not cause or not cause.strip():
        return None, ""
    cause = cause.strip()
    if cause in dep_sha:
        return cause, "cause-deployment"
    lowered = cause.lower()
    matches: dict[str, list[str]] = defaultdict(list)
    for repo, sha in store.commits_with_prefix(lowered):
        matches[repo].append(sha)
    for repo in cause_repos:
        full = _resolve_in(matches.get(repo, []), lowered)
        if not full:
            continue
        if by_sha.get(full):
            return by_sha[full][0], "cause-sha"
        # The commit's first shipping, as a full relink meets them: services in order of first deployment.
        links = [(rank.get(s, len(rank)), d) for r, sha, s, d in store.links_of_commits([full]) if r == repo]
        if links:
            return min(links)[1], "cause-commit"
    return None, ""
