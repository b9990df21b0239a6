"""`fireline postmortem new|lint|repeats`, `fireline actions`, `fireline followup`, `fireline ingest postmortems`."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UserError
from .common import (
    AtOpt,
    ConfigOpt,
    DbOpt,
    FindingsFormat,
    JsonOpt,
    TeamOpt,
    config_of,
    hidden_alias,
    lazy,
    print_json,
    workspace,
)

if TYPE_CHECKING:
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")

postmortem_app = typer.Typer(
    help="Postmortems as code: Markdown files with YAML front matter (default folder `postmortems/`).\n\n"
    "Write one with `fireline postmortem new --incident ID`, check it with `fireline postmortem lint`, "
    "store it with `fireline ingest postmortems`, then follow its action items with `fireline actions` "
    "and `fireline followup`.",
    no_args_is_help=True, rich_markup_mode="markdown")


class FailOn(str, Enum):
    error = "error"
    warning = "warning"


TodayOpt = Annotated[str | None, hidden_alias("--today")]


@postmortem_app.command("new")
def postmortem_new(
    incident: Annotated[str, typer.Option("--incident", help="The incident's id in the store, e.g. INC-0042.")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to write it (default: [postmortems] "
                                                   "folder, `postmortems/` next to the config).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Write a postmortem prefilled from an incident (times, service, severity, detection) with the SRE book's
    sections. Prints the path. The file lints clean except for its empty action items: add them."""
    from ..metrics.arrow_times import python_rows
    from ..postmortems import settings, template

    with workspace(db, config) as ws:
        cfg, store = ws.config, ws.existing_store()
        t = store.table("incidents")
        rows = python_rows(t.filter(t.id == incident).to_pyarrow())
        if not rows:
            from ..sources.postmortems import closest

            ids = sorted(store.incident_ids())
            near = closest(incident, ids)
            hint = f"; did you mean {near!r}?" if near else ("; ingest incidents first (fireline ingest incidents)"
                                                             if not ids else "")
            raise UserError(f"no incident {incident!r} in the store{hint}", where="--incident")
    row = rows[0]
    folder = directory if directory is not None else settings.folder(cfg)
    path = template.write(folder / template.file_name(row, cfg.timezone),
                          template.render(row, cfg.timezone, cfg.team_of(row["service"])), force=force)
    if as_json:
        print_json({"path": str(path), "id": template.postmortem_id(row["id"]), "incident": row["id"]})
        return
    sys.stdout.write(f"{path}\n")
    terminal.console(stderr=True).print(f"[dim]Fill in the sections and the action items, then: fireline postmortem "
                                        f"lint {path}[/]", soft_wrap=True)


