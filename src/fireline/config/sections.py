"""The config's sections besides teams, services and repositories: `[people]`, `[server]`, `[testing]`,
`[rework]` (fireline.config puts them together and loads the file)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import safe_load


class Strict(BaseModel):
    """A section whose unknown keys are refused (a typo must not pass unnoticed)."""

    model_config = ConfigDict(extra="forbid")


class PersonConfig(BaseModel):
    # Later features (rotations, knowledge) add keys here; unknown keys are kept.
    model_config = ConfigDict(extra="allow")
    email: str | None = None
    emails: list[str] = Field(default_factory=list)
    team: str | None = None
    timezone: str | None = None
    # Other names, GitHub logins or emails this person commits under (fireline.identity merges them).
    aliases: list[str] = Field(default_factory=list)

    @field_validator("aliases")
    @classmethod
    def _named(cls, value: list[str]) -> list[str]:
        for alias in value:
            if not alias.strip():
                raise ValueError("an alias must not be empty")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            safe_load.zone(value)  # a bad zone is refused with the config, whichever command reads it
        return value


# Keys of `[people]` that are settings, not people (a person cannot be called so).
PEOPLE_SETTINGS = ("bots", "include_bots")


class PeopleOptions(Strict):
    """`[people] bots` (names or emails of authors that are bots) and `include_bots` (keep bots in
    truck factor, silos, owners and active authors)."""

    bots: list[str] = Field(default_factory=list)
    include_bots: bool = False

    @field_validator("bots")
    @classmethod
    def _names_or_emails(cls, value: list[str]) -> list[str]:
        for entry in value:
            text = entry.strip()
            if not text:
                raise ValueError("a bot must be a name or an email, not empty")
            if "@" in text and (text.count("@") != 1 or not all(text.split("@")) or " " in text):
                raise ValueError(f"not an email: {entry!r} (a name, or an address such as bot@example.com)")
        return value


class ServerConfig(Strict):
    """`[server]`: secrets may also come from the environment (which wins), and never from logs."""

    github_secret: str | None = None
    gitlab_token: str | None = None
    pagerduty_secret: str | None = None
    ingest_token: str | None = None  # Alertmanager and /events: bearer token or HMAC key
    read_token: str | None = None  # dashboard read access on a non-loopback address (env FIRELINE_READ_TOKEN wins)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    normalise_interval_seconds: float = Field(default=1.0, gt=0)
    # /healthz says degraded when the oldest waiting raw event is older than this.
    max_pending_age_seconds: float = Field(default=300.0, ge=0)
    # Host header values answered besides the loopback names (DNS rebinding): default the bound host
    # (and the machine's names when bound to every interface); "*" answers any, "*.example.com" a domain.
    allowed_hosts: list[str] | None = None
    # Seconds a connection may take to send a request's headers (and may sit idle between requests).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    # How often the server fetches and ingests each `[repos.<name>]`: seconds, or "90s", "10m", "1h".
    sync_interval: float = Field(default=600.0, gt=0)

    @field_validator("sync_interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("expected seconds, or a number with s, m or h (\"10m\")")
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", value)
            if not match:
                raise ValueError(f"not a duration: {value!r} (seconds, or a number with s, m or h: \"10m\")")
            return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            bare = name.removeprefix("*.") if name != "*" else "x"
            if not bare.strip() or any(c in bare for c in "/ @?#") or bare.count("*"):
                raise ValueError(f"not a host name: {name!r} (a name, an address, \"*\" or \"*.example.com\")")
        return value


def path_globs(value: list[str] | None) -> list[str] | None:
    """`ignore_paths` globs: `*` and `?` only (they also become SQL LIKE patterns)."""
    for pattern in value or ():
        if not pattern.strip() or "[" in pattern or "]" in pattern:
            raise ValueError(f"a glob with * and ? only, got {pattern!r}")
    return value


class TestingConfig(Strict):
    """`[testing]`: what counts as a bug fix and as a test; unset keys keep the defaults of docs/testing.md."""

    fix_keywords: list[str] | None = None
    # language -> patterns; replaces the whole default table when given.
    test_patterns: dict[str, list[str]] | None = None
    # Regular expressions on the subject (case-insensitive); replaces the default dependency-bump list.
    ignore_subjects: list[str] | None = None
    ignore_authors: list[str] = Field(default_factory=list)
    # Globs; a fix touching only matching files is a chore. None: the default list of docs/testing.md.
    ignore_paths: list[str] | None = None
    include_merges: bool = False

    @field_validator("ignore_paths")
    @classmethod
    def _path_globs(cls, value: list[str] | None) -> list[str] | None:
        return path_globs(value)

    @field_validator("ignore_subjects")
    @classmethod
    def _regexes(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r} ({exc})") from None
        return value


class ReworkConfig(Strict):
    """`[rework]`: a revert or hotfix touching only files matching these globs is not rework."""

    # None: the default list (documentation, CI, dependency manifests) of docs/metrics.md.
    ignore_paths: list[str] | None = None

    @field_validator("ignore_paths")
    @classmethod
    def _globs(cls, value: list[str] | None) -> list[str] | None:
        return path_globs(value)
