"""fireline.toml (or [tool.fireline] in pyproject.toml): loading and validation."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import safe_load
from .errors import UserError
from .model import NO_TEAM

CONFIG_ENV = "FIRELINE_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _usable_patterns(patterns: list[str]) -> list[str]:
    if any(not p.strip() or p.strip() == "!" for p in patterns):
        raise ValueError("an empty pattern (write globs such as \"v*\" or \"!*-rc*\")")
    if not any(not p.startswith("!") for p in patterns):
        raise ValueError("only exclusions (\"!...\"): no tag would match; add an include such as \"v*\"")
    return patterns


# `deploy_tags`: one glob or a list; `!` excludes (`["v*", "!*-rc*"]`). A tag is a deployment when it
# matches an include and no exclude (`sources.git.tag_matches`).
TagPatterns = Annotated[list[str], BeforeValidator(_one_or_many), AfterValidator(_usable_patterns)]


def tag_patterns(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """One pattern or several, as the list the config holds; None or nothing given is None."""
    patterns = _one_or_many(value) if value is not None else None
    return list(patterns) if patterns else None


class TeamConfig(_Strict):
    services: list[str] = Field(default_factory=list)


class ServiceConfig(_Strict):
    repo: str | None = None
    paths: list[str] = Field(default_factory=list)
    deploy_tags: TagPatterns | None = None
    team: str | None = None


class RepoConfig(_Strict):
    """`[repos.<name>]`: a repository `fireline ingest git` reads when given no path. It ships one
    service (`service`, default the `<name>`) of `team`; `[services]` entries naming the same
    repository (a monorepo's) take its place."""

    path: str
    service: str | None = None
    team: str | None = None
    deploy_tags: TagPatterns | None = None
    # Where `fireline sync` finds its history: "owner/repo" on GitHub, "group/project" on GitLab.
    github: str | None = None
    gitlab: str | None = None

    @field_validator("path", "service", "team")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("github", "gitlab")
    @classmethod
    def _repository_path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[\w.-]+(/[\w.-]+)+$", value.strip()):
            raise ValueError(f"expected \"owner/repo\" (GitHub) or \"group/project\" (GitLab), got {value!r}")
        return value.strip() if value else value


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


class PeopleOptions(_Strict):
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


class ServerConfig(_Strict):
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


class TestingConfig(_Strict):
    """`[testing]`: what counts as a bug fix and as a test; unset keys keep the defaults of docs/testing.md."""

    fix_keywords: list[str] | None = None
    # language -> patterns; replaces the whole default table when given.
    test_patterns: dict[str, list[str]] | None = None
    # Regular expressions on the subject (case-insensitive); replaces the default dependency-bump list.
    ignore_subjects: list[str] | None = None
    ignore_authors: list[str] = Field(default_factory=list)
    include_merges: bool = False

    @field_validator("ignore_subjects")
    @classmethod
    def _regexes(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r} ({exc})") from None
        return value


class ReworkConfig(_Strict):
    """`[rework]`: a revert or hotfix touching only files matching these globs is not rework."""

    # None: the default list (documentation, CI, dependency manifests) of docs/metrics.md.
    ignore_paths: list[str] | None = None

    @field_validator("ignore_paths")
    @classmethod
    def _globs(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            if not pattern.strip() or "[" in pattern or "]" in pattern:
                raise ValueError(f"a glob with * and ? only, got {pattern!r}")
        return value


class Config(BaseModel):
    # Unknown keys are refused: a typo must not silently change which deployments count.
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    # The store every command uses when neither --db nor FIRELINE_DB names one: a DuckDB file (relative
    # to this file's folder) or a postgresql:// URL.
    db: str | None = None
    # As of: the default "now" of every command and window (a date: that whole day has passed; or an
    # ISO time, in `timezone`), so a fixed history reads the same every day. --at wins.
    at: str | None = None
    production_environments: list[str] = Field(default_factory=lambda: ["production"])
    incident_label: str = "incident"
    profile: str = "seed"
    time_basis: Literal["committer", "author"] = "committer"
    deploy_tags: TagPatterns | None = None
    # GitHub Actions workflows (name globs) whose successful runs are production deployments.
    deploy_workflows: list[str] = Field(default_factory=list)
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    repos: dict[str, RepoConfig] = Field(default_factory=dict)
    people: dict[str, PersonConfig] = Field(default_factory=dict)
    # `[people] bots` / `include_bots`, moved out of the person entries when read.
    people_options: PeopleOptions = Field(default_factory=PeopleOptions, exclude=True)
    server: ServerConfig = Field(default_factory=ServerConfig)
    # `[alerts]`: rule-lint checks and alert analytics; validated by fireline.alerting.settings.
    alerts: dict[str, Any] = Field(default_factory=dict)
    # `[postmortems]`: folder and lint settings; validated by fireline.postmortems.settings.
    postmortems: dict[str, Any] = Field(default_factory=dict)
    # `[rotations.<team>]`: on-call rotations per team; validated by fireline.oncall.settings.
    rotations: dict[str, Any] = Field(default_factory=dict)
    # `[oncall]`: coverage limits (weekend stretch, holidays); validated by fireline.oncall.settings.
    oncall: dict[str, Any] = Field(default_factory=dict)
    # `[budget]`: bug budget per team; validated by fireline.debt.settings.
    budget: dict[str, Any] = Field(default_factory=dict)
    # `[sync.github|gitlab|pagerduty]`: base URLs, token variables; validated by fireline.sync.settings.
    sync: dict[str, Any] = Field(default_factory=dict)
    # `[notify.<name>]`: chat, webhook and mail channels; validated by fireline.notify.settings.
    notify: dict[str, Any] = Field(default_factory=dict)
    testing: TestingConfig = Field(default_factory=TestingConfig)
    rework: ReworkConfig = Field(default_factory=ReworkConfig)
    # Where the config was read from; repo paths are relative to its folder.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    source: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _people_settings(cls, data: Any) -> Any:
        people = data.get("people") if isinstance(data, dict) else None
        if isinstance(people, dict) and any(k in people for k in PEOPLE_SETTINGS):
            options = {k: people[k] for k in PEOPLE_SETTINGS if k in people}
            data = {**data, "people": {k: v for k, v in people.items() if k not in PEOPLE_SETTINGS},
                    "people_options": options}
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        safe_load.zone(value)  # ValueError naming the (shortened) value
        return value

    @field_validator("db")
    @classmethod
    def _some_store(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("an empty store name (a DuckDB file or postgresql://...)")
        return value

    @field_validator("at")
    @classmethod
    def _known_instant(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            from .window import as_of

            try:  # read in the configured zone (validated before: it comes first)
                as_of(value, info.data.get("timezone", "UTC"))
            except UserError as exc:
                raise ValueError(exc.message) from None
        return value

    def store_url(self) -> str | None:
        """`db` as a URL or a path from this file's folder (None when not set)."""
        if self.db is None or "://" in self.db:
            return self.db
        return str((self.base_dir / Path(self.db).expanduser()).resolve())

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        from .metrics.tiers import PROFILES

        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r}; choose one of {', '.join(PROFILES)}")
        return value

    def normalise_options(self) -> dict:
        """What webhook normalisers need to know from config."""
        pagerduty = self.sync.get("pagerduty")
        services = pagerduty.get("services") if isinstance(pagerduty, dict) else None
        return {"incident_label": self.incident_label, "deploy_workflows": tuple(self.deploy_workflows),
                # PagerDuty service id -> Fireline service (`[sync.pagerduty] services`), webhooks and sync alike.
                "pagerduty_services": {str(k): str(v) for k, v in services.items()} if isinstance(services, dict)
                else {}}

    def team_of(self, service: str) -> str | None:
        for name, team in self.teams.items():
            if service in team.services:
                return name
        svc = self.services.get(service)
        if svc and svc.team:
            return svc.team
        return next((r.team for n, r in self.repos.items() if r.team and (r.service or n) == service), None)

    def service_team_map(self, services: list[str]) -> dict[str, str]:
        return {s: (self.team_of(s) or NO_TEAM) for s in services}

    @property
    def team_names(self) -> list[str]:
        """Teams from `[teams]`, then those named only by a service's `team` key."""
        return list(dict.fromkeys([*self.teams, *(s.team for s in self.services.values() if s.team),
                                   *(r.team for r in self.repos.values() if r.team)]))

    def services_of_team(self, team: str) -> list[str]:
        if team not in self.team_names:
            known = ", ".join(self.team_names) or "none configured"
            raise UserError(f"unknown team {team!r} (teams: {known})", field="team")
        listed = list(self.teams[team].services) if team in self.teams else []
        listed += [n for n, s in self.services.items() if s.team == team and n not in listed]
        listed += [r.service or n for n, r in self.repos.items() if r.team == team and (r.service or n) not in listed]
        return listed

    def repo_path(self, service: str) -> Path | None:
        svc = self.services.get(service)
        if not svc or not svc.repo:
            return None
        return (self.base_dir / svc.repo).resolve()

    def services_in_repo(self, repo_path: Path) -> dict[str, ServiceConfig]:
        """The services a repository ships: `[services]` entries naming it, else the one service of
        its `[repos]` entry."""
        repo_path = repo_path.resolve()
        found = {n: s for n, s in self.services.items() if self.repo_path(n) == repo_path}
        entry = self.repo_entry(repo_path)
        if not found and entry:
            name, repo = entry
            found[repo.service or name] = ServiceConfig(team=repo.team)
        return found

    def repository_dirs(self, team: str | None = None) -> dict[Path, list[str]]:
        """Every configured repository folder (`[repos]` and `[services] repo`) with the services it ships,
        only those holding one of `team`'s services when given; in the config's order."""
        found: dict[Path, list[str]] = {}
        for name in self.repos:
            found.setdefault(self.repo_dir(name), [])
        for service in self.services:
            where = self.repo_path(service)
            if where is not None:
                found.setdefault(where, []).append(service)
        for where, services in found.items():
            if not services:
                services.extend(self.services_in_repo(where))
        if team is None:
            return found
        own = set(self.services_of_team(team))
        return {where: services for where, services in found.items() if own & set(services)}

    def repo_dir(self, name: str) -> Path:
        """Where `[repos.<name>]` is, its path read relative to the config's folder."""
        return (self.base_dir / Path(self.repos[name].path).expanduser()).resolve()

    def repo_entry(self, repo_path: Path) -> tuple[str, RepoConfig] | None:
        """The `[repos]` entry for a repository folder, if one names it."""
        repo_path = repo_path.resolve()
        return next(((n, r) for n, r in self.repos.items() if self.repo_dir(n) == repo_path), None)


def path_matches(path: str, globs: list[str]) -> bool:
    """Glob match where `**` spans folders and `dir/**` also matches files directly in dir."""
    for pattern in globs:
        if fnmatch.fnmatchcase(path, pattern):
            return True
        if pattern.endswith("/**") and path.startswith(pattern[:-2]):
            return True
    return False


def in_service(files: Iterable[str], globs: list[str]) -> bool:
    """Whether a commit touching `files` belongs to a service with these path globs: a service
    without globs owns its whole repository; a monorepo service owns commits touching its paths.
    Linking, the testing report and the debt ledger all answer "whose commit is this" with it."""
    return not globs or any(path_matches(f, globs) for f in files)


def format_validation(exc: ValidationError, source: str, prefix: str = "", data: Any = None) -> str:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        if loc[:1] == ("people_options",):  # read from `[people]` (Config._people_settings)
            loc = ("people", *loc[1:])
        key = ".".join([prefix, *_key_path(loc, data)] if prefix else _key_path(loc, data))
        key = key or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {key}: {msg}")
    return "\n".join(lines)


def _key_path(loc: tuple[Any, ...], data: Any) -> list[str]:
    """The keys the user wrote, from an error location: union members name themselves in it (`str`,
    `MemberSpec`), which are no keys. A part the input has is a key (so a person named `Tom` stays);
    of the others, capitalised ones are taken for type names."""
    parts: list[str] = []
    node = data
    for p in loc:
        name = str(p)
        inside = (isinstance(node, dict) and p in node) or (isinstance(node, list) and isinstance(p, int)
                                                             and 0 <= p < len(node))
        if inside:
            parts.append(name)
            node = node[p]
        elif not (name[:1].isupper() or name in _TYPE_TAGS or "[" in name):
            parts.append(name)  # a key the input lacks (a required one)
            node = None
    return parts


_TYPE_TAGS = {"str", "int", "float", "bool", "date", "datetime", "list", "dict"}

_Section = TypeVar("_Section", bound=BaseModel)


def validate_section(model: type[_Section], data: Any, prefix: str, source: str | None = None) -> _Section:
    """Validate one free-form config section (`[alerts]`, `[postmortems]`, ...) with its own model.

    Errors name the file and the full key, e.g. `fireline.toml: postmortems.folder: unknown key`.
    """
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise UserError(format_validation(exc, source or "fireline.toml", prefix, data)) from None


def parse_config(data: dict, *, source: str, base_dir: Path) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise UserError(format_validation(exc, source, data=data)) from None
    _bots_are_not_people(config, source)
    config.base_dir = base_dir
    config.source = source
    seen: dict[Path, str] = {}
    for name in config.repos:
        where = config.repo_dir(name)
        if where in seen:
            raise UserError(f"{source}: repos.{name}.path: the same repository as repos.{seen[where]}")
        seen[where] = name
    return config


def _bots_are_not_people(config: Config, source: str) -> None:
    named: dict[str, str] = {n.casefold(): n for n in config.people}
    for name, entry in config.people.items():
        named.update({e.strip().lower(): name for e in [entry.email, *entry.emails] if e})
    for bot in config.people_options.bots:
        text = bot.strip()
        person = named.get(text.lower() if "@" in text else text.casefold())
        if person is not None:
            raise UserError(f"{source}: people.bots: {bot!r} is the person {person!r} of [people], not a bot")


def load_config(path: str | Path | None = None, *, cwd: Path | None = None) -> Config:
    """Explicit path, else $FIRELINE_CONFIG, else ./fireline.toml, else pyproject's [tool.fireline]."""
    cwd = cwd or Path.cwd()
    explicit = path or os.environ.get(CONFIG_ENV)
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise UserError("config file not found", where=str(p))
        config = _read(p)
        assert config is not None  # only an optional pyproject.toml can hold no [tool.fireline]
        return config
    for candidate in (cwd / "fireline.toml", cwd / "pyproject.toml"):
        if candidate.is_file():
            config = _read(candidate, optional=candidate.name == "pyproject.toml")
            if config is not None:
                return config
    return Config(base_dir=cwd)


def _read(path: Path, *, optional: bool = False) -> Config | None:
    # Within the input limits (size, nesting, numbers); errors name the file and line.
    data = safe_load.loads_toml(safe_load.read_text(path, what="config file"), str(path))
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("fireline")
        if data is None:
            return None if optional else Config(base_dir=path.parent)
        source = f"{path} [tool.fireline]"
    else:
        source = str(path)
    return parse_config(data, source=source, base_dir=path.parent.resolve())