@postmortem_app.command("lint")
def postmortem_lint(
    paths: Annotated[list[Path] | None, typer.Argument(help="Postmortem files or folders (*.md; default: the "
                                                       "[postmortems] folder).", show_default=False)] = None,
    fmt: Annotated[FindingsFormat, typer.Option("--format", help="text for people, json for scripts, sarif for GitHub "
                                        "code scanning.")] = FindingsFormat.text,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on findings at or above this.")] =
    FailOn.error,
    db: Annotated[str | None, typer.Option("--db", help="Also check that referenced incidents exist in this store "
                                           "(when it holds any).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Check postmortems: every action item says WHO does WHAT by WHEN, owners exist, dates are dates, done items
    have done_on, metrics are DORA metrics. Exit 1 on error findings (see --fail-on), 2 on usage errors."""
    from ..postmortems import lint, settings
    from ..postmortems.ingest import store_incident_ids
    from ..views import findings as findings_view

    cfg = config_of(config)
    targets = list(paths or [settings.folder(cfg)])
    for path in targets:
        if not path.exists():
            raise UserError("no such file or folder", where=str(path))
    known = None
    if db:
        with workspace(db, config) as ws:
            known = store_incident_ids(ws.existing_store())
    result = lint.lint_paths(targets, cfg, known)
    found = result.findings
    if fmt is FindingsFormat.sarif:
        text = findings_view.render_sarif(found, lint.CHECKS.values())
    elif fmt is FindingsFormat.json:
        text = findings_view.render_json(found)
    else:
        text = findings_view.render_text(found).rstrip("\n") + f" in {len(result.docs)} postmortem files\n"
    sys.stdout.write(text.rstrip("\n") + "\n")
    raise typer.Exit(findings_view.exit_code(found, fail_on.value))


@postmortem_app.command("repeats")
def postmortem_repeats(
    window_days: Annotated[int | None, typer.Option("--window-days", help="Same service and cause tag within this "
                                                    "many days is a repeat (default: [postmortems] "
                                                    "repeat_window_days, 90).", min=1, max=3650)] = None,
    team: TeamOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Repeat incidents: the same service and cause tag (postmortem `tags`) again within the window, and whether
    the earlier postmortem's action items were done before it happened."""
    from ..metrics.repeats import repeat_incidents
    from ..postmortems import settings

    with workspace(db, config) as ws:
        cfg = ws.config
        window = window_days or settings.of(cfg).repeat_window_days
        services = set(cfg.services_of_team(team)) if team else None
        rows = repeat_incidents(ws.tables(), window_days=window, tz=cfg.timezone)
    if services is not None:
        rows = [r for r in rows if r["service"] in services]
    if as_json:
        print_json({"window_days": window, "repeats": rows})
        return
    from ..views import postmortems as render

    render.repeats(rows, window, terminal.console())


def actions(
    team: Annotated[str | None, typer.Option("--team", help="Only items owned by this team (or its people).")] =
    None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only items of this owner (a person or a team).")] =
    None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past their due date.")] = False,
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write the due dates to this iCalendar file.")] =
    None,
    at: AtOpt = None, today: TodayOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Open postmortem action items by team and owner, overdue first, with days late."""
    with workspace(db, config, at, today=today) as ws:
        day = ws.today()
        report = ws.actions(team=team, owner=owner, overdue=overdue).to_dict()
    if ics is not None:
        from ..postmortems import ics as ics_lib

        written = ics_lib.write(ics, report["items"], day)
        report["ics"] = {"path": str(ics), "events": written}
    if as_json:
        print_json(report)
        return
    from ..views import postmortems as render

    out = terminal.console()
    render.actions(report, out)
    if ics is not None:
        out.print(f"Wrote {report['ics']['events']} due dates to {ics}.")


def followup(
    weeks: Annotated[int | None, typer.Option("--weeks", help="Weeks before and after done_on (default: "
                                              "[postmortems] followup_weeks, 8).", min=1, max=104)] = None,
    team: TeamOpt = None, at: AtOpt = None, today: TodayOpt = None, db: DbOpt = None, config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Did it work? For each done long-term action item with a dora_metric: the team's metric N weeks before and
    after done_on, the change, a 95% bootstrap interval and a verdict (improved, no clear change, worse, too little
    data), with the sample sizes."""
    with workspace(db, config, at, today=today) as ws:
        data = ws.followup(team=team, weeks=weeks).to_dict()
    if as_json:
        print_json(data)
        return
    from ..views import postmortems as render

    render.followup(data["items"], terminal.console())


def ingest_postmortems(
    paths: Annotated[list[Path] | None, typer.Argument(help="Postmortem files or folders (default: the "
                                                       "[postmortems] folder).", show_default=False)] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Store postmortems and their action items (replacing what these files stored before), in one transaction.
    Refuses, writing nothing, while `fireline postmortem lint` reports errors."""
    from ..postmortems.ingest import default_paths
    from ..postmortems.ingest import ingest_postmortems as ingest_lib

    with workspace(db, config) as ws:
        cfg = ws.config
        targets = list(paths or default_paths(cfg))
        for path in targets:
            if not path.exists():
                raise UserError("no such file or folder", where=str(path))
        # Stored paths are relative to the config's folder (the repository), not to wherever ingest ran:
        # `fireline actions` shows them as the place to edit.
        result = ingest_lib(ws.store, cfg, targets, root=cfg.base_dir)
    err = terminal.console(stderr=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False, soft_wrap=True)
    if as_json:
        print_json(result.as_dict())
        return
    p = terminal.plural
    terminal.console().print(f"{result.source}: {p(result.postmortems, 'postmortem')}, "
                             f"{p(result.action_items, 'action item')} from {p(result.files, 'file')} "
                             f"({result.replaced} replaced).", soft_wrap=True)


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add this module's commands to the `fireline` app (and its `ingest` group)."""
    app.add_typer(postmortem_app, name="postmortem")
    app.command("actions")(actions)
    app.command("followup")(followup)
    ingest_app.command("postmortems")(ingest_postmortems)
