"""One repository's git pass in three steps: plan (reads the store), read (git only, so it can run in
a worker process) and write (inside the caller's transaction). `ingest.ingest_git` streams one
repository through them; `ingest.ingest_paths` reads many in parallel worker processes and writes
them from one process, then links once.
"""

from __future__ import annotations

import os
import queue as queue_module
import re
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from .columns import ChangeColumns, record_columns
from .config import Config, tag_patterns
from .errors import UserError
from .gitread import (
    IngestResult,
    Patterns,
    Progress,
    RepoPlan,
    RepoRead,
    iter_batches,
    read_repo,
    start_worker,
    tag_deployments,
)
from .model import Deployment
from .sources import git
from .store import Store, Writer

__all__ = ["IngestResult", "Patterns", "Progress", "RepoPlan", "RepoRead", "finish_repo", "iter_batches", "plan_repo",
           "read_in_parallel", "replace_tag_deployments", "services_for_repo", "tag_deployments", "write_batch"]


def services_for_repo(config: Config, info: git.RepoInfo, service: str | None, deploy_tags: Patterns | None,
                      previous: list[dict] | None = None) -> list[dict]:
    """The services a repository ships and each one's tag patterns.

    Patterns: the ones given now, else the service's in config, else its `[repos]` entry's, else the
    config's default, else those of the last ingest (so a scheduled re-run without the option keeps
    them). Services: the one given now, else those config names, else those of the last ingest.
    """
    given = tag_patterns(deploy_tags)
    entry = config.repo_entry(info.path)
    repo_tags = entry[1].deploy_tags if entry else None
    before = {s["name"]: s for s in previous or []}

    def patterns(name: str, own: list[str] | None, explicit: list[str] | None) -> list[str] | None:
        last = tag_patterns(before[name].get("deploy_tags")) if name in before else None
        return explicit or own or repo_tags or config.deploy_tags or last

    configured = config.services_in_repo(info.path)
    if service:
        svc = configured.get(service)
        return [{"name": service, "paths": svc.paths if svc else [],
                 "deploy_tags": patterns(service, svc.deploy_tags if svc else None, given)}]
    if configured:
        return [{"name": n, "paths": s.paths, "deploy_tags": patterns(n, s.deploy_tags,
                                                                      given if len(configured) == 1 else None)}
                for n, s in configured.items()]
    if before:
        return [{"name": n, "paths": s.get("paths") or [], "deploy_tags": patterns(n, None,
                                                                                   given if len(before) == 1 else None)}
                for n, s in before.items()]
    return [{"name": info.name, "paths": [], "deploy_tags": patterns(info.name, None, given)}]


def plan_repo(store: Store, config: Config, path: str | Path, *, service: str | None = None,
              deploy_tags: Patterns | None = None) -> RepoPlan:
    info = git.open_repo(path)
    result = IngestResult(source=str(info.path), kind="git")
    if info.shallow:
        result.warnings.append(f"{info.path}: shallow clone: history is truncated, so lead times "
                               "of the oldest commits may be too short")
    tips = git.list_tips(info.path)
    state = store.repo_state(info.name)
    if state and Path(state.path) != info.path:
        raise UserError(f"a different repository named {info.name!r} is already in the store "
                        f"({state.path})", where=str(info.path))
    previous_services = store.repo_services().get(info.name)
    services = services_for_repo(config, info, service, deploy_tags, previous_services)
    plan = RepoPlan(info, tips, services, [], set(), set(), result)
    if state and state.tips == tips and previous_services == services:
        result.unchanged = True
        return plan
    plan.exclude = git.existing_commits(info.path, set(state.tips.values())) if state else []
    plan.known = store.known_shas(info.name, origin="git") if state else set()
    plan.inferred = store.known_shas(info.name) - plan.known
    return plan


def write_batch(tx: Writer, plan: RepoPlan, columns: ChangeColumns) -> None:
    """Write one batch, replacing the webhook-inferred rows of the same commits."""
    tx.delete_commits(plan.info.name, [sha for sha in columns.changes["sha"] if sha in plan.inferred])
    plan.result.new_changes += columns.flush(tx)


