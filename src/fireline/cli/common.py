"""What several command modules share: option types, JSON output, lazy module access."""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from ..lazy import lazy  # re-exported: every command module uses it
from ..metrics.tiers import PROFILES

if TYPE_CHECKING:
    from ..config import Config
    from ..workspace import Workspace

__all__ = [
    "AtOpt",
    "ConfigOpt",
    "DbOpt",
    "JsonOpt",
    "ProfileOpt",
    "RootOptions",
    "ServiceOpt",
    "SinceOpt",
    "TeamOpt",
    "UntilOpt",
    "config_of",
    "hidden_alias",
    "lazy",
    "pick_at",
    "print_json",
    "root_options",
    "set_root_options",
    "workspace",
]


class FindingsFormat(str, Enum):
    """How lint findings print: text for people, json for scripts, sarif for code scanning."""

    text = "text"
    json = "json"
    sarif = "sarif"


DbOpt = Annotated[str | None, typer.Option("--db", help="Store URL: a DuckDB file (default "
                                           ".fireline/fireline.duckdb) or postgresql://...; for reading only, "
                                           "pyspark:///DIR, sc://, trino://, bigquery://, snowflake://, "
                                           "databricks:// (docs/scaling.md); env FIRELINE_DB.",
                                           show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (default ./fireline.toml or "
                                                "[tool.fireline] in pyproject.toml; env FIRELINE_CONFIG).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="Only this team's services (from config).")]
ServiceOpt = Annotated[str | None, typer.Option("--service", help="Only this service.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Window start: a date or ISO time in the "
                                              "configured zone (default: 90 days before --until).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Window end, inclusive for a date "
                                              "(default: --at, else now).")]
AtOpt = Annotated[str | None, typer.Option(
    "--at", help="As of: a date (that whole day has passed) or an ISO time, in the configured zone "
    "(default: now). Windows that end now end here; ages and overdue items are judged here.", show_default=False)]


def hidden_alias(name: str, replacement: str = "--at") -> Any:
    """An old option name kept for one release, hidden from --help (use `replacement`)."""
    return typer.Option(name, hidden=True, help=f"Deprecated: use {replacement}.")


def pick_at(at: str | None, **old: str | None) -> tuple[str | None, str]:
    """--at, or the one old spelling given, with the name to blame in an error; both is bad input."""
    given = {name: value for name, value in old.items() if value}
    if at and given:
        raise UserError(f"give --at or {', '.join('--' + n for n in given)}, not both", field="at")
    if given:
        return next(iter(given.items()))[::-1]
    return at, "at"


@dataclass(frozen=True)
class RootOptions:
    """`fireline --db URL --config FILE COMMAND`: the root callback keeps them in the Typer context, and every
    command's workspace starts from them (a command's own --db/--config wins)."""

    db: str | None = None
    config: Path | None = None
    # The whole command line after `fireline`, as given: what is sent to a running `fireline serve`.
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Served:
    """Set by `fireline serve` around a command a CLI sent it (server/remote.py): the command runs on the
    server's open store, with the config the CLI found (`config`, None: none) and its working folder."""

    store_url: str
    cwd: Path
    config: Path | None


SERVED: ContextVar[Served | None] = ContextVar("fireline_served", default=None)


# The root callback sets these for the one command that follows and puts them back when it ends (a
# context variable, not the environment: nothing leaks into the next command run in the same process).
_ROOT: ContextVar[RootOptions | None] = ContextVar("fireline_root_options", default=None)


def set_root_options(ctx: typer.Context, options: RootOptions) -> None:
    token = _ROOT.set(options)
    ctx.obj = options
    ctx.call_on_close(lambda: _ROOT.reset(token))


def root_options() -> RootOptions:
    return _ROOT.get() or RootOptions()


def workspace(db: str | None, config: Path | None, at: str | None = None, **old: str | None) -> Workspace:
    """The library's Workspace for a command: its --db and --config (else the root's, else the environment and
    the defaults), and --at (or an old spelling such as --today) as its "now". A Workspace is a context
    manager: it closes the store."""
    from ..window import parse_instant
    from ..workspace import Workspace

    root = root_options()
    served = SERVED.get()
    if served is not None:  # inside `fireline serve`, for a CLI: its store, the CLI's config
        from ..app.settings import load_config
        from ..config import Config

        ws = Workspace(served.store_url, load_config(served.config) if served.config else Config(base_dir=served.cwd))
    else:
        ws = Workspace(db if db is not None else root.db, config if config is not None else root.config)
        # A DuckDB file has one writer: while `fireline serve` holds it, the command runs there.
        from . import forward

        forward.if_served(ws, config if config is not None else root.config, root.argv)
    value, field = pick_at(at, **old)
    if field == "now" and value:  # the old --now read a date as its start, not its end
        ws.set_now(parse_instant(value, "now", ws.config.timezone), field=field)
    else:
        ws.set_now(value, field=field)
    return ws


def config_of(config: Path | None) -> Config:
    """The validated config of a command that needs no store (--config, else the root's, else the default)."""
    from ..app.settings import load_config

    return load_config(config if config is not None else root_options().config)


ProfileOpt = Annotated[str | None, typer.Option("--profile", help=f"Tier profile: {', '.join(PROFILES)} "
                                                "(default from config, else seed).")]


def print_json(data: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        return str(o)

    sys.stdout.write(json.dumps(data, indent=2, default=default) + "\n")
