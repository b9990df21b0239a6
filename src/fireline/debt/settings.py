"""`[budget]` settings: the bug budget per team and what the debt ledger looks for.

```toml
[budget]
default = 0.3          # share of the work a team budgets for fixes (0..1)
weight = "commits"     # or "lines": weigh each commit by its changed lines
tolerance = 0.05       # within budget +- this share is "within", not over or under
markers = ["TODO", "FIXME", "HACK", "XXX"]   # whole words, case as written
max_file_kib = 1024    # larger files are skipped (and counted) by the marker scan
hotspots = 5           # hotspots per repository in the ledger
generated = ["manifests/**"]   # more generated files (gitignore-style globs): no markers, no hotspots
plan_verify_days = 2   # fireline plan: days the release is verified in production before release day
plan_freeze_days = 0   # days of freeze before verification (0: from the last merge at 80% confidence)

[budget.teams]
Data = 0.25
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config import Config, validate_section
from ..errors import UserError
from .markers import DEFAULT_WORDS


class BudgetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: float = Field(default=0.3, ge=0, le=1)
    teams: dict[str, float] = Field(default_factory=dict)
    weight: Literal["commits", "lines"] = "commits"
    tolerance: float = Field(default=0.05, ge=0, le=1)
    markers: list[str] = Field(default_factory=lambda: list(DEFAULT_WORDS), min_length=1)
    max_file_kib: int = Field(default=1024, gt=0)
    hotspots: int = Field(default=5, ge=0, le=1000)
    # Files generated or vendored that nothing at HEAD marks as such (e.g. kube-prometheus' manifests/).
    generated: list[str] = Field(default_factory=list)
    plan_verify_days: int = Field(default=2, ge=0, le=365)
    plan_freeze_days: int = Field(default=0, ge=0, le=365)

    @field_validator("teams")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for team, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"{team}: a share between 0 and 1, got {share}")
        return value

    @field_validator("markers")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for word in value:
            if not word.strip() or any(ch.isspace() for ch in word):
                raise ValueError(f"a marker is one word, got {word!r}")
        return value

    @field_validator("generated")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            if not glob.strip() or glob.startswith("!"):
                raise ValueError(f"a path glob such as 'manifests/**', got {glob!r}")
        return value

    @property
    def max_bytes(self) -> int:
        return self.max_file_kib * 1024


def load(section: dict[str, Any] | None, source: str | None = None, teams: list[str] | None = None) -> BudgetSettings:
    """Validate `config.budget`; an error names the key, e.g. `fireline.toml: budget.teams.Data`."""
    where = source or "fireline.toml"
    settings = validate_section(BudgetSettings, dict(section or {}), "budget", where)
    if teams is not None:
        unknown = sorted(set(settings.teams) - set(teams))
        if unknown:
            known = ", ".join(teams) or "none configured"
            raise UserError(f"{where}: budget.teams.{unknown[0]}: unknown team (teams: {known})")
    return settings


def of(cfg: Config) -> BudgetSettings:
    return load(cfg.budget, cfg.source, cfg.team_names or None)
