"""iCalendar (RFC 5545): export shifts, read them back, import overrides from a PTO calendar.

Exported events carry their times in UTC and the shift's team, layer, person and reason in
X-FIRELINE-* properties, so `shifts_from_ics(to_ics(shifts)) == shifts` (tested across DST).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event, vCalAddress

from .. import safe_load
from ..errors import UserError
from .schedule import YEARS, Override, Shift, in_range, to_utc

PRODID = "-//Fireline//oncall//EN"
# Unbounded recurring PTO (every Friday off) is expanded this far after its first occurrence.
RECUR_HORIZON = timedelta(days=731)
# Daily for the horizon fits; an hourly or secondly rule is a mistake that would expand to millions.
MAX_OCCURRENCES = 1000
KIND_WORDS = (("conference", ("conference", "summit", "meetup", "talk", "pycon", "kubecon", "cppcon")),
              ("sick", ("sick", "illness", "ill")),
              ("pto", ("pto", "vacation", "holiday", "leave", "off", "annual", "away")))


def _uid(shift: Shift) -> str:
    digest = hashlib.sha1(f"{shift.team}\0{shift.layer}\0{shift.person}".encode()).hexdigest()[:10]
    return f"{shift.start:%Y%m%dT%H%M%SZ}-{digest}@fireline"


def to_ics(shifts: Sequence[Shift], *, name: str, stamp: datetime,
           emails: Mapping[str, str] | None = None) -> bytes:
    """One VEVENT per shift, times in UTC; `stamp` is DTSTAMP (when the export was made)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for shift in sorted(shifts, key=lambda s: (s.start, s.team, s.layer)):
        ev = Event()
        ev.add("uid", _uid(shift))
        ev.add("dtstamp", stamp.astimezone(UTC))
        ev.add("dtstart", shift.start.astimezone(UTC))
        ev.add("dtend", shift.end.astimezone(UTC))
        ev.add("summary", f"On call: {shift.person} ({shift.team})")
        ev.add("description", f"Layer {shift.layer}; {shift.reason}.")
        ev.add("categories", ["on-call"])
        ev.add("transp", "OPAQUE")
        email = (emails or {}).get(shift.person)
        if email:
            attendee = vCalAddress(f"mailto:{email}")
            attendee.params["cn"] = shift.person
            ev.add("attendee", attendee, encode=False)
        for key, value in (("team", shift.team), ("layer", shift.layer), ("person", shift.person),
                           ("reason", shift.reason)):
            ev.add(f"x-fireline-{key}", value)
        cal.add_component(ev)
    return cal.to_ical()


def _parse(data: bytes | str, where: str) -> Calendar:
    safe_load.check_ical_depth(data.encode() if isinstance(data, str) else data, where)
    try:
        cal = Calendar.from_ical(data)
    except OSError:
        # zoneinfo opens a TZID as a file name: a very long one is "File name too long".
        raise UserError("not an iCalendar file: a TZID is not a time zone name", where=where) from None
    except (ValueError, IndexError, KeyError) as exc:
        raise UserError(f"not an iCalendar file: {safe_load.clip(str(exc), 200)[1:-1]}", where=where) from None
    if cal.name != "VCALENDAR":
        raise UserError(f"expected a VCALENDAR, found {cal.name}", where=where)
    return cal


def _event_name(ev: Event, index: int) -> str:
    label = str(ev.get("summary") or ev.get("uid") or f"#{index + 1}")
    return f"event {index + 1} ({label!r})"


def _times(ev: Event, where: str) -> tuple[Any, Any]:
    try:
        start = ev.start
    except Exception as exc:  # icalendar raises several kinds for missing or broken DTSTART
        raise UserError(f"no valid DTSTART: {exc}", where=where) from None
    try:
        end = ev.end
    except Exception:
        end = None
    if end is None:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    return start, end



def _events(data: bytes | str, where: str) -> list[Event]:
    return [ev for ev in _parse(data, where).walk("VEVENT") if isinstance(ev, Event)]

def shifts_from_ics(data: bytes | str, where: str = "calendar") -> list[Shift]:
    """Read back a calendar written by `to_ics`."""
    out = []
    for i, ev in enumerate(_events(data, where)):
        at = f"{where}: {_event_name(ev, i)}"
        start, end = _times(ev, at)
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise UserError("a shift needs a date-time with a zone", where=at)
        fields = {k: str(ev.get(f"x-fireline-{k}", "")) for k in ("team", "layer", "person", "reason")}
        out.append(Shift(fields["team"], fields["layer"], fields["person"], start.astimezone(UTC),
                         end.astimezone(UTC), fields["reason"]))
    return out


def _person(ev: Event, people: Mapping[str, Any], by_email: Mapping[str, str]) -> str | None:
    attendees = ev.get("attendee")
    attendees = attendees if isinstance(attendees, list) else [attendees] if attendees is not None else []
    for a in attendees:
        email = str(a).lower().removeprefix("mailto:")
        cn = str(a.params.get("CN", "")) if hasattr(a, "params") else ""
        if email in by_email:
            return by_email[email]
        if cn and (cn in people or not people):
            return cn
    summary = str(ev.get("summary") or "")
    named = [n for n in people if re.search(rf"\b{re.escape(n)}\b", summary, re.IGNORECASE)]
    if named:
        return max(named, key=len)
    if not people and ":" in summary:
        return summary.split(":", 1)[0].strip() or None
    return None


