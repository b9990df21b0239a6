"""`fireline knowledge`: truck factor, knowledge map, hotspots and docs beside code for one repository."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import ConfigOpt, DbOpt, JsonOpt, hidden_alias, lazy, print_json, workspace

if TYPE_CHECKING:
    from ..views import knowledge as knowledge_view
else:  # loaded when the command runs (see common.lazy)
    knowledge_view = lazy("fireline.views.knowledge")


class By(str, Enum):
    dir = "dir"
    service = "service"


def knowledge(
    path: Annotated[Path | None, typer.Argument(help="A git repository (not stored if the store lacks it). "
                                                "Default: every repository of the config ([repos], [services] "
                                                "repo; --team: its own), else the current folder (if it is "
                                                "no repository: the store's repositories).",
                                                show_default=False)] = None,
    team: Annotated[str | None, typer.Option("--team", help="Without PATH: only this team's configured "
                                             "repositories.")] = None,
    by: Annotated[By, typer.Option("--by", help="Group files by top-level directory or by service "
                                   "(the services' path globs from config).")] = By.dir,
    active_months: Annotated[int, typer.Option("--active-months", min=1, help="A developer is active when they "
                                               "committed in this many months before --at.")] = 6,
    at: Annotated[str | None, typer.Option("--at", help="Reference time for activity: a date (that whole day) or an "
                                           "ISO time in the configured zone (default: the newest commit, so the "
                                           "result does not depend on the clock).", show_default=False)] = None,
    now: Annotated[str | None, hidden_alias("--now")] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many hotspots to list.")] = 10,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or progress lines.")] = False,
) -> None:
    """Truck factor (Avelino et al. 2016), who knows what, orphaned code, hotspots, stale docs.

    With PATH, one repository (`--json`: its report). Without, every configured repository, or the
    team's with --team (`--json`: `{"repositories": [...]}`); with none configured, the current folder, or
    when it is no git repository, every repository the store holds."""
    from ..errors import UserError
    from ..sources import git
    from .progress import reporter

    if path is not None:
        if team is not None:
            raise UserError("applies without PATH (the team's configured repositories)", field="team")
        git.open_repo(path)  # a mistyped path fails before a store is created
    # --now was read in UTC where every other command reads the configured zone.
    with workspace(db, config, at, now=now) as ws, reporter(quiet) as steps:
        # Without PATH: the configured repositories; with none, the current folder, unless it is no repository
        # and the store holds some (ingested first, asked from elsewhere).
        if path is None and (team is not None or ws.config.repository_dirs()
                             or (not git.is_repo(Path(".")) and ws.repository_dirs())):
            reports = [r.to_dict() for r in ws.knowledge_repos(team=team, by=by.value, active_months=active_months,
                                                               top=top, steps=steps)]
            if as_json:
                print_json({"repositories": reports})
            else:
                for report in reports:
                    knowledge_view.render(report)
            return
        report = ws.knowledge(path or Path("."), by=by.value, active_months=active_months, top=top,
                              steps=steps).to_dict()
    if as_json:
        print_json(report)
        return
    knowledge_view.render(report)
