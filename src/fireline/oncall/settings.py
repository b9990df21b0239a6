"""`[rotations.<team>]` and `[oncall]`: validated, then turned into schedule.Rotation and Override.

Every error names the key as written in fireline.toml (`rotations.SRE.layers.0.length`), so a
reader knows which line to fix. Unknown keys are refused: a typo must not silently change who
is on call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .. import safe_load
from ..config import Config, validate_section
from ..errors import UserError
from .schedule import YEARS, Layer, Override, Rotation, Window, in_range, to_utc

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LENGTH = re.compile(r"^\s*(\d+)\s*(h|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)
CLOCK = re.compile(r"^\s*(?:(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+)?([01]?\d|2[0-4]):([0-5]\d)\s*$", re.IGNORECASE)
MAX_LENGTH_HOURS = 520 * 168
KINDS = ("pto", "conference", "sick", "swap", "cover", "other")
AWAY_KINDS = ("pto", "conference", "sick", "other")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowSpec(_Strict):
    start: str  # "09:00" (daily) or "fri 18:00" (weekly)
    end: str
    days: str | list[str] | None = None  # daily windows only: "mon-fri", ["sat", "sun"]
    zone: str | None = None


class MemberSpec(_Strict):
    name: str
    timezone: str | None = None


class LayerSpec(_Strict):
    name: str
    members: list[str | MemberSpec] = Field(min_length=1)
    length: str
    handoff: str = "09:00"
    handoff_zone: str | None = None
    start: date | datetime
    end: date | datetime | None = None
    restrictions: list[WindowSpec] = Field(default_factory=list)
    follow_the_sun: bool = False


class OverrideSpec(_Strict):
    person: str | None = None
    replacement: str | None = None
    start: date | datetime
    end: date | datetime
    kind: Literal[KINDS] = "other"  # type: ignore[valid-type]
    note: str = ""
    layer: str | None = None


class RotationSpec(_Strict):
    timezone: str | None = None
    layers: list[LayerSpec] = Field(min_length=1)
    overrides: list[OverrideSpec] = Field(default_factory=list)


class OncallSpec(_Strict):
    weekend_max_hours: float = Field(default=48, gt=0)
    holidays: str | list[str] = Field(default_factory=list)
    business_hours: str = "09:00-17:00"
    sleep_hours: str = "23:00-07:00"
    verify_hours: float = Field(default=1, ge=0)
    handoff_due_days: int = Field(default=14, ge=0)
    pto_calendars: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class OncallSettings:
    weekend_max_hours: float = 48
    holidays: tuple[str, ...] = ()
    business_hours: tuple[time, time] = (time(9), time(17))
    sleep_hours: tuple[time, time] = (time(23), time(7))
    verify_hours: float = 1
    handoff_due_days: int = 14
    pto_calendars: tuple[Path, ...] = ()


@dataclass
class Setup:
    """Everything the on-call commands need from config: rotations, overrides, limits, zones."""

    rotations: dict[str, Rotation]
    overrides: dict[str, list[Override]]  # team -> its overrides (its own plus the PTO calendars')
    settings: OncallSettings
    zones: dict[str, str]  # person -> time zone
    away: list[Override] = field(default_factory=list)  # every away period, any team (for experts)


def _where(config: Config, key: str) -> str:
    return f"{config.source or 'fireline.toml'}: {key}"


def _fail(config: Config, key: str, message: str) -> UserError:
    return UserError(message, where=_where(config, key))


def _validate(model: type[BaseModel], data: Any, config: Config, prefix: str) -> Any:
    return validate_section(model, data, prefix, config.source)


def zone_ok(zone: str, config: Config, key: str) -> str:
    try:
        safe_load.zone(zone)
    except ValueError as exc:
        raise _fail(config, key, str(exc)) from None
    return zone


def parse_length(text: str, config: Config, key: str) -> timedelta:
    m = LENGTH.match(text)
    if not m:
        raise _fail(config, key, f"not a rotation length: {text!r} (e.g. 12h, 1d, 2w)")
    n, unit = int(m.group(1)), m.group(2)[0].lower()
    if n == 0:
        raise _fail(config, key, "a rotation length must be more than zero")
    if n * {"h": 1, "d": 24, "w": 168}[unit] > MAX_LENGTH_HOURS:
        raise _fail(config, key, f"a rotation length of at most 520w (ten years), not {text!r}")
    return {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


def parse_clock(text: str, config: Config, key: str, *, weekday: bool | None = False,
                end: bool = False) -> tuple[int | None, time]:
    """`HH:MM` (24:00 allowed as an `end`: the end of the day), or with a weekday prefix (`fri 18:00`)."""
    m = CLOCK.match(text)
    if m and m.group(2) == "24" and m.group(3) == "00" and not end:
        # Read as 00:00 it would silently move to the start of the same day, a day early.
        raise _fail(config, key, f"24:00 is only allowed as the end of a window; use 00:00 (midnight at the "
                    f"start of the day), not {text!r}")
    if not m or (m.group(2) in ("24",) and m.group(3) != "00"):
        raise _fail(config, key, f"not a time: {text!r} (use HH:MM, e.g. 09:00" +
                    (", or a weekday and a time, e.g. fri 18:00)" if weekday is not False else ")"))
    day = DAYS.index(m.group(1).lower()) if m.group(1) else None
    if weekday is False and day is not None:
        raise _fail(config, key, f"a weekday is not allowed here: {text!r}")
    hour = int(m.group(2))
    return day, time(0) if hour == 24 else time(hour, int(m.group(3)))


def parse_range(text: str, config: Config, key: str) -> tuple[time, time]:
    parts = text.split("-")
    if len(parts) != 2:
        raise _fail(config, key, f"not a time range: {text!r} (e.g. 09:00-17:00)")
    return parse_clock(parts[0], config, key)[1], parse_clock(parts[1], config, key, end=True)[1]


def parse_days(spec: str | list[str], config: Config, key: str) -> frozenset[int]:
    items = spec.split(",") if isinstance(spec, str) else spec
    if not items:
        raise _fail(config, key, "name at least one weekday (e.g. mon-fri); with none the window never opens")
    days: set[int] = set()
    for item in items:
        ends = [p.strip().lower()[:3] for p in item.split("-")]
        if not ends or any(e not in DAYS for e in ends) or len(ends) > 2:
            raise _fail(config, key, f"not a weekday or range: {item!r} (e.g. mon-fri, sat, sun)")
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days |= {(a + i) % 7 for i in range((b - a) % 7 + 1)}
    return frozenset(days)


def _window(spec: WindowSpec, config: Config, key: str, follow_the_sun: bool) -> Window:
    if spec.zone is not None:
        if follow_the_sun:
            raise _fail(config, f"{key}.zone", "a follow-the-sun layer reads its windows in each region's own "
                        "zone; remove `zone`")
        zone_ok(spec.zone, config, f"{key}.zone")
    sday, stime = parse_clock(spec.start, config, f"{key}.start", weekday=None)
    eday, etime = parse_clock(spec.end, config, f"{key}.end", weekday=None, end=True)
    if (sday is None) != (eday is None):
        raise _fail(config, key, "start and end must both name a weekday (a weekly window) or neither (daily)")
    if sday is not None:
        if spec.days is not None:
            raise _fail(config, f"{key}.days", "a weekly window takes its days from start and end")
        return Window(stime, etime, spec.zone, start_day=sday, end_day=eday)
    days = parse_days(spec.days, config, f"{key}.days") if spec.days is not None else frozenset(range(7))
    return Window(stime, etime, spec.zone, days=days)


def _dated(value: date | datetime | None, config: Config, key: str) -> None:
    if value is not None and not in_range(value):
        raise _fail(config, key, f"out of range: {value} (use a date in the years {YEARS[0]}–{YEARS[1]})")


def _local(value: date | datetime, zone: str, at: time = time(0)) -> datetime:
    """A TOML date or datetime -> UTC; a date or a local datetime is read in `zone`."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(ZoneInfo("UTC"))
        return to_utc(value, zone)
    return to_utc(datetime.combine(value, at), zone)


