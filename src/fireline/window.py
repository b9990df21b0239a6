"""--since/--until: dates in the configured zone, turned into a UTC half-open window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import UserError

DEFAULT_DAYS = 90
# Times outside these years are typos (or 0001-01-01 as "everything"): refuse them before the
# date arithmetic and the time-zone tables overflow.
YEARS = (1900, 9998)


def _parse(value: str, option: str, tz: ZoneInfo, *, end: bool) -> datetime:
    when = _parse_any(value, option, tz, end=end)
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise UserError(f"out of range: {value!r} (use a year from {YEARS[0]} to {YEARS[1]})", field=option)
    return when


def _parse_any(value: str, option: str, tz: ZoneInfo, *, end: bool) -> datetime:
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
        return datetime.combine(day, time(0), UTC)  # refused by the caller, without date arithmetic
    if day is not None:
        # A bare date (2026-06-30 or 20260630) means the whole day: --until 2026-06-30 includes June 30.
        local = datetime.combine(day + timedelta(days=1) if end else day, time(0), tz)
        return local.astimezone(UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"not a date or ISO 8601 time: {value!r} (e.g. 2026-01-31)", field=option) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise UserError(f"out of range: {value!r} (use a year from {YEARS[0]} to {YEARS[1]})", field=option) from None


def parse_instant(value: str, option: str, tz_name: str = "UTC", *, end: bool = False) -> datetime:
    """`option` names the argument in errors (`at`, shown as `--at` by the CLI).
    One point in time from a command-line option: a bare date is its midnight in `tz_name`, or
    with `end` the midnight after it (the end of a window that includes the whole day, like --until)."""
    return _parse(value, option, ZoneInfo(tz_name), end=end)


def parse_window(since: str | None, until: str | None, tz_name: str, now: datetime,
                 default_days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tz_name)
    end = _parse(until, "until", tz, end=True) if until else now.astimezone(UTC)
    start = _parse(since, "since", tz, end=False) if since else end - timedelta(days=default_days)
    if start >= end:
        raise UserError(f"the window is empty: since {start:%Y-%m-%d %H:%M} is not before until "
                        f"{end:%Y-%m-%d %H:%M} (UTC)", field="since/until")
    return start, end


def as_utc(value: datetime) -> datetime:
    """A stored timestamp in UTC; a naive one (some engines drop the zone) is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class AsOf:
    """When a command looks from: `now` (an instant, for ages, open items and windows that end
    "now") and `today` (the local day, for what is due or overdue)."""

    now: datetime
    today: date


def as_of(value: str | date | datetime | None, tz_name: str, clock: datetime | None = None,
          *, option: str = "at") -> AsOf:
    """`--at`: a date is that whole day in `tz_name` (now is its end, today is the day itself, the way
    --until reads a date); a time is that instant (naive: in `tz_name`); None is the clock."""
    zone = ZoneInfo(tz_name)
    if value is None or value == "":
        now = (clock or datetime.now(UTC)).astimezone(UTC)
        return AsOf(now, now.astimezone(zone).date())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return AsOf(value.astimezone(UTC), value.astimezone(zone).date())
    if isinstance(value, date):
        value = value.isoformat()
    text = value.strip()
    try:
        day: date | None = date.fromisoformat(text)
    except ValueError:
        day = None
    now = _parse(text, option, zone, end=day is not None)
    return AsOf(now, day if day is not None else now.astimezone(zone).date())

