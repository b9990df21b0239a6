"""The story's fixed dates and time zones, and the wall clocks people read them on."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WINDOW_START = datetime(2026, 1, 5, tzinfo=UTC)
WINDOW_END = datetime(2026, 7, 5, tzinfo=UTC)
LON, NYC, KOL, TYO = "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"
FIRST_WORK, LAST_WORK = date(2026, 1, 6), date(2026, 7, 4)  # the repos start on 5 January
PRIYA_MOVES = date(2026, 5, 1)  # month 4: the purger's only author joins team UI


def git_date(when: datetime, tz: str) -> str:
    """Epoch seconds plus the +HHMM offset the person's clock showed at that instant."""
    # The offset comes from the UTC instant, so DST gaps and overlaps resolve the way
    # a real laptop clock would resolve them.
    offset = when.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def wall_clock(day: date, hour: int, minute: int, tz: str, second: int = 0) -> datetime:
    """The UTC instant at which a clock in ``tz`` shows ``day hour:minute:second``."""
    return datetime.combine(day, time(hour, minute, second), ZoneInfo(tz)).astimezone(UTC)
