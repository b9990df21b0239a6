"""The worker's side of a repository's git pass: git only, no store, so a worker process starts
without the store's engines (Ibis, DuckDB, pyarrow). `gitpass` plans and writes around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .config import tag_patterns
from .model import Change, Deployment
from .sources import git
from .window import as_utc

if TYPE_CHECKING:
    from .store import Writer

Patterns = str | list[str] | tuple[str, ...]
Progress = Callable[[int, int], None]  # (done, total)


def offset_minutes(dt: datetime) -> int:
    offset = dt.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


class ChangeColumns:
    """Column buffers, so a 100k-commit pass never holds 100k dicts."""

    def __init__(self, origin: str = "git") -> None:
        self.origin = origin
        self._reset()

    def __len__(self) -> int:
        return len(self.changes["sha"])

    def flush(self, tx: Writer) -> int:
        """Write what is buffered; returns how many commits that was."""
        n = len(self)
        if n:
            tx.insert("changes", self.changes)
            tx.insert("change_files", self.files)
            self._reset()
        return n

    def _reset(self) -> None:
        self.changes: dict[str, list] = {k: [] for k in (
            "repo", "sha", "parents", "author_name", "author_email", "author_time", "author_offset",
            "committer_name", "committer_email", "committer_time", "committer_offset", "subject",
            "message", "files_changed", "lines_added", "lines_removed", "origin")}
        self.files: dict[str, list] = {k: [] for k in ("repo", "sha", "path", "old_path", "added", "removed")}

    def add(self, c: Change) -> None:
        ch = self.changes
        ch["repo"].append(c.repo)
        ch["sha"].append(c.sha)
        ch["parents"].append(" ".join(c.parents))
        ch["author_name"].append(c.author_name)
        ch["author_email"].append(c.author_email)
        ch["author_time"].append(as_utc(c.author_time))
        ch["author_offset"].append(offset_minutes(c.author_time))
        ch["committer_name"].append(c.committer_name)
        ch["committer_email"].append(c.committer_email)
        ch["committer_time"].append(as_utc(c.committer_time))
        ch["committer_offset"].append(offset_minutes(c.committer_time))
        ch["subject"].append(c.subject)
        ch["message"].append(c.message)
        ch["files_changed"].append(len(c.files))
        ch["lines_added"].append(sum(f.added or 0 for f in c.files))
        ch["lines_removed"].append(sum(f.removed or 0 for f in c.files))
        ch["origin"].append(self.origin)
        fl = self.files
        for f in c.files:
            fl["repo"].append(c.repo)
            fl["sha"].append(c.sha)
            fl["path"].append(f.path)
            fl["old_path"].append(f.old_path)
            fl["added"].append(f.added)
            fl["removed"].append(f.removed)


@dataclass
class IngestResult:
    source: str
    kind: str  # git, deployments, incidents or alerts
    new_changes: int = 0
    new_deployments: int = 0
    new_incidents: int = 0
    new_alerts: int = 0
    new_flags: int = 0
    skipped: int = 0
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)
    unresolved_deployments: list[str] = field(default_factory=list)
    # Tag deployments that no longer match the pattern (or became another's alias): re-derived away.
    removed_deployments: int = 0

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class RepoPlan:
    """What a repository's pass must read, decided from the store before git is read."""

    info: git.RepoInfo
    tips: dict[str, str]
    services: list[dict]
    exclude: list[str]
    known: set[str]  # commits already stored from git: skipped
    inferred: set[str]  # commits first seen in webhooks (inferred parents): replaced by the git pass
    result: IngestResult


@dataclass
class RepoRead:
    """A repository read by a worker: its new commits in batches and its tag deployments."""

    plan: RepoPlan
    batches: list[ChangeColumns]
    deployments: list[Deployment]


def iter_batches(plan: RepoPlan, batch: int, progress: Progress | None = None) -> Iterator[ChangeColumns]:
    """The new commits in column batches of at most `batch` commits."""
    info = plan.info
    # Counting costs a second walk of the history: only worth it for a progress bar.
    total = git.count_commits(info.path, set(plan.tips.values()), plan.exclude) if progress else 0
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)

    columns = ChangeColumns()
    for change in git.iter_changes(info, set(plan.tips.values()), plan.exclude, on_commit=tick):
        if change.sha in plan.known:
            continue
        columns.add(change)
        if len(columns) >= batch:
            yield columns
            columns = ChangeColumns()
    if progress:
        progress(total, total)
    yield columns


def tag_deployments(info: git.RepoInfo, services: list[dict]) -> list[Deployment]:
    """One deployment per service and tagged commit. Several matching tags on one commit (a release
    tagged twice, `v3.14.0` and `v0.314.0`) are one deployment, named after and timed by the earliest
    tag with a time of its own; the others are its aliases. A commit with only lightweight tags gets
    its committer time, marked as inferred."""
    found = []
    for svc in services:
        patterns = tag_patterns(svc.get("deploy_tags"))
        if not patterns:
            continue
        by_commit: dict[str, list[git.Tag]] = {}
        for tag in git.list_tags(info, patterns):
            by_commit.setdefault(tag.sha, []).append(tag)
        for sha, tags in by_commit.items():
            first = min([t for t in tags if not t.inferred] or tags, key=lambda t: (t.time, t.name))
            aliases = [t.name for t in tags if t is not first]
            found.append(Deployment(
                id=f"tag:{info.name}:{first.name}" + ("" if len(services) == 1 else f":{svc['name']}"),
                service=svc["name"], environment="production", sha=sha, time=first.time,
                status="success", source="tag", ref=first.name, repo=info.name,
                time_inferred=first.inferred, aliases=", ".join(aliases) or None,
            ))
    return found


_progress_queue: Any = None  # set in each worker by start_worker


def start_worker(progress_queue: Any) -> None:
    global _progress_queue
    _progress_queue = progress_queue


def read_repo(plan: RepoPlan, batch: int, counted: bool) -> RepoRead:
    """A worker's job: git only, no store. Progress goes back through the queue the pool was given."""
    name = plan.info.name

    def report(done: int, total: int) -> None:
        if _progress_queue is not None:
            _progress_queue.put((name, done, total))

    batches = list(iter_batches(plan, batch, report if counted else None))
    return RepoRead(plan, batches, tag_deployments(plan.info, plan.services))