def finish_repo(store: Store, tx: Writer, plan: RepoPlan, deployments: list[Deployment]) -> None:
    """After the commits: the tag deployments and the repository's new state."""
    info = plan.info
    plan.result.new_deployments, plan.result.removed_deployments = replace_tag_deployments(
        store, tx, info.name, deployments)
    plan.result.warnings += unmatched_tag_warnings(plan, deployments)
    tx.put_repo(info.name, str(info.path), plan.tips, plan.services, info.shallow)


def unmatched_tag_warnings(plan: RepoPlan, deployments: list[Deployment]) -> list[str]:
    """A pattern that matches none of a repository's tags stores no deployment and every figure is
    unknown: say so with tags it could have meant (pallets/flask tags `3.1.2`, not `v3.1.2`)."""
    tags = [ref.removeprefix("refs/tags/") for ref in plan.tips if ref.startswith("refs/tags/")]
    deployed = {d.service for d in deployments}
    unmatched = {", ".join(patterns) for svc in plan.services
                 if (patterns := tag_patterns(svc.get("deploy_tags"))) and svc["name"] not in deployed}
    if not tags or not unmatched:
        return []
    newest = sorted(tags, key=lambda t: [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", t)])
    examples = ", ".join(reversed(newest[-3:]))
    return [f"{plan.info.path}: none of the {len(tags)} tags matches {patterns}, so no deployment was "
            f"taken from tags (tags here look like {examples}; set --deploy-tags or deploy_tags)"
            for patterns in sorted(unmatched)]


def replace_tag_deployments(store: Store, tx: Writer, repo: str, found: list[Deployment]) -> tuple[int, int]:
    """Make `repo`'s tag deployments exactly `found` (the current pattern's); returns (added, removed).
    A deployment that stays keeps its id, so incidents naming it still link to it."""
    stored = {row["id"]: Deployment(**row) for row in store.tag_deployments(repo)}
    wanted = {d.id: d for d in found}
    stale = [i for i, d in stored.items() if wanted.get(i) != d]
    tx.delete_ids("deployments", stale)
    tx.insert("deployments", record_columns("deployments", [d for i, d in wanted.items() if stored.get(i) != d]))
    return len(wanted.keys() - stored.keys()), len(stored.keys() - wanted.keys())


# ---- reading many repositories in worker processes ------------------------------------------

def read_in_parallel(plans: list[RepoPlan], jobs: int, batch: int, progress: Callable[[str, int, int], None] | None
                     ) -> Iterator[tuple[RepoPlan, RepoRead | None, str | None]]:
    """(plan, what was read, error) for each plan as its worker finishes, `jobs` processes at a time.
    Progress messages are handed to `progress` in this (the writer's) process."""
    # forkserver: workers start from a clean process, never a fork of one holding a store's threads.
    ctx = get_context("forkserver" if os.name == "posix" else "spawn")
    messages = ctx.Queue() if progress else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=start_worker,
                             initargs=(messages,)) as pool:
        pending: dict[Future, RepoPlan] = {pool.submit(read_repo, p, batch, progress is not None): p for p in plans}

        def drain() -> None:
            while messages is not None and progress is not None:
                try:
                    progress(*messages.get_nowait())
                except queue_module.Empty:
                    return

        while pending:
            done, _rest = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            drain()
            for future in done:
                plan = pending.pop(future)
                try:
                    yield plan, future.result(), None
                except UserError as exc:
                    yield plan, None, str(exc)
                except BrokenProcessPool:
                    # Most often a script without `if __name__ == "__main__":`, which each worker re-runs.
                    yield plan, None, ("a worker process ended abruptly (a script calling this needs "
                                       "`if __name__ == \"__main__\":`; or run with jobs=1)")
                except Exception as exc:  # git output a worker could not parse
                    yield plan, None, f"{type(exc).__name__}: {exc}"
        drain()
