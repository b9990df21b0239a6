"""Whose weekend, whose holiday, whose night: days and hours on each person's own clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from .schedule import local_day_bounds, merge, subtract, to_local, to_utc

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=1)
def zone_countries() -> dict[str, str]:
    """IANA zone -> ISO 3166 country code, from the tz database's own zone.tab."""
    from importlib.resources import files

    try:
        text = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        try:
            with open("/usr/share/zoneinfo/zone.tab", encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3:
                out[parts[2]] = parts[0]
    return out


def countries_for(zone: str, configured: Sequence[str]) -> list[str]:
    """The configured holiday countries that apply to someone in `zone`: their own country when it
    is listed, else all of them (a company-wide holiday calendar)."""
    own = zone_countries().get(zone)
    mine = [c for c in configured if c.split("-")[0].upper() == own]
    return mine or list(configured)


@lru_cache(maxsize=256)
def _holidays(code: str, year: int) -> dict[date, str]:
    import holidays

    country, _, subdiv = code.partition("-")
    return dict(holidays.country_holidays(country.upper(), subdiv=subdiv or None, years=year).items())


def day_off(day: date, zone: str, countries: Sequence[str]) -> str | None:
    """Why `day` is not a working day for someone in `zone` (Saturday, a holiday's name), or None."""
    for code in countries_for(zone, countries):
        name = _holidays(code, day.year).get(day)
        if name:
            return f"{name} ({code})"
    if day.weekday() >= 5:
        return day.strftime("%A")
    return None


def off_blocks(start: datetime, end: datetime, zone: str, countries: Sequence[str],
               ) -> list[tuple[datetime, datetime, list[str]]]:
    """Runs of consecutive days off in `zone` touching [start, end): (UTC start, UTC end, why each day)."""
    day = to_local(start, zone).date()
    last = to_local(end, zone).date()
    blocks: list[tuple[datetime, datetime, list[str]]] = []
    prev_off = False
    while day <= last:
        why = day_off(day, zone, countries)
        if why:
            lo, hi = local_day_bounds(day, zone)
            label = f"{day:%a %Y-%m-%d}" + ("" if why in ("Saturday", "Sunday") else f" {why}")
            if prev_off and blocks:
                blocks[-1] = (blocks[-1][0], hi, [*blocks[-1][2], label])
            else:
                blocks.append((lo, hi, [label]))
        prev_off = bool(why)
        day += timedelta(days=1)
    return blocks


def daily(start: datetime, end: datetime, zone: str, window: tuple[time, time],
          keep=lambda day: True) -> list[Interval]:
    """Openings of a daily local window (end <= start wraps past midnight) touching [start, end)."""
    first = to_local(start, zone).date() - timedelta(days=1)
    last = to_local(end, zone).date()
    out = []
    day = first
    while day <= last:
        if keep(day):
            s = datetime.combine(day, window[0])
            e = datetime.combine(day, window[1])
            if e <= s:
                e += timedelta(days=1)
            out.append((to_utc(s, zone), to_utc(e, zone)))
        day += timedelta(days=1)
    return merge(out)


def overlap(a: Interval, bs: Iterable[Interval]) -> float:
    """Hours of `a` inside the (non-overlapping) intervals `bs`."""
    total = 0.0
    for s, e in bs:
        lo, hi = max(a[0], s), min(a[1], e)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total / 3600


def split_hours(interval: Interval, zone: str, business: tuple[time, time], sleep: tuple[time, time],
                countries: Sequence[str]) -> dict[str, float]:
    """Business (working days, business hours), sleep (sleep hours, any day) and off (the rest)
    hours of `interval` on the clock of `zone`. Sleep wins where the two windows overlap."""
    s, e = interval
    sleeping = daily(s, e, zone, sleep)
    working = subtract(daily(s, e, zone, business, lambda d: day_off(d, zone, countries) is None), sleeping)
    total = (e - s).total_seconds() / 3600
    b, z = overlap(interval, working), overlap(interval, sleeping)
    return {"business": b, "off": max(total - b - z, 0.0), "sleep": z}


def in_windows(instant: datetime, windows: Sequence[Interval]) -> bool:
    return any(s <= instant < e for s, e in windows)
