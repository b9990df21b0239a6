"""The measuring scope every command and page shares: which services a team or service filter
means, over which window, and which team each known service belongs to.

Not part of the CLI: the report and the dashboard build their scope here too (`cli.common`
re-exports both names for the command modules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from .config import Config
from .errors import UserError
from .metrics.scope import Scope
from .store import Store
from .window import parse_window

__all__ = ["rework_of", "scope_of", "team_map", "team_map_of"]


def scope_of(cfg: Config, store: Store, team: str | None, service: str | None, since: str | None,
             until: str | None, *, team_of: Mapping[str, str] | None = None, now: datetime | None = None) -> Scope:
    """The Scope of --team/--service/--since/--until; `team_of` is `team_map(cfg, store)` when the caller
    already has it (it is only read to check --service); `now` ends the window when `until` is not given."""
    start, end = parse_window(since, until, cfg.timezone, now or datetime.now(UTC))
    services: tuple[str, ...] | None = None
    if team:
        services = tuple(cfg.services_of_team(team))
    if service:
        known = set(team_of if team_of is not None else team_map(cfg, store))
        if service not in known:
            listed = ", ".join(sorted(known)) or "none yet"
            raise UserError(f"unknown service {service!r} (known: {listed})", field="service")
        if services is not None and service not in services:
            raise UserError(f"service {service!r} is not one of team {team!r}'s services", field="service")
        services = (service,)
    return Scope(since=start, until=end, services=services, production=tuple(cfg.production_environments),
                 time_basis=cfg.time_basis, **rework_of(cfg))


def rework_of(cfg: Config) -> dict[str, tuple[str, ...]]:
    """`[rework] ignore_paths` as Scope's keyword, when set (else the metric's default list)."""
    paths = cfg.rework.ignore_paths
    return {} if paths is None else {"rework_ignore": tuple(paths)}


def team_map(cfg: Config, store: Store) -> dict[str, str]:
    """Every service the store or the config knows -> its team."""
    return team_map_of(cfg, store.service_names(), store.repo_services())


def team_map_of(cfg: Config, services: Iterable[str], repo_services: Mapping[str, list[dict]]) -> dict[str, str]:
    """`team_map` from what the store holds: the services deployments and incidents name, and each
    repository's configured services (`Store.repo_services`)."""
    names = list(services)
    names += [svc["name"] for listed in repo_services.values() for svc in listed]
    names += [service for team in cfg.teams.values() for service in team.services]
    return cfg.service_team_map(sorted(set(names) | set(cfg.services)))