def person_zones(config: Config, rotations: dict[str, RotationSpec]) -> dict[str, str]:
    zones = {name: p.timezone for name, p in config.people.items() if p.timezone}
    for team, spec in rotations.items():
        for i, layer in enumerate(spec.layers):
            for j, m in enumerate(layer.members):
                if isinstance(m, MemberSpec) and m.timezone:
                    zones[m.name] = zone_ok(m.timezone, config, f"rotations.{team}.layers.{i}.members.{j}.timezone")
    return zones


def _known(name: str, config: Config, key: str) -> str:
    if config.people and name not in config.people:
        known = ", ".join(sorted(config.people))
        raise _fail(config, key, f"unknown person {name!r} (not in [people]: {known})")
    return name


def _layer(team: str, i: int, spec: LayerSpec, config: Config, zone: str, zones: dict[str, str]) -> Layer:
    key = f"rotations.{team}.layers.{i}"
    _dated(spec.start, config, f"{key}.start")
    _dated(spec.end, config, f"{key}.end")
    handoff_zone = zone_ok(spec.handoff_zone, config, f"{key}.handoff_zone") if spec.handoff_zone else zone
    names = [_known(m if isinstance(m, str) else m.name, config, f"{key}.members.{j}")
             for j, m in enumerate(spec.members)]
    hand = parse_clock(spec.handoff, config, f"{key}.handoff")[1]
    first = spec.start if isinstance(spec.start, datetime) else datetime.combine(spec.start, hand)
    if first.tzinfo is not None:
        first = first.astimezone(ZoneInfo(handoff_zone)).replace(tzinfo=None)
    until = _local(spec.end, handoff_zone, hand) if spec.end is not None else None
    if until is not None and until <= to_utc(first, handoff_zone):
        raise _fail(config, f"{key}.end", "the layer ends before it starts")
    windows = tuple(_window(w, config, f"{key}.restrictions.{j}", spec.follow_the_sun)
                    for j, w in enumerate(spec.restrictions))
    if spec.follow_the_sun and not windows:
        raise _fail(config, f"{key}.restrictions", "a follow-the-sun layer needs its business-hours window, "
                    'e.g. restrictions = [{ start = "09:00", end = "17:00", days = "mon-fri" }]')
    return Layer(spec.name, tuple(names), tuple(zones.get(n, zone) for n in names),
                 parse_length(spec.length, config, f"{key}.length"), handoff_zone, first, until, windows,
                 spec.follow_the_sun)


