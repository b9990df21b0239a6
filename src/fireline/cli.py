"""The `fireline` command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import ingest as ingest_lib
from .config import Config, load_config
from .errors import UserError
from .metrics import explain as explain_lib
from .metrics.dora import Scope
from .metrics.summary import UNITS, Summary, summarise
from .metrics.tiers import PROFILES, get_profile
from .sources.git import open_repo
from .sources.records import check_file
from .store import Store
from .views import terminal
from .window import parse_window

app = typer.Typer(
    help="Fireline: DORA baselines and the other 90% of incident work.\n\n"
    "Start with `fireline demo`, or point `fireline ingest git PATH` at a repository, then run "
    "`fireline dora`.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
)
ingest_app = typer.Typer(help="Read git history, deployments and incidents into the store.",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
alerts_app = typer.Typer(help="Alert hygiene: lint rules, suggest the missing ones, measure noise and detection.",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

DbOpt = Annotated[str | None, typer.Option("--db", help="Store URL: a DuckDB file (default "
                                           ".fireline/fireline.duckdb) or postgresql://...; env FIRELINE_DB.",
                                           show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (default ./fireline.toml or "
                                                "[tool.fireline] in pyproject.toml; env FIRELINE_CONFIG).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="Only this team's services (from config).")]
ServiceOpt = Annotated[str | None, typer.Option("--service", help="Only this service.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Window start: a date or ISO time in the "
                                              "configured zone (default: 90 days before --until).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Window end, inclusive for a date "
                                              "(default: now).")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help=f"Tier profile: {', '.join(PROFILES)} "
                                                "(default from config, else seed).")]


class Period(str, Enum):
    week = "week"
    month = "month"


class ExplainMetric(str, Enum):
    lead_time = "lead-time"
    deployment_frequency = "deployment-frequency"
    change_failure_rate = "change-failure-rate"
    time_to_restore = "time-to-restore"
    rework_rate = "rework-rate"


def _print_json(data: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        return str(o)

    sys.stdout.write(json.dumps(data, indent=2, default=default) + "\n")


def _progress_callback(label: str):
    """A Rich progress bar on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=terminal.console(stderr=True), transient=True)
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


