"""The alert report's thresholds (`AlertParams`), apart from its Ibis expressions (alerts.py): validating a
config (app/settings.py) needs only their names and types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["AlertParams"]


@dataclass(frozen=True)
class AlertParams:
    """Every threshold of the report; defaults follow the SRE book and common practice."""

    now: datetime | None = None  # shifts after "now" have not happened yet; None: the window's end
    shift_hours: int = 12
    shift_offset_hours: float = 0.0  # shifts start at 00:00 UTC + offset (e.g. 8 for 08:00/20:00)
    page_budget: int = 2  # SRE book: at most two incidents per 12-hour shift
    page_severities: tuple[str, ...] | None = None  # which alerts page; None: every alert
    flap_minutes: int = 30
    transient_minutes: int = 5
    link_minutes: int = 30
    business_hours: tuple[int, int] = (9, 17)  # Monday to Friday, local time
    sleep_hours: tuple[int, int] = (22, 7)  # any day, local time; wraps midnight
    customer_sources: tuple[str, ...] = ("customer",)
    customer_threshold: float = 0.0
    top: int = 10
