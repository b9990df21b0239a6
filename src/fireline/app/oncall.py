"""On call, as every face asks for it: who is on call, the next handoffs, the schedule, coverage gaps,
load per person and the handoff note's facts. Each takes the config, the store when the answer reads
history (None: rotations alone still answer), an explicit instant or window, and returns a typed result.

Errors name library fields (`since`, `until`, `at`, `team`, `person`); the CLI turns them into its flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ibis

from ..config import Config
from ..errors import UserError
from ..oncall.settings import Setup
from ..results import OncallGaps, OncallHandoff, OncallLoad, OncallNext, OncallNow, OncallSchedule
from ..window import parse_instant

__all__ = ["Window", "gaps", "handoff", "load", "next_handoffs", "now", "schedule", "setup", "window"]

Tables = Mapping[str, ibis.Table] | None
Window = tuple[datetime, datetime]


def setup(config: Config, team: str | None = None) -> Setup:
    """The validated rotations (calendars read); an unknown `team` or no rotation at all is bad input."""
    from ..oncall.settings import load as load_setup

    found = load_setup(config)
    if not found.rotations:
        raise UserError("no rotations configured: add [rotations.<team>] with at least one layer "
                        "(see docs/oncall.md)", where=config.source or "fireline.toml")
    if team is not None and team not in found.rotations:
        raise UserError(f"no rotation for team {team!r} (rotations: {', '.join(found.rotations)})", field="team")
    return found


def instant(value: str, field: str, config: Config, *, end: bool = False) -> datetime:
    """A date or ISO time in the configured zone (a date is its midnight, or its end with `end`)."""
    from ..oncall.schedule import YEARS, in_range

    when = parse_instant(value, field, config.timezone, end=end)
    # Narrower than the other commands' years: shifts are computed up to a rotation length past a date.
    if not in_range(when):
        raise UserError(f"out of range: {value!r} (use a time in the years {YEARS[0]}–{YEARS[1]})", field=field)
    return when


def window(config: Config, since: str | None, until: str | None, now: datetime, *, default_from: timedelta,
           default_days: int) -> Window:
    """[since, until): `default_from` from `now` and `default_days` long when absent."""
    lo = instant(since, "since", config) if since else now + default_from
    hi = instant(until, "until", config, end=True) if until else lo + timedelta(days=default_days)
    if hi <= lo:
        raise UserError(f"the window is empty: since {lo:%Y-%m-%d %H:%M} is not before until "
                        f"{hi:%Y-%m-%d %H:%M} (UTC)", field="since/until")
    return lo, hi


def now(config: Config, at: datetime, team: str | None = None) -> OncallNow:
    """Per team at `at`: the person, their layer, since and until when, and every layer's person."""
    from ..metrics.oncall import around
    from ..oncall.schedule import at as shift_at
    from ..oncall.schedule import runs

    found = setup(config, team)
    rows: list[dict[str, Any]] = []
    for name, sched in around(found, at, team).items():
        run, shift = shift_at(runs(sched.final), at), shift_at(sched.final, at)
        layers = [{"layer": s.layer, "person": s.person} for s in sched.layers if s.start <= at < s.end]
        rows.append({"team": name, "person": shift.person if shift else None, "layer": shift.layer if shift else None,
                     "reason": shift.reason if shift else None, "since": run.start if run else None,
                     "until": run.end if run else None, "zone": found.zones.get(shift.person) if shift else None,
                     "layers": layers})
    return OncallNow(at=at, teams=rows)


def next_handoffs(config: Config, at: datetime, count: int = 3, team: str | None = None) -> OncallNext:
    """The next `count` handoffs per team after `at` (a gap shows as nobody)."""
    from ..metrics.oncall import next_handoffs as handoffs

    if count < 1:
        raise UserError("must be 1 or more", field="count")
    found = setup(config, team)
    return OncallNext(at=at, teams=[{"team": name, "handoffs": items}
                                    for name, items in handoffs(found, at, count, team).items()])


def schedule(config: Config, span: Window, *, team: str | None = None, person: str | None = None,
             layers: bool = False, ics: Path | None = None, stamp: datetime) -> OncallSchedule:
    """The shifts of [since, until): who is finally on call, or every layer's; also written to `ics`
    (`stamp`: when the calendar was made)."""
    from ..metrics.oncall import schedules
    from ..oncall.ical import to_ics

    found = setup(config, team)
    if person is not None and config.people and person not in config.people:
        raise UserError(f"unknown person {person!r} (not in [people])", field="person")
    lo, hi = span
    shifts = [s for sched in schedules(found, lo, hi, team).values() for s in (sched.layers if layers else sched.final)]
    if person is not None:
        shifts = [s for s in shifts if s.person == person]
    shifts.sort(key=lambda s: (s.start, s.team, s.layer))
    if ics is not None:
        emails = {n: p.email for n, p in config.people.items() if p.email}
        try:
            ics.write_bytes(to_ics(shifts, name=f"On call: {person or team or 'all teams'}", stamp=stamp,
                                   emails=emails))
        except OSError as exc:
            raise UserError(f"cannot write: {exc.strerror}", where=str(ics)) from None
    return OncallSchedule(from_=lo, to=hi, ics=str(ics) if ics else None, shifts=[s.as_dict() for s in shifts])


def gaps(config: Config, tables: Tables, span: Window, *, team: str | None = None) -> OncallGaps:
    """Nobody on call; days off on one person for too long; production deployments nobody of their team
    was on call to verify; every expert of a service away at once."""
    from ..oncall.report import coverage

    found = setup(config, team)
    own = None
    if team is not None:
        own = set(config.services_of_team(team)) if team in config.team_names else set()
    return OncallGaps.from_dict(coverage(found, config, tables, *span, teams=None if team is None else {team},
                                         services=own))


def load(config: Config, tables: Tables, span: Window, *, team: str | None = None) -> OncallLoad:
    """Hours on call per person on their own clock, and the pages that reached them."""
    from ..oncall.report import load as load_report

    found = setup(config, team)
    return OncallLoad.from_dict(load_report(found, tables, *span, config.team_of,
                                            teams=None if team is None else {team}))


def handoff(config: Config, tables: Mapping[str, ibis.Table], team: str, at: datetime) -> OncallHandoff:
    """The facts of the handoff note for `team` at the shift change `at` (mid-shift: the coming one)."""
    from ..metrics.oncall import handoff as handoff_facts

    found = setup(config, team)
    services = config.services_of_team(team) if team in config.team_names else []
    return OncallHandoff.from_dict(handoff_facts(tables, found, team, services, config.production_environments, at,
                                                 zone=config.timezone))


def zones(config: Config) -> dict[str, str]:
    """Each person's own zone, for views that show a shift on its person's clock (the calendars are not read:
    they hold time off, not zones)."""
    from ..oncall.settings import load as load_setup

    return load_setup(config, read_calendars=False).zones
