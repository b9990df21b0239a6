"""The on-call figures a reader asks for together: coverage (`fireline oncall gaps`) and load
(`fireline oncall load`), assembled from fireline.metrics.oncall for one window and scope.

Shared by the command line and the HTML report, so both show the same figures. No clock and no
store handling: the caller opens the store (or has none: `tables` None) and passes the window.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis

from ..config import Config
from . import days
from .settings import Setup

if TYPE_CHECKING:
    from ..metrics.knowledge_history import History
    from ..metrics.oncall import TeamSchedule


def expand(setup: Setup, start: datetime, end: datetime, teams: Collection[str] | None = None
           ) -> dict[str, TeamSchedule]:
    """The schedules of `teams` (all when None) that coverage and load of [start, end) need, expanded
    once: up to `verify_hours` past `end`, for the deployments just before it. Pass the result to
    both as `scheds=`."""
    from ..metrics import oncall as m

    return m.schedules(setup, start, m.verify_end(setup, end), teams)


def coverage(setup: Setup, config: Config, tables: Mapping[str, ibis.Table] | None, start: datetime,
             end: datetime, *, teams: Collection[str] | None = None, services: Collection[str] | None = None,
             team_of: Callable[[str], str | None] | None = None,
             scheds: Mapping[str, TeamSchedule] | None = None,
             histories: Mapping[str, History] | None = None) -> dict:
    """Gaps, long weekend/holiday stretches, unverified production deployments and experts away in
    [start, end), for the rotations of `teams` (all when None) and the deployments and experts of
    `services` (all when None). `team_of` defaults to the config's teams. `scheds` (from `expand`)
    and `histories` (each repository's, loaded with the people of config) save expanding and loading
    them again when the caller has them."""
    from ..identity import People
    from ..metrics import oncall as m

    owner = team_of or config.team_of
    if scheds is None:
        scheds = expand(setup, start, end, teams)
    full = {t: s for t, s in scheds.items() if teams is None or t in teams}
    window = m.clip(full, start, end)
    unverified: dict[str, Any]
    experts: dict[str, Any]
    if tables is None:
        unverified = {"unknown": "no store (ingest deployments first)", "checked": 0, "unverified": [],
                      "verify_hours": setup.settings.verify_hours}
        experts = {"unknown": "no store (ingest git first)", "periods": []}
    else:
        unverified = m.unverified_deployments(tables, setup, owner, config.production_environments, start, end,
                                              scheds=full)
        unverified["unverified"] = [u for u in unverified["unverified"]
                                    if (teams is None or u["team"] in teams)
                                    and (services is None or u["service"] in services)]
        experts = m.experts_away(tables, setup, People.from_config(config), start, end, histories=histories)
        if services is not None:
            experts["periods"] = [p for p in experts["periods"] if p["service"] in services]
    gaps = m.coverage_gaps(window, setup, start, end)
    for gap in gaps:
        gap["days_off"] = _days_off(setup, gap["team"], gap["start"], gap["end"])
    for dep in unverified["unverified"]:
        dep["day_off"] = _day_off(setup, dep["team"], dep["time"])
    stretches = m.weekend_stretches(window, setup)
    data: dict[str, Any] = {"from": start, "to": end, "gaps": gaps,
                            "no_rotation": m.no_rotation(setup, sorted(full), start, end),
                            "weekend_stretches": stretches,
                            "unverified_deployments": unverified, "experts_away": experts}
    data["found"] = (len(gaps) + len(stretches) + len(unverified["unverified"])
                     + len(experts["periods"]))
    return data


def load(setup: Setup, tables: Mapping[str, ibis.Table] | None, start: datetime, end: datetime,
         team_of: Callable[[str], str | None], *, teams: Collection[str] | None = None,
         scheds: Mapping[str, TeamSchedule] | None = None) -> dict:
    """Hours on call per person in [start, end) (business, off, sleep on their own clock) and the
    pages that reached them, for the rotations of `teams` (all when None). `scheds`: as for coverage."""
    from ..metrics import oncall as m

    if scheds is None:
        scheds = m.schedules(setup, start, end, teams)
    window = m.clip({t: s for t, s in scheds.items() if teams is None or t in teams}, start, end)
    page_rows = m.pages(tables, start, end) if tables is not None else None
    return {"from": start, "to": end, **m.load(window, setup, page_rows, team_of)}


def _zone(setup: Setup, team: str | None) -> str:
    return setup.rotations[team].zone if team in setup.rotations else "UTC"


def _days_off(setup: Setup, team: str, start: datetime, end: datetime) -> list[str]:
    """The weekend days and public holidays (on the rotation's calendar) a gap touches: the hours
    when fewest people are around to notice nobody is on call."""
    last = end - timedelta(microseconds=1)  # `end` is exclusive: a gap ending at midnight ends the day before
    return [label for _, _, labels in days.off_blocks(start, last, _zone(setup, team), setup.settings.holidays)
            for label in labels]


def _day_off(setup: Setup, team: str | None, instant: datetime) -> str | None:
    zone = _zone(setup, team)
    return days.day_off(days.to_local(instant, zone).date(), zone, setup.settings.holidays)
