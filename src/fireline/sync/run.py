"""`fireline sync SOURCE`: every stream of every target, then the normaliser over what arrived.

What was stored before an error stays and is normalised; the error (SyncError: exit 2, with the
provider's message) is raised after that, and each stream's cursor stays at its last complete page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .. import normalise
from ..config import Config
from ..errors import UserError
from ..store import Store
from . import github, gitlab, pagerduty, settings
from .client import Client, Stats
from .streams import Tally, run

SOURCES = ("github", "gitlab", "pagerduty")


@dataclass
class SyncResult:
    source: str
    targets: list[str]
    tally: Tally
    stats: Stats
    normalised: int = 0
    streams: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        kinds = sorted(set(self.tally.fetched) | set(self.tally.new))
        return {"source": self.source, "targets": self.targets,
                "events": {k: {"fetched": self.tally.fetched.get(k, 0), "new": self.tally.new.get(k, 0)}
                           for k in kinds},
                **self.stats.as_dict(), "normalised": self.normalised}


def targets_of(config: Config, source: str, given: list[str]) -> list[str]:
    """The repositories (or PagerDuty services) to sync: those given, else those in config."""
    if given:
        return list(dict.fromkeys(given))
    if source == "pagerduty":
        return list(settings.of(config).pagerduty.services)
    found = [getattr(repo, source) for repo in config.repos.values() if getattr(repo, source)]
    if not found:
        example = "OWNER/REPO" if source == "github" else "GROUP/PROJECT"
        raise UserError(f"nothing to sync: name {example}, or set [repos.<name>] {source} = \"{example.lower()}\" "
                        f"in the config", field="targets")
    return found


def sync(store: Store, config: Config, source: str, given: list[str], *, since: datetime | None = None,
         sleep: Callable[[float], None] = time.sleep, env: Mapping[str, str] = os.environ,
         progress: Callable[[str, int], None] | None = None,
         transport: httpx.BaseTransport | None = None) -> SyncResult:
    if source not in SOURCES:
        raise UserError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}", field="source")
    conf = getattr(settings.of(config), source)
    token = env.get(conf.token_env) or None
    if token is None and source == "pagerduty":
        raise UserError(f"{conf.token_env} is not set: PagerDuty needs an API token "
                        f"(the variable's name is [sync.pagerduty] token_env)", field="token")
    targets = targets_of(config, source, given)
    module = {"github": github, "gitlab": gitlab, "pagerduty": pagerduty}[source]
    client = Client(source, module.headers(token), timeout=conf.timeout_seconds, retries=conf.retries,
                    sleep=sleep, transport=transport)
    result = SyncResult(source, targets, Tally(targets=targets), client.stats)
    pages = 0

    def page_done(stream: str) -> None:
        nonlocal pages
        pages += 1
        if progress:
            progress(stream, pages)

    try:
        with client:
            for target in targets if source != "pagerduty" else [""]:
                if source == "github":
                    streams = github.streams(client, conf.base_url, target, incident_label=config.incident_label)
                elif source == "gitlab":
                    streams = gitlab.streams(client, conf.api(), target, incident_label=config.incident_label)
                else:
                    streams = pagerduty.streams(client, conf.base_url, targets, lambda: datetime.now(UTC),
                                                lookback=timedelta(days=conf.lookback_days))
                for stream in streams:
                    result.streams.append(f"{stream.target}:{stream.name}")
                    run(store, client, stream, since=since, tally=result.tally, progress=page_done)
    finally:
        # What arrived before an error is kept and measured; the error still reaches the user.
        while done := normalise.normalise_pending(store, config):
            result.normalised += done
    return result
