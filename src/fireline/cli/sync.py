"""`fireline sync github|gitlab|pagerduty`: history from the APIs a team already uses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from .common import ConfigOpt, DbOpt, JsonOpt, lazy, print_json, workspace

if TYPE_CHECKING:
    from ..sync.run import SyncResult
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")

sync_app = typer.Typer(
    help="Pull deployments, pull/merge requests, incidents and releases from GitHub, GitLab and PagerDuty.\n\n"
    "What is pulled is stored as the raw webhook events the service would have sent and normalised by the "
    "same code, so a deployment seen by webhook and by sync is one record and `fireline rebuild` rebuilds it. "
    "Each repository's streams keep a cursor in the store: the next sync asks only for what changed, and an "
    "interrupted sync resumes at its last complete page. A wrong token or a missing repository: exit 2 with "
    "the provider's message (what was synced before stays).",
    no_args_is_help=True, rich_markup_mode="markdown")

SyncSinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Pull what changed since this date or ISO time (configured zone), instead of since the last "
                    "sync (each stream's cursor).", show_default=False)]


@sync_app.command("github")
def github(repos: Annotated[list[str] | None, typer.Argument(
               help="OWNER/REPO, one or more (default: every `[repos.<name>] github` in config).",
               show_default=False)] = None,
           since: SyncSinceOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Deployments and their statuses, releases, pull requests with commits and reviews, and issues with the
    incident label. Token from GITHUB_TOKEN (`[sync.github] token_env`); GitHub Enterprise: `[sync.github]
    base_url`."""
    _sync("github", repos or [], since, db, config, as_json)


@sync_app.command("gitlab")
def gitlab(projects: Annotated[list[str] | None, typer.Argument(
               help="GROUP/PROJECT, one or more (default: every `[repos.<name>] gitlab` in config).",
               show_default=False)] = None,
           since: SyncSinceOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Deployments, merge requests with approvals, notes and commits, and incidents (issues of type incident or
    with the incident label). Token from GITLAB_TOKEN; self-managed: `[sync.gitlab] base_url`."""
    _sync("gitlab", projects or [], since, db, config, as_json)


@sync_app.command("pagerduty")
def pagerduty(services: Annotated[list[str] | None, typer.Option(
                  "--service", help="A PagerDuty service id; repeat for several (default: the ids of "
                  "`[sync.pagerduty] services`, else every service).", show_default=False)] = None,
              since: SyncSinceOpt = None, db: DbOpt = None, config: ConfigOpt = None,
              as_json: JsonOpt = False) -> None:
    """Incidents with their log entries (triggered, acknowledged, resolved), each PagerDuty service named as
    the Fireline service of `[sync.pagerduty] services`. Token from PAGERDUTY_TOKEN."""
    _sync("pagerduty", services or [], since, db, config, as_json)


def _sync(source: str, targets: list[str], since: str | None, db: str | None, config, as_json: bool) -> None:
    err = terminal.console(stderr=True)
    with workspace(db, config) as ws:
        if sys.stderr.isatty() and not as_json:
            result = _with_progress_bar(source, lambda progress: ws.sync(source, targets, since=since,
                                                                           progress=progress))
        else:
            def line(stream: str, pages: int) -> None:
                if not as_json:
                    err.print(f"{source}: {terminal.safe(stream)}: page {pages}", highlight=False)

            result = ws.sync(source, targets, since=since, progress=line)
    if as_json:
        print_json(result.as_dict())
        return
    _report(result)


def _with_progress_bar(source: str, work: Callable[[Callable[[str, int], None]], SyncResult]) -> SyncResult:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} pages"),
                        console=terminal.console(stderr=True), transient=True)
    task = progress.add_task(source, total=None)

    def update(stream: str, pages: int) -> None:
        progress.update(task, description=f"{source}: {terminal.safe(stream)}", completed=pages)

    with progress:
        return work(update)


def _report(result: SyncResult) -> None:
    out = terminal.console()
    data = result.as_dict()
    kinds = ", ".join(f"{v['new']} new of {v['fetched']} {k}" for k, v in data["events"].items()) or "nothing new"
    targets = terminal.safe(", ".join(result.targets)) or "all services"
    out.print(f"{result.source}: {targets}: {kinds}", highlight=False)
    out.print(f"[dim]{data['requests']} requests, {data['pages']} pages, {data['not_modified']} unchanged (304), "
              f"{data['retries']} waits[/]")
