"""`fireline alerts ...`: lint rules, suggest the missing ones, report noise and detection."""

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
    ServiceOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    config_of,
    lazy,
    print_json,
    workspace,
)

if TYPE_CHECKING:
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")

alerts_app = typer.Typer(help="Alert hygiene: lint rules, suggest the missing ones, measure noise and detection.",
                         no_args_is_help=True, rich_markup_mode="markdown")


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


@alerts_app.command("lint")
def alerts_lint(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders (*.yml, *.yaml; PrometheusRule too).")],
    fmt: Annotated[FindingsFormat, typer.Option("--format", help="text for people, json for scripts, sarif for code "
                                        "scanning.")] = FindingsFormat.text,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="Exit 1 on findings at or above this.")] =
    Severity.warning,
    config: ConfigOpt = None,
) -> None:
    """Check Prometheus alert rules: do they explain the problem AND the next action?"""
    from ..alerting import lint, settings
    from ..alerting.checks import CHECKS
    from ..views import findings as findings_view

    cfg = config_of(config)
    for path in paths:
        if not path.exists():
            raise UserError("no such file or folder", where=str(path))
    found = lint.lint_paths(paths, settings.load(cfg.alerts, cfg.source), repo_root=Path.cwd())
    render = {"text": findings_view.render_text, "json": findings_view.render_json,
              "sarif": lambda found: findings_view.render_sarif(found, CHECKS.values())}[fmt.value]
    sys.stdout.write(render(found).rstrip("\n") + "\n")
    raise typer.Exit(findings_view.exit_code(found, fail_on.value))


@alerts_app.command("suggest")
def alerts_suggest(
    service: Annotated[str, typer.Option("--service", help="The service the rules watch.")],
    job: Annotated[str | None, typer.Option("--job", help="Its batch job's `job` label (default: the service).")]
    = None,
    team: Annotated[str | None, typer.Option("--team", help="Owner label (default: from config).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where alerts/ and docs/runbooks/ go.")] = Path("."),
    max_age_hours: Annotated[float, typer.Option("--max-age-hours", help="A success older than this pages.")]
    = 26.0,
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist.")] = False,
    config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Write the rules the talk's incident lacked (disk, silent job, errors) with runbook stubs."""
    from ..alerting.suggest import suggest

    cfg = config_of(config)
    result = suggest(service, job=job, team=team or cfg.team_of(service), out=out, max_age_hours=max_age_hours,
                     force=force)
    if as_json:
        print_json({"rules": str(result.rules_file), "runbooks": [str(p) for p in result.runbooks]})
        return
    out_console = terminal.console()
    out_console.print(f"Wrote {result.rules_file} and {len(result.runbooks)} runbook stubs in "
                      f"{result.runbooks[0].parent}. Check them with: fireline alerts lint {result.rules_file}")


@alerts_app.command("report")
def alerts_report(
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Zone for business/off/sleep hours (default: config).")]
    = None,
    at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Alert noise (pages per shift, off-hours, flapping, transient, no runbook) and the detection gap."""
    with workspace(db, config, at) as ws:
        report = ws.alerts_report(team=team, service=service, since=since, until=until, tz=tz).to_dict()
    if as_json:
        print_json(report)
        return
    from ..views.alerts_report import render

    render(report, terminal.console())
