"""`[postmortems]` settings: where the files live and the windows the reports look at.

```toml
[postmortems]
folder = "postmortems"     # relative to the config file's folder
repeat_window_days = 90    # same service + same cause tag within this many days = a repeat
followup_weeks = 8         # weeks before and after an action item's done_on
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..config import Config, validate_section
from ..identity import People


class PostmortemSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str = "postmortems"
    repeat_window_days: int = Field(default=90, gt=0, le=3650)
    followup_weeks: int = Field(default=8, gt=0, le=104)


def load(section: dict[str, Any] | None, source: str | None = None) -> PostmortemSettings:
    """Validate `config.postmortems`; an error names the key, e.g. `fireline.toml: postmortems.folder`."""
    return validate_section(PostmortemSettings, dict(section or {}), "postmortems", source)


def of(cfg: Config) -> PostmortemSettings:
    return load(cfg.postmortems, cfg.source)


def folder(cfg: Config) -> Path:
    """The postmortems folder: relative paths are relative to the config file's folder."""
    path = Path(of(cfg).folder)
    return path if path.is_absolute() else cfg.base_dir / path


def _person(cfg: Config, owner: str) -> str | None:
    """The configured person an owner names: their name, an alias or login, or an email, in any case."""
    return People.from_config(cfg).configured(owner)


def _team(cfg: Config, owner: str) -> str | None:
    folded = owner.casefold()
    return next((team for team in cfg.team_names if team.casefold() == folded), None)


def team_of_owner(cfg: Config, owner: str | None) -> str | None:
    """An owner is a team or a person from config; a person's team comes from `people.<name>.team`."""
    if not owner:
        return None
    if owner in cfg.team_names:
        return owner
    if owner in cfg.people:
        return cfg.people[owner].team
    team = _team(cfg, owner)
    if team is not None:
        return team
    person = _person(cfg, owner)
    return cfg.people[person].team if person else None


def known_owner(cfg: Config, owner: str) -> bool:
    return _team(cfg, owner) is not None or _person(cfg, owner) is not None
