"""Open action items as an iCalendar file (RFC 5545): one all-day event on each due date.

UIDs are stable (postmortem id + position), so re-importing the file updates the events
instead of duplicating them; DTSTAMP is "today" at midnight UTC, so the same data and the
same --today give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event

from ..errors import UserError


def calendar(items: list[dict[str, Any]], today: date) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Fireline//postmortem action items//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Postmortem action items")
    stamp = datetime.combine(today, time(0), UTC)
    for item in items:
        if item.get("due") is None:
            continue
        event = Event()
        uid_pm = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(item["postmortem_id"]))
        event.add("uid", f"{uid_pm}-{item['position']}@fireline")
        event.add("dtstamp", stamp)
        event.add("dtstart", item["due"])
        event.add("dtend", item["due"] + timedelta(days=1))
        late = f" ({item['days_late']} days late)" if item.get("overdue") else ""
        event.add("summary", f"[{item['team']}] {item['what']}{late}")
        lines = [f"Owner: {item['owner']} (team {item['team']})",
                 f"Postmortem: {item['postmortem_id']} {item.get('postmortem_title') or ''}".rstrip(),
                 f"Term: {item['term']}" + (f", aims at {item['dora_metric']}" if item.get("dora_metric") else ""),
                 f"Source: {item['file']}:{item['line']}"]
        if item.get("ticket"):
            lines.append(f"Ticket: {item['ticket']}")
            event.add("url", item["ticket"])
        event.add("description", "\n".join(lines))
        event.add("categories", [str(item["team"])])
        cal.add_component(event)
    return cal.to_ical()


def write(path: Path, items: list[dict[str, Any]], today: date) -> int:
    data = calendar(items, today)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:  # a folder, a read-only place: the user's path, so exit 2 rather than a traceback
        raise UserError(f"cannot write the calendar to {path}: {exc.strerror or exc}", where="--ics") from None
    return sum(1 for i in items if i.get("due") is not None)
