"""The whole configuration, validated when it is read.

`fireline.config` reads fireline.toml into the core tree; each part validates its own
section (`[alerts]`, `[postmortems]`, `[rotations.*]`, `[oncall]`, `[budget]`). This module
asks every part at load, so a typo or a wrong type in any section stops every command with
exit 2, the file and the key, before any work, whichever command reads it later.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..alerting import settings as alert_settings
from ..config import Config, format_validation
from ..config import load_config as read_config
from ..debt import settings as budget_settings
from ..errors import UserError
from ..metrics.alert_params import AlertParams
from ..notify import settings as notify_settings
from ..oncall import settings as oncall_settings
from ..postmortems import settings as postmortem_settings
from ..sync import settings as sync_settings

__all__ = ["Sections", "alert_params", "load_config", "validate"]


@dataclass(frozen=True)
class Sections:
    """Every free-form section as its part's typed settings."""

    alerts: alert_settings.AlertSettings
    alert_params: AlertParams
    postmortems: postmortem_settings.PostmortemSettings
    budget: budget_settings.BudgetSettings


_ANALYTICS = TypeAdapter(AlertParams)


def alert_params(config: Config) -> AlertParams:
    """The alert report's thresholds from `[alerts]`, typed (the rule-lint keys there are not its own)."""
    names = {f.name for f in dataclasses.fields(AlertParams)} - {"now"}
    values: dict[str, Any] = {k: v for k, v in config.alerts.items() if k in names}
    try:
        return _ANALYTICS.validate_python(values)
    except ValidationError as exc:
        raise UserError(format_validation(exc, config.source or "fireline.toml", "alerts")) from None


def validate(config: Config) -> Sections:
    """Validate every section of `config`; raises UserError naming the file and key."""
    sections = Sections(
        alerts=alert_settings.load(config.alerts, config.source),
        alert_params=alert_params(config),
        postmortems=postmortem_settings.of(config),
        budget=budget_settings.of(config),
    )
    oncall_settings.load(config, read_calendars=False, check_holidays=False)
    sync_settings.of(config)
    notify_settings.load(config)
    return sections


def load_config(path: str | Path | None = None, *, cwd: Path | None = None) -> Config:
    """`fireline.config.load_config`, with every section validated."""
    config = read_config(path, cwd=cwd)
    validate(config)
    return config
