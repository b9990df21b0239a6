"""What several command modules share: option types, JSON output, the measuring scope."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from .metrics.tiers import PROFILES
from .scope import scope_of, team_map  # shared with the report and the dashboard

__all__ = ["ConfigOpt", "DbOpt", "JsonOpt", "ProfileOpt", "ServiceOpt", "SinceOpt", "TeamOpt", "UntilOpt",
           "print_json", "scope_of", "team_map"]

class FindingsFormat(str, Enum):
    """How lint findings print: text for people, json for scripts, sarif for code scanning."""

    text = "text"
    json = "json"
    sarif = "sarif"


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
