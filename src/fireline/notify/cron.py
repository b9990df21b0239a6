"""Cron schedules (`minute hour day month weekday`) read on a team's wall clock, DST-safe.

A firing is a local wall-clock time made UTC with the zone's rules: a time skipped when clocks go
forward (02:30 on the last Sunday of March in Europe/Berlin) fires at the same distance after the
change (03:30), as Vixie cron does; a time that occurs twice when clocks go back fires once, at its
first occurrence. Firings are UTC instants, so two local times that land on one instant are one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_NAMES = {
    "weekday": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    "month": ["", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
# A schedule that fires more often than this would flood a channel: one digest a minute is a mistake.
MAX_DAYS_SCANNED = 400


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    any_day: bool
    any_weekday: bool

    def day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        dom, dow = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # cron: when both are restricted, either one matches
            return dom and dow
        return dom or dow

    def firings(self, zone: str, after: datetime, until: datetime) -> list[datetime]:
        """The UTC instants in (after, until] at which this schedule fires on `zone`'s clock."""
        tz = ZoneInfo(zone)
        first = after.astimezone(tz).date() - timedelta(days=1)
        last = until.astimezone(tz).date() + timedelta(days=1)
        if (last - first).days > MAX_DAYS_SCANNED:
            first = last - timedelta(days=MAX_DAYS_SCANNED)
        found: set[datetime] = set()
        day = datetime(first.year, first.month, first.day)
        while day.date() <= last:
            if self.day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        instant = day.replace(hour=hour, minute=minute, tzinfo=tz, fold=0).astimezone(UTC)
                        if after < instant <= until:
                            found.add(instant)
            day += timedelta(days=1)
        return sorted(found)


def _value(text: str, kind: str, low: int, high: int) -> int:
    names = _NAMES.get(kind)
    if names and text[:3].lower() in names and not text.isdigit():
        return names.index(text[:3].lower())
    if not text.isdigit():
        raise ValueError(f"not a {kind}: {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{kind} {value} is out of range {low}-{high}")
    return value


def _field(text: str, kind: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"not a step: {part!r}")
        if body == "*":
            a, b = low, high
        elif "-" in body:
            left, right = body.split("-", 1)
            a, b = _value(left, kind, low, high), _value(right, kind, low, high)
            if b < a:
                raise ValueError(f"a {kind} range must go upwards: {body!r}")
        else:
            a = _value(body, kind, low, high)
            b = high if step else a
        values.update(range(a, b + 1, step or 1))
    if kind == "weekday" and 7 in values:  # 7 is Sunday too
        values = (values - {7}) | {0}
    return frozenset(values)


def parse(text: str) -> Cron:
    """`minute hour day month weekday`, e.g. "0 9 * * mon" or "30 8 * * mon-fri"; ValueError names the field."""
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"a cron schedule has five fields (minute hour day month weekday), e.g. \"0 9 * * mon\"; "
                         f"got {text!r}")
    sets = [_field(p, kind, low, high) for p, (kind, low, high) in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = sets
    return Cron(text, minutes, hours, days, months, weekdays, any_day=parts[2] == "*", any_weekday=parts[4] == "*")
