"""fireline.toml (or [tool.fireline] in pyproject.toml): loading and validation."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

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

from .. import safe_load
from ..errors import UserError
from ..model import NO_TEAM
from .sections import PEOPLE_SETTINGS as PEOPLE_SETTINGS
from .sections import PeopleOptions as PeopleOptions
from .sections import PersonConfig as PersonConfig
from .sections import ReworkConfig as ReworkConfig
from .sections import ServerConfig as ServerConfig
from .sections import Strict
from .sections import TestingConfig as TestingConfig
from .validation import format_validation as format_validation
from .validation import validate_section as validate_section

CONFIG_ENV = "FIRELINE_CONFIG"


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


class TeamConfig(Strict):
    services: list[str] = Field(default_factory=list)


class ServiceConfig(Strict):
    repo: str | None = None
    paths: list[str] = Field(default_factory=list)
    deploy_tags: TagPatterns | None = None
    team: str | None = None


class RepoConfig(Strict):
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
            from ..window import as_of

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
        from ..metrics.tiers import PROFILES

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
