"""The `fireline` command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from ..errors import UserError
from ..metrics.tiers import PROFILES, get_profile
from . import debt as cli_debt
from . import knowledge as cli_knowledge
from . import notify as cli_notify
from . import oncall as cli_oncall
from . import postmortems as cli_postmortems
from . import progress
from . import report as cli_report
from . import repos as cli_repos
from . import testing as cli_testing
from .alerts import alerts_app
from .common import (
    AtOpt,
    ConfigOpt,
    DbOpt,
    JsonOpt,
    ProfileOpt,
    RootOptions,
    ServiceOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    lazy,
    print_json,
    root_options,
    set_root_options,
    workspace,
)
from .events import events_app
from .export import export_app
from .sync import sync_app

if TYPE_CHECKING:
    from .. import ingest as ingest_lib
    from ..views import terminal
else:  # loaded by the command that needs it: `fireline --help` stays free of Ibis (see common.lazy)
    terminal = lazy("fireline.views.terminal")

class _Root(TyperGroup):
    """Keeps the command line as given (ctx.meta, shared by every command's context): a command on a
    DuckDB store that `fireline serve` holds is sent there whole (cli/forward.py)."""

    def parse_args(self, ctx, args):
        ctx.meta.setdefault(ARGV_KEY, tuple(args))
        return super().parse_args(ctx, args)


ARGV_KEY = "fireline.argv"

app = typer.Typer(
    cls=_Root,
    help="Fireline: DORA baselines and the other 90% of incident work.\n\n"
    "Start with `fireline demo`, or point `fireline ingest git PATH` at a repository, then run "
    "`fireline dora`.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"fireline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="The store for every command (same as each command's "
                                           "--db; env FIRELINE_DB).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="The config for every command (same as each "
                                                "command's --config; env FIRELINE_CONFIG).", show_default=False)]
    = None,
) -> None:
    """`fireline --db URL --config FILE COMMAND ...` sets both once for the command that follows."""
    set_root_options(ctx, RootOptions(db=db, config=config, argv=ctx.meta.get(ARGV_KEY, ())))


ingest_app = typer.Typer(help="Read git history, deployments, incidents and alert history into the store.",
                         rich_markup_mode="markdown",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(alerts_app, name="alerts")
app.add_typer(events_app, name="events")
app.add_typer(export_app, name="export")
app.add_typer(sync_app, name="sync")
class Period(str, Enum):
    week = "week"
    month = "month"


class Stage(str, Enum):
    coding = "coding"
    pickup = "pickup"
    review = "review"
    deploy = "deploy"


class ExplainMetric(str, Enum):
    lead_time = "lead-time"
    deployment_frequency = "deployment-frequency"
    change_failure_rate = "change-failure-rate"
    time_to_restore = "time-to-restore"
    rework_rate = "rework-rate"


def _report_ingest(result: ingest_lib.IngestResult, as_json: bool) -> None:
    err = terminal.console(stderr=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {terminal.safe(warning)}")
    if as_json:
        print_json(result.as_dict())
        return
    out = terminal.console()
    if result.unchanged:
        out.print(f"{terminal.safe(result.source)}: unchanged since the last ingest; nothing to do.")
        return
    parts = []
    if result.kind == "alerts":
        parts.append(f"{result.new_alerts} new alert events")
    elif result.kind == "git":
        parts += [f"{result.new_changes} new commits", f"{result.new_deployments} new tag deployments"]
        if result.removed_deployments:
            parts.append(f"{result.removed_deployments} tag deployments removed")
    elif result.kind == "deployments":
        parts.append(f"{result.new_deployments} new deployments")
        if result.new_flags:
            parts.append(f"{result.new_flags} new feature flag changes")
    else:
        parts.append(f"{result.new_incidents} new incidents")
    if result.skipped:
        why = "already stored" if result.kind == "deployments" else "already stored, or issues that are not incidents"
        parts.append(f"{result.skipped} skipped ({why})")
    out.print(f"{terminal.safe(result.source)}: " + ", ".join(parts) + ".")
    if result.unresolved_deployments:
        sample = ", ".join(result.unresolved_deployments[:5])
        err.print(f"[yellow]warning:[/] {len(result.unresolved_deployments)} deployments name a commit not found "
                  f"in any ingested repository (ingest its repository first): {terminal.safe(sample)}")


@ingest_app.command("git")
def ingest_git(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Git repositories (work trees or bare), one or many. Without one: every `[repos.<name>]` of the "
        "config.", show_default=False)] = None,
    deploy_tags: Annotated[list[str] | None, typer.Option(
        "--deploy-tags", help="Tags matching this glob are production deployments, e.g. `v*`. Once per glob; "
        "`!` excludes: `--deploy-tags 'v*' --deploy-tags '!*-rc*'`. Without it: the config's, else the last "
        "ingest's.", show_default=False)] = None,
    service: Annotated[str | None, typer.Option("--service", help="The service this repository ships "
                                                "(default: from config, else the folder name).")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Worker processes reading git when there are several repositories "
        "(default: one per CPU, at most one per repository).", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or progress lines.")] = False,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Read repositories' history in one streamed pass each; re-runs read only what is new.

    Several repositories (several PATHs, or the configured ones) are read in parallel worker processes,
    written by this one and linked once at the end. One that cannot be read is named with its path and
    the others are stored; the exit code is then 1. Changing the tag patterns re-derives the tag
    deployments: those that no longer match are removed.
    """
    if service and len(paths or []) != 1:
        raise UserError("applies to one repository: give its PATH", field="service")
    for path in paths or []:
        if not path.exists() and any(c in str(path) for c in "!*?["):
            raise UserError("no such directory; it looks like a tag pattern: give --deploy-tags once per pattern "
                            "(--deploy-tags 'v*' --deploy-tags '!*-rc*')", where=str(path))
    if not paths or len(paths) > 1:
        cli_repos.ingest_many(db, config, paths or None, deploy_tags, jobs, quiet, as_json, _report_ingest)
        return
    with workspace(db, config) as ws, progress.reporter(quiet) as steps:
        result = ws.ingest_git(paths[0], service=service, deploy_tags=deploy_tags,
                               progress=lambda done, total: steps("reading commits", done, total))
    _report_ingest(result, as_json)


@ingest_app.command("deployments")
def ingest_deployments(
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON (time, service, environment, sha, status, id, "
                                         "type, stage: canary|partial|full; a row with a `flag` and `state` is "
                                         "a feature flag change) or a GitHub 'list deployments' JSON export.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add deployments; only successful production ones count. Ingesting a file twice adds nothing."""
    with workspace(db, config) as ws:
        result = ws.ingest_deployments(file, service=service)
    _report_ingest(result, as_json)


@ingest_app.command("incidents")
def ingest_incidents(
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON (id, service, started, detected, resolved, "
                                         "severity, detected_by, cause, title) or a GitHub issues JSON export.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add incidents. GitHub issues count when labelled `incident` (config: incident_label)."""
    with workspace(db, config) as ws:
        result = ws.ingest_incidents(file, service=service)
    _report_ingest(result, as_json)


@ingest_app.command("alerts")
def ingest_alerts(
    file: Annotated[Path, typer.Argument(help="NDJSON or a JSON array of alert events (Alertmanager alerts or "
                                         "flat records: fingerprint, name, status, starts_at, ends_at, ...).")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add alert history from a file (webhooks bring it continuously: see `fireline serve`)."""
    with workspace(db, config) as ws:
        result = ws.ingest_alerts(file)
    _report_ingest(result, as_json)


@app.command()
def dora(
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    profile: ProfileOpt = None,
    by: Annotated[Period | None, typer.Option("--by", help="One row per week or month.")] = None,
    stages: Annotated[bool, typer.Option("--stages", help="Lead time in stages (coding, pickup, review, deploy) "
                                         "from pull requests; in --json under lead_time.stages.")] = False,
    at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """The four keys plus rework rate, per team and service, each with its tier."""
    with workspace(db, config, at) as ws:
        summary = ws.dora(team=team, service=service, since=since, until=until, profile=profile,
                          by=by.value if by else None, stages=stages)
    if as_json:
        print_json(summary.to_dict())
        return
    out = terminal.console()
    out.print(terminal.dora_table(summary, title="DORA metrics", period=by.value if by else None))
    if stages:
        out.print(terminal.stages_table(summary, period=by.value if by else None))
        for note in terminal.stage_notes(summary):
            out.print(f"[dim]{note}[/]")
    if summary.hint:
        out.print(f"[yellow]{terminal.safe(summary.hint['message'])}[/]", soft_wrap=True)
    for note in terminal.unknown_notes(summary):
        out.print(f"[dim]{note}[/]")
    out.print("[dim]Ask why: fireline explain lead-time|deployment-frequency|change-failure-rate|"
              "time-to-restore|rework-rate (same filters).[/]")


@app.command()
def explain(
    metric: Annotated[ExplainMetric, typer.Argument(help="Which figure to explain.")],
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show in the table (JSON has all).")] = 50,
    stage: Annotated[Stage | None, typer.Option("--stage", help="lead-time only: the pull requests behind one "
                                                "stage, slowest first.")] = None,
    at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """List the deployments, commits or incidents behind a figure."""
    with workspace(db, config, at) as ws:
        result = ws.explain(metric.value, team=team, service=service, since=since, until=until,
                            stage=stage.value if stage else None)
        tz = ws.config.timezone
    name, figure = result.metric, result.figure
    if as_json:
        print_json(result.to_dict())
        return
    out = terminal.console()
    if result.stage:
        out.print(f"[bold]{terminal.LABELS[name]}, {result.stage} stage[/]: median "
                  f"{terminal.duration(figure.value)}, p90 {terminal.duration(figure.details.get('p90'))} "
                  f"(n={figure.count})" + (f" — unknown: {figure.unknown}" if figure.unknown else ""))
    else:
        out.print(f"[bold]{terminal.LABELS[name]}[/]: {terminal.format_value(name, figure)} "
                  f"(tier {figure.tier or '—'}, n={figure.count})" + (f" — unknown: {figure.unknown}"
                                                                      if figure.unknown else ""))
    out.print(f"[dim]{result.note}[/]")
    if result.stage:
        shown = result.rows[:limit] if limit else result.rows
        out.print(terminal.rows_table(shown, result.columns, tz, title=f"{result.stage.capitalize()} stage"))
        if len(result.rows) > len(shown):
            out.print(f"[dim]… {len(result.rows) - len(shown)} faster rows; use --limit 0 or --json for all.[/]")
        return
    rows = result.rows[-limit:] if limit else result.rows
    out.print(terminal.rows_table(rows, result.columns, tz))
    if len(result.rows) > len(rows):
        out.print(f"[dim]… {len(result.rows) - len(rows)} earlier rows; use --limit 0 or --json for all.[/]")


@app.command()
def rebuild(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Re-derive deployments, incidents and links from the raw events (after a parser fix), and tag
    deployments from each ingested repository with today's tag patterns."""
    with workspace(db, config) as ws:
        counts = ws.rebuild()
    if as_json:
        print_json(counts)
    else:
        terminal.console().print(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) + ".")


@app.command()
def tiers(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Show the bounds of a tier profile (or all)."""
    from ..metrics.summary import UNITS

    names = [profile] if profile else list(PROFILES)
    data = {}
    for name in names:
        try:
            p = get_profile(name)
        except KeyError as exc:
            raise UserError(str(exc.args[0]), where="--profile") from None
        data[name] = {m: [[t, str(b) if b else "otherwise"] for t, b in bands] for m, bands in p.bounds.items()}
    if as_json:
        print_json(data)
        return
    out = terminal.console()
    for name, metrics in data.items():
        out.print(f"[bold]{name}[/]: {PROFILES[name].description}")
        for metric, bands in metrics.items():
            out.print(f"  {metric} ({UNITS[metric]}): " + "; ".join(f"{t} {b}" for t, b in bands),
                      soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. A public address needs secrets.")] =
    "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (PostgreSQL stores only).")] = 1,
    db: DbOpt = None, config: ConfigOpt = None,
) -> None:
    """Receive webhooks (GitHub, GitLab, Alertmanager, PagerDuty, /events) and keep the metrics current.

    Secrets: FIRELINE_GITHUB_SECRET, FIRELINE_GITLAB_TOKEN, FIRELINE_PAGERDUTY_SECRET and
    FIRELINE_INGEST_TOKEN (Alertmanager and /events), or [server] in fireline.toml.

    On a DuckDB store it leaves its address in serve.json beside the store: other commands on that
    store then run through it. It fetches and ingests every `[repos.<name>]` each `[server]
    sync_interval` (default 10 minutes) and when a push webhook names one.
    """
    from ..server import serve as serve_lib

    root = root_options()
    serve_lib.run(host=host, port=port, workers=workers, db=db if db is not None else root.db,
                  config_path=config if config is not None else root.config)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build it (rebuilt from scratch).")] =
    Path(".fireline/demo"),
    as_json: JsonOpt = False,
) -> None:
    """Build the demo organisation (real git repositories, deployments, incidents) and show its DORA table."""
    from .. import demo as demo_lib

    result = demo_lib.run(directory)
    if as_json:
        print_json(result.summary.as_dict())
        return
    out = terminal.console()
    out.print(terminal.dora_table(result.summary, title="Demo organisation: DORA metrics per team"))
    out.print()
    for line in result.hints:
        out.print(line, soft_wrap=True)


# The later parts come after the core commands, so `fireline --help` reads in the order of the work.
app.command("knowledge")(cli_knowledge.knowledge)
app.command("testing")(cli_testing.testing)
for _module in (cli_postmortems, cli_oncall, cli_debt, cli_report, cli_notify):
    _module.register(app, ingest_app)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and exit code 2, never a traceback."""
    main_with(None)


def main_with(argv: list[str] | None, prog_name: str | None = None) -> None:
    """`main` for these arguments (None: the command line's); it ends with SystemExit."""
    try:
        app(argv, prog_name=prog_name)
    except UserError as exc:
        from rich.markup import escape

        terminal.console(stderr=True).print(f"[red]error:[/] {escape(exc.for_cli())}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