def _override(team: str, i: int, spec: OverrideSpec, config: Config, zone: str, zones: dict[str, str],
              layers: set[str]) -> list[Override]:
    key = f"rotations.{team}.overrides.{i}"
    _dated(spec.start, config, f"{key}.start")
    _dated(spec.end, config, f"{key}.end")
    if spec.person is None and spec.replacement is None:
        raise _fail(config, key, "name the person who is away (`person`), who covers (`replacement`), or both")
    for role in ("person", "replacement"):
        if getattr(spec, role):
            _known(getattr(spec, role), config, f"{key}.{role}")
    if spec.layer is not None and spec.layer not in layers:
        raise _fail(config, f"{key}.layer", f"no layer {spec.layer!r} in this rotation ({', '.join(sorted(layers))})")
    if spec.kind == "swap" and not (spec.person and spec.replacement):
        raise _fail(config, key, "a swap needs both `person` and `replacement`")
    own = zones.get(spec.person or spec.replacement or "", zone)
    start = _local(spec.start, own)
    # A bare end date is inclusive: the whole day, like --to.
    end = _local(spec.end + timedelta(days=1), own) if not isinstance(spec.end, datetime) else _local(spec.end, own)
    if end <= start:
        raise _fail(config, f"{key}.end", "the override ends before it starts")
    source = _where(config, key)
    made = [Override(start, end, spec.person, spec.replacement, spec.kind, spec.note, spec.layer, source)]
    if spec.kind == "swap":
        made.append(Override(start, end, spec.replacement, spec.person, "swap", spec.note, spec.layer, source))
    return made


def check_overlaps(overrides: list[Override]) -> None:
    """Two away periods of one person, or two covers, at once: which one wins would be a guess."""
    groups: dict[str, list[Override]] = {}
    for o in overrides:
        groups.setdefault(o.person if o.person is not None else "(cover)", []).append(o)
    for who, items in groups.items():
        items = sorted(items, key=lambda o: o.start)
        for a, b in pairwise(items):
            if b.start < a.end and not (a.source == b.source and a.kind == b.kind == "swap"):
                what = f"overrides for {who}" if who != "(cover)" else "cover overrides"
                raise UserError(f"overlapping {what}: {a.start:%Y-%m-%d %H:%M}–{a.end:%Y-%m-%d %H:%M} UTC "
                                f"({a.source}) and {b.start:%Y-%m-%d %H:%M}–{b.end:%Y-%m-%d %H:%M} UTC; "
                                "merge them or make them end before the next starts", where=b.source)


