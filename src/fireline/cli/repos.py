"""`fireline ingest git` without a path: every repository of `[repos.<name>]`, one after another."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import lazy, print_json, workspace

if TYPE_CHECKING:
    from ..ingest import IngestResult, RepoOutcome
    from ..views import terminal
    from ..workspace import Workspace
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")


def ingest_configured(db: str | None, config: Path | None, deploy_tags: list[str] | None, as_json: bool,
                      report: Callable[[IngestResult, bool], None]) -> None:
    """Each repository all or nothing: one that fails is named on stderr and the others are read
    (exit 2 at the end). A progress bar on a terminal; otherwise one line per repository as it
    finishes, and with --json nothing on stdout but the JSON."""
    err = terminal.console(stderr=True)
    failed = False

    def done(outcome: RepoOutcome) -> None:
        nonlocal failed
        if outcome.error is not None:
            failed = True
            err.print(f"[red]error:[/] {terminal.safe(outcome.error)}")
        elif outcome.result is not None:
            if as_json:
                for warning in outcome.result.warnings:
                    err.print(f"[yellow]warning:[/] {terminal.safe(warning)}")
            else:
                report(outcome.result, False)

    with workspace(db, config) as ws:
        if sys.stderr.isatty():
            outcomes = _with_progress_bar(ws, deploy_tags, done)
        else:
            outcomes = ws.ingest_repos(deploy_tags=deploy_tags, on_done=done)
    if as_json:
        print_json({"repositories": [o.as_dict() for o in outcomes]})
    if failed:
        raise typer.Exit(2)


def _with_progress_bar(ws: Workspace, deploy_tags: list[str] | None,
                       done: Callable[[RepoOutcome], None]) -> list[RepoOutcome]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=terminal.console(stderr=True), transient=True)
    repos = progress.add_task("repositories", total=len(ws.config.repos))
    commits = progress.add_task("commits", total=None)

    def commits_of(name: str) -> Callable[[int, int], None]:
        progress.update(commits, description=f"reading {name}", completed=0, total=None)

        def update(n: int, total: int) -> None:
            progress.update(commits, completed=n, total=total)

        return update

    def finished(outcome: RepoOutcome) -> None:
        progress.advance(repos)
        done(outcome)

    with progress:
        return ws.ingest_repos(deploy_tags=deploy_tags, progress=commits_of, on_done=finished)