def _report_ingest(result: ingest_lib.IngestResult, as_json: bool) -> None:
    err = terminal.console(stderr=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    if as_json:
        _print_json(result.as_dict())
        return
    out = terminal.console()
    if result.unchanged:
        out.print(f"{result.source}: unchanged since the last ingest; nothing to do.")
        return
    parts = []
    if result.kind == "alerts":
        parts.append(f"{result.new_alerts} new alert events")
    elif result.kind == "git":
        parts += [f"{result.new_changes} new commits", f"{result.new_deployments} new tag deployments"]
    elif result.kind == "deployments":
        parts.append(f"{result.new_deployments} new deployments")
    else:
        parts.append(f"{result.new_incidents} new incidents")
    if result.skipped:
        why = "already stored" if result.kind == "deployments" else "already stored, or issues that are not incidents"
        parts.append(f"{result.skipped} skipped ({why})")
    out.print(f"{result.source}: " + ", ".join(parts) + ".")
    if result.unresolved_deployments:
        sample = ", ".join(result.unresolved_deployments[:5])
        err.print(f"[yellow]warning:[/] {len(result.unresolved_deployments)} deployments name a commit not found "
                  f"in any ingested repository (ingest its repository first): {sample}")


@ingest_app.command("git")
def ingest_git(
    path: Annotated[Path, typer.Argument(help="A git repository (work tree or bare).")],
    deploy_tags: Annotated[str | None, typer.Option("--deploy-tags", help="Tags matching this glob are "
                                                    "production deployments, e.g. 'v*'.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="The service this repository ships "
                                                "(default: from config, else the folder name).")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Read a repository's history in one streamed pass; re-runs read only what is new."""
    cfg = load_config(config)
    open_repo(path)  # a mistyped path must fail before a store is created
    store = Store.open(db)
    progress, update = _progress_callback("reading commits")
    if progress:
        with progress:
            result = ingest_lib.ingest_git(store, cfg, path, service=service, deploy_tags=deploy_tags,
                                           progress=update)
    else:
        result = ingest_lib.ingest_git(store, cfg, path, service=service, deploy_tags=deploy_tags)
    _report_ingest(result, as_json)


@ingest_app.command("deployments")
def ingest_deployments(
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON (time, service, environment, sha, status, id, "
                                         "type) or a GitHub 'list deployments' JSON export.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add deployments; only successful production ones count. Ingesting a file twice adds nothing."""
    cfg = load_config(config)
    check_file(file)
    result = ingest_lib.ingest_deployments(Store.open(db), cfg, file, service=service)
    _report_ingest(result, as_json)


@ingest_app.command("incidents")
def ingest_incidents(
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON (id, service, started, detected, resolved, "
                                         "severity, detected_by, cause, title) or a GitHub issues JSON export.")],
    service: Annotated[str | None, typer.Option("--service", help="Service for records that name none.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add incidents. GitHub issues count when labelled `incident` (config: incident_label)."""
    cfg = load_config(config)
    check_file(file)
    result = ingest_lib.ingest_incidents(Store.open(db), cfg, file, service=service)
    _report_ingest(result, as_json)


@ingest_app.command("alerts")
def ingest_alerts(
    file: Annotated[Path, typer.Argument(help="NDJSON or a JSON array of alert events (Alertmanager alerts or "
                                         "flat records: fingerprint, name, status, starts_at, ends_at, ...).")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add alert history from a file (webhooks bring it continuously: see `fireline serve`)."""
    cfg = load_config(config)
    check_file(file)
    _report_ingest(ingest_lib.ingest_alerts(Store.open(db), cfg, file), as_json)


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


@alerts_app.command("lint")
def alerts_lint(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders (*.yml, *.yaml; PrometheusRule too).")],
    fmt: Annotated[Format, typer.Option("--format", help="text for people, json for scripts, sarif for code "
                                        "scanning.")] = Format.text,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="Exit 1 on findings at or above this.")] =
    Severity.warning,
    config: ConfigOpt = None,
) -> None:
    """Check Prometheus alert rules: do they explain the problem AND the next action?"""
    from .alerting import lint, settings
    from .views import findings as findings_view

    cfg = load_config(config)
    for path in paths:
        if not path.exists():
            raise UserError("no such file or folder", where=str(path))
    found = lint.lint_paths(paths, settings.load(cfg.alerts), repo_root=Path.cwd())
    render = {"text": findings_view.render_text, "json": findings_view.render_json,
              "sarif": findings_view.render_sarif}[fmt.value]
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
    from .alerting.suggest import suggest

    cfg = load_config(config)
    result = suggest(service, job=job, team=team or cfg.team_of(service), out=out, max_age_hours=max_age_hours,
                     force=force)
    if as_json:
        _print_json({"rules": str(result.rules_file), "runbooks": [str(p) for p in result.runbooks]})
        return
    out_console = terminal.console()
    out_console.print(f"Wrote {result.rules_file} and {len(result.runbooks)} runbook stubs in "
                      f"{result.runbooks[0].parent}. Check them with: fireline alerts lint {result.rules_file}")


@alerts_app.command("report")
def alerts_report(
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Zone for business/off/sleep hours (default: config).")]
    = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Alert noise (pages per shift, off-hours, flapping, transient, no runbook) and the detection gap."""
    from .metrics import alerts as alert_metrics

    cfg = load_config(config)
    store = Store.open(db, create=False)
    scope = _scope(cfg, store, team, service, since, until)
    params = dataclasses.replace(alert_metrics.AlertParams.from_config(cfg.alerts), now=datetime.now(UTC))
    report = alert_metrics.report(store.tables(), scope, team_of=_team_map(cfg, store), tz=tz or cfg.timezone,
                                  params=params)
    if as_json:
        _print_json(report)
        return
    from .views.alerts_report import render

    render(report, terminal.console())


def _scope(cfg: Config, store: Store, team: str | None, service: str | None, since: str | None,
           until: str | None) -> Scope:
    start, end = parse_window(since, until, cfg.timezone, datetime.now(UTC))
    services: tuple[str, ...] | None = None
    if team:
        services = tuple(cfg.services_of_team(team))
    if service:
        known = set(_team_map(cfg, store))
        if service not in known:
            listed = ", ".join(sorted(known)) or "none yet"
            raise UserError(f"unknown service {service!r} (known: {listed})", where="--service")
        if services is not None and service not in services:
            raise UserError(f"service {service!r} is not one of team {team!r}'s services", where="--service")
        services = (service,)
    return Scope(since=start, until=end, services=services, production=tuple(cfg.production_environments),
                 time_basis=cfg.time_basis)


def _team_map(cfg: Config, store: Store) -> dict[str, str]:
    names = [r[0] for r in store.query("SELECT DISTINCT service FROM deployments UNION "
                                       "SELECT DISTINCT service FROM incidents")]
    names += [svc["name"] for services in store.repo_services().values() for svc in services]
    return cfg.service_team_map(sorted(set(names) | set(cfg.services)))


def compute_summary(cfg: Config, store: Store, scope: Scope, profile: str | None, by: Period | None) -> Summary:
    prof = get_profile(profile or cfg.profile) if (profile or cfg.profile) in PROFILES else None
    if prof is None:
        raise UserError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}", where="--profile")
    group_sets: tuple[tuple[str, ...], ...]
    if by:
        group_sets = (("period",),)
    elif cfg.teams:
        group_sets = (("team",), ("team", "service"))
    else:
        group_sets = (("service",),)
    return summarise(store.tables(), scope, prof, team_of=_team_map(cfg, store), group_sets=group_sets,
                     period=by.value if by else None)


@app.command()
def dora(
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    profile: ProfileOpt = None,
    by: Annotated[Period | None, typer.Option("--by", help="One row per week or month.")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """The four keys plus rework rate, per team and service, each with its tier."""
    cfg = load_config(config)
    store = Store.open(db, create=False)
    scope = _scope(cfg, store, team, service, since, until)
    summary = compute_summary(cfg, store, scope, profile, by)
    if as_json:
        _print_json(summary.as_dict())
        return
    out = terminal.console()
    out.print(terminal.dora_table(summary, title="DORA metrics"))
    for note in terminal.unknown_notes(summary):
        out.print(f"[dim]{note}[/]")
    out.print("[dim]Ask why: fireline explain lead-time|deployment-frequency|change-failure-rate|"
              "time-to-restore|rework-rate (same filters).[/]")


@app.command()
def explain(
    metric: Annotated[ExplainMetric, typer.Argument(help="Which figure to explain.")],
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show in the table (JSON has all).")] = 50,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """List the deployments, commits or incidents behind a figure."""
    cfg = load_config(config)
    store = Store.open(db, create=False)
    scope = _scope(cfg, store, team, service, since, until)
    name = explain_lib.ALIASES[metric.value]
    result = explain_lib.explain(store.tables(), name, scope)
    summary = compute_summary(cfg, store, scope, None, None)
    figure = summary.overall.metrics[name]
    if as_json:
        _print_json({"metric": name, "figure": figure.as_dict(), "note": result.note, "rows": result.rows})
        return
    out = terminal.console()
    out.print(f"[bold]{terminal.LABELS[name]}[/]: {terminal.format_value(name, figure)} "
              f"(tier {figure.tier or '—'}, n={figure.count})" + (f" — unknown: {figure.unknown}"
                                                                  if figure.unknown else ""))
    out.print(f"[dim]{result.note}[/]")
    rows = result.rows[-limit:] if limit else result.rows
    out.print(terminal.rows_table(rows, result.columns, cfg.timezone))
    if len(result.rows) > len(rows):
        out.print(f"[dim]… {len(result.rows) - len(rows)} earlier rows; use --limit 0 or --json for all.[/]")


@app.command()
def rebuild(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Re-derive deployments, incidents and links from the raw events (after a parser fix)."""
    cfg = load_config(config)
    counts = ingest_lib.rebuild(Store.open(db, create=False), cfg)
    if as_json:
        _print_json(counts)
    else:
        terminal.console().print(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) + ".")


@app.command()
def tiers(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Show the bounds of a tier profile (or all)."""
    names = [profile] if profile else list(PROFILES)
    data = {}
    for name in names:
        try:
            p = get_profile(name)
        except KeyError as exc:
            raise UserError(str(exc.args[0]), where="--profile") from None
        data[name] = {m: [[t, str(b) if b else "otherwise"] for t, b in bands] for m, bands in p.bounds.items()}
    if as_json:
        _print_json(data)
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
    """
    from .server import serve as serve_lib

    serve_lib.run(host=host, port=port, workers=workers, db=db, config_path=config)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build it (rebuilt from scratch).")] =
    Path(".fireline/demo"),
    as_json: JsonOpt = False,
) -> None:
    """Build the demo organisation (real git repositories, deployments, incidents) and show its DORA table."""
    from . import demo as demo_lib

    result = demo_lib.run(directory)
    if as_json:
        _print_json(result.summary.as_dict())
        return
    out = terminal.console()
    out.print(terminal.dora_table(result.summary, title="Demo organisation: DORA metrics per team"))
    out.print()
    for line in result.hints:
        out.print(line, soft_wrap=True)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and exit code 2, never a traceback."""
    try:
        app()
    except UserError as exc:
        from rich.markup import escape

        terminal.console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
