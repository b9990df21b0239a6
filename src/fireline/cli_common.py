"""What several command modules share: option types, JSON output, the measuring scope."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from .config import Config
from .errors import UserError
from .metrics.dora import Scope
from .metrics.tiers import PROFILES
from .store import Store
from .window import parse_window

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



def print_json(data: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        return str(o)

    sys.stdout.write(json.dumps(data, indent=2, default=default) + "\n")


def scope_of(cfg: Config, store: Store, team: str | None, service: str | None, since: str | None,
           until: str | None) -> Scope:
    start, end = parse_window(since, until, cfg.timezone, datetime.now(UTC))
    services: tuple[str, ...] | None = None
    if team:
        services = tuple(cfg.services_of_team(team))
    if service:
        known = set(team_map(cfg, store))
        if service not in known:
            listed = ", ".join(sorted(known)) or "none yet"
            raise UserError(f"unknown service {service!r} (known: {listed})", where="--service")
        if services is not None and service not in services:
            raise UserError(f"service {service!r} is not one of team {team!r}'s services", where="--service")
        services = (service,)
    return Scope(since=start, until=end, services=services, production=tuple(cfg.production_environments),
                 time_basis=cfg.time_basis)


def team_map(cfg: Config, store: Store) -> dict[str, str]:
    names = [r[0] for r in store.query("SELECT DISTINCT service FROM deployments UNION "
                                       "SELECT DISTINCT service FROM incidents")]
    names += [svc["name"] for services in store.repo_services().values() for svc in services]
    names += [service for team in cfg.teams.values() for service in team.services]
    return cfg.service_team_map(sorted(set(names) | set(cfg.services)))
