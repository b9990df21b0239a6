"""`[sync.github]`, `[sync.gitlab]`, `[sync.pagerduty]`: where each provider is and how to authenticate.

Validated at config load (app/settings.py), so a typo stops every command with the file and key.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import Config, format_validation
from ..errors import UserError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    # The environment variable holding the token (never the token itself: config files get committed).
    token_env: str
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=5, ge=0, le=20)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value.strip()):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.strip().rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"not an environment variable name: {value!r}")
        return value


class GitHubSync(_Provider):
    base_url: str = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
    token_env: str = "GITHUB_TOKEN"


class GitLabSync(_Provider):
    base_url: str = "https://gitlab.com"  # self-managed: https://gitlab.example.com (/api/v4 is added)
    token_env: str = "GITLAB_TOKEN"

    def api(self) -> str:
        return self.base_url if self.base_url.endswith("/api/v4") else f"{self.base_url}/api/v4"


class PagerDutySync(_Provider):
    base_url: str = "https://api.pagerduty.com"
    token_env: str = "PAGERDUTY_TOKEN"
    # PagerDuty service id -> Fireline service name; the services synced when --service is not given.
    services: dict[str, str] = Field(default_factory=dict)
    # Incidents are listed by creation time: each sync asks again for those created this many days
    # before its cursor, so a resolution since the last sync arrives.
    lookback_days: float = Field(default=7.0, ge=0, le=180)

    @field_validator("services")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        for key, name in value.items():
            if not key.strip() or not name.strip():
                raise ValueError(f"a service id and a service name, got {key!r} = {name!r}")
        return value


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    github: GitHubSync = Field(default_factory=GitHubSync)
    gitlab: GitLabSync = Field(default_factory=GitLabSync)
    pagerduty: PagerDutySync = Field(default_factory=PagerDutySync)


def of(config: Config) -> SyncSettings:
    try:
        return SyncSettings.model_validate(config.sync)
    except ValidationError as exc:
        raise UserError(format_validation(exc, config.source or "fireline.toml", "sync", config.sync)) from None