def _kind(ev: Event) -> str:
    cats = ev.get("categories")
    words = " ".join([str(ev.get("summary") or "")] + [str(c) for c in (cats.cats if hasattr(cats, "cats") else [])])
    words = words.lower()
    for kind, keys in KIND_WORDS:
        if any(re.search(rf"\b{k}\b", words) for k in keys):
            return kind
    return "pto"


def _replacement(ev: Event, people: Mapping[str, Any], where: str) -> str | None:
    text = str(ev.get("x-fireline-replacement") or "")
    if not text:
        m = re.search(r"^\s*(?:replacement|cover(?:ed by)?)\s*:\s*(.+?)\s*$", str(ev.get("description") or ""),
                      re.IGNORECASE | re.MULTILINE)
        text = m.group(1) if m else ""
    if text and people and text not in people:
        raise UserError(f"replacement {text!r} is not in [people]", where=where)
    return text or None


def _instant(value: date | datetime, zone: str) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else to_utc(value, zone)
    return to_utc(datetime.combine(value, time(0)), zone)


def _occurrences(ev: Event, start: date | datetime, where: str) -> list[date | datetime]:
    rules = ev.rrules
    if not rules:
        return [start]
    from dateutil.rrule import rruleset, rrulestr

    naive = start.replace(tzinfo=None) if isinstance(start, datetime) else datetime.combine(start, time(0))
    rset = rruleset()
    try:
        for rule in rules:
            text = rule.to_ical().decode()
            # Keep recurrence on the event's own wall clock; UNTIL in UTC is compared as local.
            text = re.sub(r"UNTIL=(\d{8}T\d{6})Z", r"UNTIL=\1", text)
            rset.rrule(rrulestr(text, dtstart=naive, ignoretz=True))
    except (ValueError, TypeError) as exc:
        raise UserError(f"cannot read RRULE: {exc}", where=where) from None
    for ex in ev.exdates:
        rset.exdate(ex.replace(tzinfo=None) if isinstance(ex, datetime) else datetime.combine(ex, time(0)))
    out: list[date | datetime] = []
    for when in rset:  # lazily: stop at the horizon or the cap, never expand the whole rule
        if when > naive + RECUR_HORIZON:
            break
        if len(out) == MAX_OCCURRENCES:
            raise UserError(f"the RRULE gives more than {MAX_OCCURRENCES} occurrences in two years; give it a "
                            "COUNT or UNTIL, or a longer FREQ", where=where)
        if isinstance(start, datetime):
            out.append(when.replace(tzinfo=start.tzinfo) if start.tzinfo else when)
        else:
            out.append(when.date())
    return out


def _check_zones(ev: Event, values: tuple[Any, Any], where: str) -> None:
    """A TZID neither in the tz database nor defined by a VTIMEZONE of the file leaves a naive time;
    read in the person's zone it would silently sit at other hours than the calendar says."""
    for prop, value in zip(("DTSTART", "DTEND"), values, strict=True):
        tzid = getattr(ev.get(prop), "params", {}).get("TZID")
        if tzid and isinstance(value, datetime) and value.tzinfo is None:
            raise UserError(f"{prop} has an unknown time zone TZID={safe_load.clip(tzid)}: use an IANA name "
                            "(Europe/London) or define it in a VTIMEZONE", where=where)


def read_overrides(path: Path, people: Mapping[str, Any], zones: Mapping[str, str], default_zone: str,
                   ) -> list[Override]:
    """Away periods from a PTO calendar: each event names its person in an ATTENDEE (name or email)
    or in its SUMMARY; all-day events cover whole days in that person's zone; a `Replacement: NAME`
    line in DESCRIPTION (or X-FIRELINE-REPLACEMENT) names who covers. Cancelled events are skipped."""
    where = str(path)
    data = safe_load.read_bytes(path, what="PTO calendar")
    by_email = {}
    for name, person in people.items():
        for email in [getattr(person, "email", None), *(getattr(person, "emails", None) or [])]:
            if email:
                by_email[email.lower()] = name
    out = []
    for i, ev in enumerate(_events(data, where)):
        at = f"{where}: {_event_name(ev, i)}"
        if str(ev.get("status") or "").upper() == "CANCELLED":
            continue
        person = _person(ev, people, by_email)
        if person is None:
            raise UserError("names no configured person: add an ATTENDEE with their email or name, or put "
                            "their name in SUMMARY", where=at)
        start, end = _times(ev, at)
        _check_zones(ev, (start, end), at)
        if not in_range(start):
            raise UserError(f"out of range: DTSTART {start} (use a date in the years {YEARS[0]}–{YEARS[1]})",
                            where=at)
        zone = zones.get(person, default_zone)
        length = _instant(end, zone) - _instant(start, zone)
        if length <= timedelta(0):
            raise UserError("ends before it starts (DTEND is not after DTSTART)", where=at)
        replacement = _replacement(ev, people, at)
        kind, note = _kind(ev), str(ev.get("summary") or "")
        for first in _occurrences(ev, start, at):
            s = _instant(first, zone)
            # All-day occurrences keep their length in days on the person's calendar.
            e = _instant(first + (end - start), zone) if not isinstance(first, datetime) else s + length
            out.append(Override(s, e, person, replacement, kind, note, None, at))
    return out
