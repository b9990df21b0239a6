"""The server keeps `[repos.<name>]` current: `git fetch` (when the repository has a remote), then an
incremental ingest, every `[server] sync_interval`, and at once when a GitHub or GitLab push webhook
names the repository (by its remote URL or its full name, `owner/name`).

Each repository is a job (jobs.py): one sync at a time per repository (also across the worker processes of
a server on PostgreSQL: a lock file in its git folder), a failing fetch or ingest is
logged, shown on /healthz and retried with back-off. The ingest holds the intake's write lock
(`exclusive`) and is one transaction, as `fireline ingest git` is.
"""

from __future__ import annotations

import fcntl
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .. import ingest
from ..config import Config
from ..store import Store
from .jobs import Jobs

log = logging.getLogger("fireline.server")
FETCH_TIMEOUT = 600  # seconds
KIND = "repository"
PUSH_KINDS = {"github": {"push"}, "gitlab": {"push", "tag_push"}}


class FetchFailed(Exception):
    pass


def _git(path: Path, *args: str, timeout: float = 60) -> str:
    run = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=timeout,
                         check=False, env=_git_env())
    if run.returncode != 0:
        raise FetchFailed(f"git {' '.join(args)}: {(run.stderr.strip().splitlines() or ['failed'])[-1]}")
    return run.stdout


def _git_env() -> dict[str, str]:
    import os

    # Never wait for a password on a terminal nobody watches.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true"}


def remote_urls(path: Path) -> list[str]:
    try:
        out = _git(path, "config", "--get-regexp", r"^remote\..*\.url$")
    except (FetchFailed, OSError, subprocess.SubprocessError):
        return []
    return [line.split(" ", 1)[1].strip() for line in out.splitlines() if " " in line]


def repo_key(url: str) -> str:
    """`owner/name` of a remote URL (https, ssh, scp-like), lower case, without `.git`."""
    text = url.strip().lower().removesuffix("/").removesuffix(".git")
    scheme = re.match(r"^[a-z][a-z0-9+.-]*://", text)
    if scheme:  # https://host:port/owner/name, ssh://user@host/owner/name: drop the host
        text = text[scheme.end():].split("/", 1)[-1] if "/" in text[scheme.end():] else ""
    elif re.match(r"^[^/]+:", text):  # scp-like user@host:owner/name
        text = text.split(":", 1)[1]
    else:  # a local path: its last two folders
        text = "/".join(text.split("/")[-2:])
    return "/".join(p for p in text.split("/") if p)


def payload_keys(source: str, payload: dict) -> set[str]:
    """The repository a push webhook is about, as `owner/name` keys."""
    keys: set[str] = set()
    blocks = [payload.get("repository"), payload.get("project")]
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for name in ("full_name", "path_with_namespace"):
            if isinstance(block.get(name), str):
                keys.add(block[name].strip().lower())
        for name in ("clone_url", "ssh_url", "git_url", "html_url", "url", "git_http_url", "git_ssh_url",
                     "web_url", "homepage"):
            if isinstance(block.get(name), str) and block[name].strip():
                keys.add(repo_key(block[name]))
    return {k for k in keys if "/" in k}


def sync_repo(name: str, config: Config, store_url: str,
              exclusive: Callable[[], AbstractContextManager[Any]]) -> ingest.IngestResult:
    """Fetch (if the repository has a remote), then ingest what is new; a failed fetch still ingests
    what is local, then raises so the job backs off and /healthz shows it."""
    path = config.repo_dir(name)
    failed: str | None = None
    with _one_at_a_time(path):
        if remote_urls(path):
            try:
                _git(path, "fetch", "--all", "--prune", "--tags", "--quiet", timeout=FETCH_TIMEOUT)
            except (FetchFailed, OSError, subprocess.SubprocessError) as exc:
                failed = f"git fetch failed in {path}: {exc}"
        with exclusive(), Store.open(store_url) as store:
            result = ingest.ingest_git(store, config, path)
    if not result.unchanged:
        log.info("repos.%s: %d new commits, %d new tag deployments", name, result.new_changes,
                 result.new_deployments)
    if failed:
        raise FetchFailed(failed)
    return result


@contextmanager
def _one_at_a_time(path: Path) -> Iterator[None]:
    """Hold a lock file in the repository's git folder: the workers of a server on PostgreSQL (each
    runs the jobs) sync a repository one after another; the later one finds it unchanged."""
    try:
        git_dir = Path(_git(path, "rev-parse", "--absolute-git-dir").strip())
    except (FetchFailed, OSError, subprocess.SubprocessError):
        yield  # not a repository: the ingest says so
        return
    with open(git_dir / "fireline-sync.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class RepoSync:
    """Registers a job per configured repository and starts the right one when a push names it."""

    def __init__(self, jobs: Jobs, config: Config, store_url: Callable[[], str],
                 exclusive: Callable[[], AbstractContextManager[Any]]) -> None:
        self.jobs = jobs
        self.keys: dict[str, str] = {}  # owner/name -> repository name
        interval = config.server.sync_interval
        for name in config.repos:
            self.jobs.add(f"sync {name}", interval, self._work(name, config, store_url, exclusive), kind=KIND,
                          key=name)
            for url in remote_urls(config.repo_dir(name)):
                self.keys[repo_key(url)] = name

    @staticmethod
    def _work(name: str, config: Config, store_url: Callable[[], str],
              exclusive: Callable[[], AbstractContextManager[Any]]) -> Callable[[], ingest.IngestResult]:
        return lambda: sync_repo(name, config, store_url(), exclusive)

    def on_push(self, source: str, kind: str, payload: dict) -> list[str]:
        """Start the sync of the repositories a push webhook names; their names."""
        if kind not in PUSH_KINDS.get(source, ()):
            return []
        names = sorted({self.keys[k] for k in payload_keys(source, payload) if k in self.keys})
        for name in names:
            self.jobs.run_now(f"sync {name}")
        return names
