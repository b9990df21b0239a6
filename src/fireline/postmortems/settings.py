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


def team_of_owner(cfg: Config, owner: str | None) -> str | None:
    """An owner is a team or a person from config; a person's team comes from `people.<name>.team`."""
    if not owner:
        return None
    if owner in cfg.team_names:
        return owner
    person = cfg.people.get(owner)
    if person is not None:
        return person.team
    folded = owner.casefold()
    for team in cfg.team_names:
        if team.casefold() == folded:
            return team
    for name, person in cfg.people.items():
        emails = {e.casefold() for e in [person.email or "", *person.emails] if e}
        if name.casefold() == folded or folded in emails:
            return person.team
    return None


def known_owner(cfg: Config, owner: str) -> bool:
    folded = owner.casefold()
    if any(t.casefold() == folded for t in cfg.team_names):
        return True
    for name, person in cfg.people.items():
        emails = {e.casefold() for e in [person.email or "", *person.emails] if e}
        if name.casefold() == folded or folded in emails:
            return True
    return False