def load(config: Config, *, read_calendars: bool = True, check_holidays: bool = True) -> Setup:
    """Validate `config.rotations` and `config.oncall`; read the PTO calendars they name.

    `check_holidays=False` checks the public-holiday country codes' form only: asking the holidays
    library whether it knows them imports it (0.1 s), which the commands that never plan a rotation skip,
    as they skip reading the calendars."""
    raw = _validate(OncallSpec, config.oncall, config, "oncall")
    bh, sleep = (parse_range(raw.business_hours, config, "oncall.business_hours"),
                 parse_range(raw.sleep_hours, config, "oncall.sleep_hours"))
    holidays = tuple([raw.holidays] if isinstance(raw.holidays, str) else raw.holidays)
    for i, code in enumerate(holidays):
        key = f"oncall.holidays.{i}" if not isinstance(raw.holidays, str) else "oncall.holidays"
        if not _COUNTRY_CODE.fullmatch(code):
            raise _fail(config, key, f"{code!r} is not a country code for public holidays (ISO 3166, e.g. GB, "
                                     "US, IN, or with a subdivision: US-CA)")
        if check_holidays:
            _country(code, config, key)
    calendars = tuple((config.base_dir / p).resolve() for p in raw.pto_calendars)
    settings = OncallSettings(raw.weekend_max_hours, holidays, bh, sleep, raw.verify_hours, raw.handoff_due_days,
                              calendars)
    specs: dict[str, RotationSpec] = {}
    for team, data in config.rotations.items():
        if config.team_names and team not in config.team_names:
            raise _fail(config, f"rotations.{team}", f"unknown team {team!r} (teams: {', '.join(config.team_names)})")
        if not isinstance(data, dict):
            raise _fail(config, f"rotations.{team}", "expected a table with `layers`")
        specs[team] = _validate(RotationSpec, data, config, f"rotations.{team}")
    zones = person_zones(config, specs)
    shared: list[Override] = []
    if read_calendars:
        from .ical import read_overrides  # late: only needed when calendars are read

        for path in calendars:
            shared += read_overrides(path, config.people, zones, config.timezone)
    rotations: dict[str, Rotation] = {}
    overrides: dict[str, list[Override]] = {}
    for team, spec in specs.items():
        zone = zone_ok(spec.timezone, config, f"rotations.{team}.timezone") if spec.timezone else config.timezone
        layers = tuple(_layer(team, i, layer, config, zone, zones) for i, layer in enumerate(spec.layers))
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names) or "override" in names:
            raise _fail(config, f"rotations.{team}.layers", "layer names must be unique and not 'override'")
        own = [o for i, s in enumerate(spec.overrides) for o in _override(team, i, s, config, zone, zones, set(names))]
        members = {m for layer in layers for m in layer.members}
        team_overrides = own + [o for o in shared if o.person in members]
        check_overlaps(team_overrides)
        rotations[team] = Rotation(team, layers, zone)
        overrides[team] = team_overrides
    away = sorted({o for items in overrides.values() for o in items if o.away and o.kind != "swap"}
                  | {o for o in shared}, key=lambda o: (o.start, o.person or ""))
    return Setup(rotations, overrides, settings, zones, away)


_COUNTRY_CODE = re.compile(r"[A-Za-z]{2,3}(-.+)?")  # subdivisions may be names: "FR-Zone A"


def _country(code: str, config: Config, key: str) -> None:
    import holidays

    supported = holidays.list_supported_countries()
    country, _, subdiv = code.partition("-")
    if country.upper() not in supported:
        raise _fail(config, key, f"unknown country code {code!r} for public holidays (ISO 3166, e.g. GB, US, IN)")
    try:  # the library's own check: it knows the codes (case-sensitive) and their aliases
        holidays.country_holidays(country.upper(), subdiv=subdiv or None)
    except NotImplementedError:
        raise _fail(config, key, f"unknown subdivision {code!r} for public holidays (of {country.upper()}: "
                    f"{', '.join(supported[country.upper()]) or 'none'})") from None
