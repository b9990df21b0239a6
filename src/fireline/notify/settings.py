"""`[notify.<name>]`: where messages go and which ones, validated when the config is read.

Secrets (webhook URLs, the SMTP password) live in environment variables that the file names
(`url_env`, `password_env`); a secret written into the file is refused, naming the file and key,
so a config checked into git never carries one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import safe_load
from ..config import Config, validate_section
from ..errors import UserError
from . import cron

KINDS = ("slack", "teams", "webhook", "email")
# What can be sent: scheduled ones take a cron schedule, the others are sent when their event happens.
SCHEDULED = ("dora_digest", "overdue_actions")
EVENTS = ("handoff", "unguarded_deploy", "customer_first")
MESSAGES = (*SCHEDULED, *EVENTS)
DEFAULT_SCHEDULE = "0 9 * * mon"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Keys that would hold a secret in the file itself, and the key that names its variable instead.
SECRET_KEYS = {"url": "url_env", "webhook_url": "url_env", "webhook": "url_env", "password": "password_env",
               "smtp_password": "password_env", "token": "url_env", "username": "username_env"}


def _env_name(value: str | None) -> str | None:
    if value is None:
        return None
    if "://" in value or not ENV_NAME.match(value):
        raise ValueError("expected the name of an environment variable (e.g. FIRELINE_SLACK_URL), not the secret "
                         "itself: a secret must not be written in the config file")
    return value


def _schedule(value: str | bool) -> str | bool:
    if isinstance(value, str):
        cron.parse(value)  # ValueError: field and reason
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageSwitches(_Strict):
    """Which messages a channel (or one team on it) gets: a cron schedule or true/false."""

    dora_digest: str | bool | None = None
    overdue_actions: str | bool | None = None
    handoff: bool | None = None
    unguarded_deploy: bool | None = None
    customer_first: bool | None = None
    timezone: str | None = None

    @field_validator("dora_digest", "overdue_actions")
    @classmethod
    def _cron(cls, value: str | bool | None) -> str | bool | None:
        return None if value is None else _schedule(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            safe_load.zone(value)
        return value


class ChannelSpec(MessageSwitches):
    kind: Literal["slack", "teams", "webhook", "email"]
    url_env: str | None = None
    teams: list[str] | None = None
    team: dict[str, MessageSwitches] = Field(default_factory=dict)
    lookback_hours: float = Field(default=24, gt=0, le=24 * 31)
    max_attempts: int = Field(default=8, ge=1, le=100)
    timeout_seconds: float = Field(default=10, gt=0, le=300)
    # e-mail
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    starttls: bool = True
    # A CA bundle that signs the mail server's certificate (an internal relay); default: the system's.
    ca_file: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    sender: str | None = None
    to: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_literal_secret(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in SECRET_KEYS.items():
                if key in data:
                    raise ValueError(f"`{key}` would put a secret in the file: set it in an environment variable "
                                     f"and name that variable in `{instead}`")
        return data

    @field_validator("url_env", "username_env", "password_env")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if address.count("@") != 1 or not all(address.split("@")) or any(c in address for c in " ,<>"):
                raise ValueError(f"not an e-mail address: {address!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> ChannelSpec:
        if self.kind == "email":
            missing = [k for k in ("smtp_host", "sender") if getattr(self, k) is None] + ([] if self.to else ["to"])
            if missing:
                raise ValueError(f"an email channel needs {', '.join(missing)}")
            if self.url_env is not None:
                raise ValueError("`url_env` is for webhook channels; an email channel takes smtp_host")
        elif self.url_env is None:
            raise ValueError(f"a {self.kind} channel needs `url_env`: the environment variable holding its webhook URL")
        return self


@dataclass(frozen=True)
class Channel:
    """One `[notify.<name>]`, validated; secrets are read from the environment when a message is sent."""

    name: str
    spec: ChannelSpec
    source: str  # the config file, for errors

    @property
    def kind(self) -> str:
        return self.spec.kind

    def key(self, key: str) -> str:
        return f"{self.source}: notify.{self.name}.{key}"

    def secret(self, key: str, *, required: bool = True) -> str | None:
        """The value of the environment variable named by `key` (`url_env`, `password_env`)."""
        name = getattr(self.spec, key)
        if name is None:
            return None
        value = os.environ.get(name)
        if not value and required:
            raise UserError(f"{self.key(key)}: the environment variable {name} is not set (it holds the "
                            f"{'webhook URL' if key == 'url_env' else key.removesuffix('_env')} of this channel)")
        return value

    def teams(self, config: Config) -> list[str | None]:
        """The channel's teams; [None] (every service, one digest) when the config names no team at all."""
        if self.spec.teams is not None:
            return list(self.spec.teams)
        return list(config.team_names) or [None]

    def switch(self, team: str | None, message: str) -> str | bool:
        """The schedule (cron text) or on/off of `message` for `team` on this channel; the team's table wins."""
        own = self.spec.team.get(team) if team is not None else None
        value = getattr(own, message) if own is not None else None
        if value is None:
            value = getattr(self.spec, message)
        if value is None:
            return DEFAULT_SCHEDULE if message in SCHEDULED else True
        if value is True and message in SCHEDULED:
            return DEFAULT_SCHEDULE
        return value

    def zone(self, config: Config, team: str | None) -> str:
        """The clock a schedule is read on: the team's table, the channel's, the team's rotation, the config's."""
        own = self.spec.team.get(team) if team is not None else None
        if own is not None and own.timezone:
            return own.timezone
        if self.spec.timezone:
            return self.spec.timezone
        rotation = config.rotations.get(team) if team is not None else None
        if isinstance(rotation, dict) and isinstance(rotation.get("timezone"), str):
            return rotation["timezone"]
        return config.timezone


def load(config: Config) -> dict[str, Channel]:
    """Every `[notify.<name>]` of `config`; UserError names the file and key."""
    source = config.source or "fireline.toml"
    channels: dict[str, Channel] = {}
    for name, data in config.notify.items():
        if not isinstance(data, dict):
            raise UserError(f"{source}: notify.{name}: expected a table ([notify.{name}] with kind = \"slack\", ...)")
        spec = validate_section(ChannelSpec, data, f"notify.{name}", source)
        known = config.team_names
        for i, team in enumerate(spec.teams or ()):
            if known and team not in known:
                raise UserError(f"{source}: notify.{name}.teams.{i}: unknown team {team!r} (teams: {', '.join(known)})")
        for team in spec.team:
            if known and team not in known:
                raise UserError(f"{source}: notify.{name}.team.{team}: unknown team {team!r} "
                                f"(teams: {', '.join(known)})")
        channels[name] = Channel(name, spec, source)
    return channels


def channel(config: Config, name: str) -> Channel:
    channels = load(config)
    if name not in channels:
        known = ", ".join(channels) or "none configured: add [notify.<name>] to fireline.toml"
        raise UserError(f"unknown channel {name!r} (channels: {known})", field="channel")
    return channels[name]
