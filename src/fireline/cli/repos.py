"""`fireline ingest git` with several paths, or none (every `[repos.<name>]`): read in parallel."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import lazy, print_json, workspace

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..ingest import IngestResult, RepoOutcome
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")

# Exit code when at least one repository could not be read (the others were stored).
SOME_FAILED = 1


def ingest_many(db: str | None, config: Path | None, paths: list[Path] | None, deploy_tags: list[str] | None,
                jobs: int | None, quiet: bool, as_json: bool, report: Callable[[IngestResult, bool], None]) -> None:
    """Each repository is named on stderr as it is read (a progress bar on a terminal, a plain line
    otherwise, nothing with --quiet); one that fails is named with its path and the others are stored.
    Then one line per repository on stdout in the order given, or with --json one document."""
    err = terminal.console(stderr=True)
    bar = _Bar(err) if sys.stderr.isatty() and not quiet else None

    def done(outcome: RepoOutcome) -> None:
        if bar:
            bar.finished(outcome)
        if outcome.error is not None:
            err.print(f"[red]error:[/] {terminal.safe(outcome.error)}")
        elif not quiet and not bar and outcome.result is not None:
            state = "unchanged" if outcome.result.unchanged else "read"
            err.print(f"{state}: {terminal.safe(outcome.path)}", highlight=False)

    with workspace(db, config) as ws:
        progress = bar.commits_of if bar else None
        if bar:
            bar.start(len(paths) if paths else len(ws.config.repos))
        try:
            if paths is None:
                outcomes = ws.ingest_repos(deploy_tags=deploy_tags, progress=progress, on_done=done, jobs=jobs)
            else:
                outcomes = ws.ingest_paths(paths, deploy_tags=deploy_tags, progress=progress, on_done=done, jobs=jobs)
        finally:
            if bar:
                bar.stop()
    for outcome in outcomes:
        if outcome.result is not None:
            if as_json:
                for warning in outcome.result.warnings:
                    err.print(f"[yellow]warning:[/] {terminal.safe(warning)}")
            else:
                report(outcome.result, False)
    if as_json:
        print_json({"repositories": [o.as_dict() for o in outcomes]})
    if any(o.error is not None for o in outcomes):
        raise typer.Exit(SOME_FAILED)


class _Bar:
    """An overall bar of repositories and one bar of commits per repository being read."""

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress: Progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                           TimeRemainingColumn(), console=console, transient=True)
        self.tasks: dict[str, TaskID] = {}

    def start(self, total: int) -> None:
        self.repos = self.progress.add_task("repositories", total=total)
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def commits_of(self, name: str) -> Callable[[int, int], None]:
        task = self.tasks.setdefault(name, self.progress.add_task(f"  {name}", total=None))

        def update(n: int, total: int) -> None:
            self.progress.update(task, completed=n, total=total)

        return update

    def finished(self, outcome: RepoOutcome) -> None:
        self.progress.advance(self.repos)
        task = self.tasks.pop(outcome.name, None)
        if task is not None:
            self.progress.remove_task(task)
