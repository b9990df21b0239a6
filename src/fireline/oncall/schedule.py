"""Expand rotation layers and overrides into shifts. Pure: no clock, no I/O.

The model (docs/oncall.md has the user's version):

- A layer hands over at wall-clock times in its handoff zone: the first handoff is `start`
  (local), then every `length` on the local clock (`1w` = same weekday and time every week,
  whatever DST does; `12h` = 09:00 and 21:00). Slot k goes to member k mod n.
- Local times that do not exist (spring forward) or happen twice (fall back) follow RFC 5545
  and PEP 495 fold=0: a missing time is read with the offset from before the gap (02:30 on the
  night clocks jump 02:00->03:00 is 03:30 after the jump), a repeated time is its first
  occurrence. A handoff never moves before the previous one (a zero-length slot is dropped).
- Restrictions limit a layer to the union of their windows (daily, weekly), each read in its
  own zone. A follow-the-sun layer groups its members by time zone: each region rotates on its
  own inside its own windows; where regions overlap, the region whose window opened last wins.
- Away overrides cut the away person out of every layer (or one named layer) and give the time
  to the replacement, or to nobody. Swaps are two away overrides. Covers (no away person) form
  a top layer named "override".
- The final schedule at an instant is the highest-priority layer with someone on it: the
  "override" layer first, then layers from the LAST listed to the first (base layer first,
  layers on top of it after, as in PagerDuty).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

OVERRIDE_LAYER = "override"
# Dates the commands accept. Shifts are computed up to ~10 years (the longest length) past a date, and
# zone offsets move a date across a year boundary: far from 1 and 9999, where datetime overflows.
YEARS = (1900, 2200)


def in_range(value: date) -> bool:
    """Whether a date (or date-time) lies within YEARS."""
    return YEARS[0] <= value.year <= YEARS[1]


@dataclass(frozen=True)
class Window:
    """A restriction window. Daily: `start`/`end` are times, `days` the weekdays (0 = Monday) on
    which it opens. Weekly: `start_day`/`end_day` are weekdays. An end at or before the start wraps
    (to the next day or week). `zone` None means the member's region (follow-the-sun layers)."""

    start: time
    end: time
    zone: str | None
    days: frozenset[int] = frozenset(range(7))
    start_day: int | None = None  # set for weekly windows
    end_day: int | None = None


@dataclass(frozen=True)
class Layer:
    name: str
    members: tuple[str, ...]
    zones: tuple[str, ...]  # each member's own zone, parallel to `members`
    length: timedelta  # on the local clock of `zone`
    zone: str  # handoff zone
    first: datetime  # naive local time of the first handoff (slot 0 begins)
    until: datetime | None = None  # UTC; the layer stops here
    restrictions: tuple[Window, ...] = ()
    follow_the_sun: bool = False


@dataclass(frozen=True)
class Rotation:
    team: str
    layers: tuple[Layer, ...]
    zone: str = "UTC"


@dataclass(frozen=True)
class Override:
    """`person` away from `start` to `end` (UTC), replaced by `replacement` or nobody.
    No `person`: `replacement` covers the whole team for the interval (top priority)."""

    start: datetime
    end: datetime
    person: str | None
    replacement: str | None
    kind: str = "other"
    note: str = ""
    layer: str | None = None
    source: str = ""

    @property
    def away(self) -> bool:
        return self.person is not None


@dataclass(frozen=True)
class Shift:
    team: str
    layer: str
    person: str
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    reason: str = "rotation"

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def as_dict(self) -> dict:
        return {"team": self.team, "layer": self.layer, "person": self.person, "start": self.start,
                "end": self.end, "hours": round(self.hours, 4), "reason": self.reason}


def to_utc(local: datetime, zone: str) -> datetime:
    """A naive wall-clock time in `zone` -> UTC (fold=0: see the module docstring)."""
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


def to_local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def window_instances(window: Window, zone: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every opening of `window` (read in `zone`) that touches [start, end), in UTC."""
    first = to_local(start, zone).date() - timedelta(days=8)
    last = to_local(end, zone).date() + timedelta(days=1)
    out = []
    day = first
    while day <= last:
        if window.start_day is None:
            if day.weekday() in window.days:
                s = datetime.combine(day, window.start)
                e = datetime.combine(day, window.end)
                out.append((s, e if e > s else e + timedelta(days=1)))
        elif day.weekday() == window.start_day:
            assert window.end_day is not None  # a weekly window has both days
            s = datetime.combine(day, window.start)
            e = datetime.combine(day + timedelta(days=(window.end_day - window.start_day) % 7), window.end)
            out.append((s, e if e > s else e + timedelta(days=7)))
        day += timedelta(days=1)
    result = []
    for s, e in out:
        us, ue = to_utc(s, zone), to_utc(e, zone)
        if ue > us and ue > start and us < end:
            result.append((us, ue))
    return result


def _slots(layer: Layer, members: Sequence[str], zone: str, start: datetime,
           end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(person, start, end) of each rotation slot touching [start, end), handoffs in `zone`."""
    if not members:
        return []
    step = layer.length
    local_start = to_local(start, zone)
    # Start a few slots early: local and UTC differ by at most a day, slots are at least an hour.
    k = max(0, int((local_start - layer.first) / step) - 26)
    prev = to_utc(layer.first + k * step, zone)
    out = []
    while prev < end:
        nxt = max(prev, to_utc(layer.first + (k + 1) * step, zone))
        if nxt > start and nxt > prev:
            out.append((members[k % len(members)], prev, nxt))
        prev, k = nxt, k + 1
    return out


def _clip(pieces: Iterable[tuple[str, datetime, datetime]], allowed: list[tuple[datetime, datetime]],
          ) -> list[tuple[str, datetime, datetime]]:
    out = []
    for person, s, e in pieces:
        for a, b in allowed:
            lo, hi = max(s, a), min(e, b)
            if hi > lo:
                out.append((person, lo, hi))
    return out


def _regions(layer: Layer) -> list[tuple[str, tuple[str, ...]]]:
    regions: dict[str, list[str]] = {}
    for member, zone in zip(layer.members, layer.zones, strict=True):
        regions.setdefault(zone, []).append(member)
    return [(zone, tuple(m)) for zone, m in regions.items()]


def _layer_bounds(layer: Layer, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    lo = max(start, to_utc(layer.first, layer.zone))
    hi = min(end, layer.until) if layer.until else end
    return lo, hi


def layer_shifts(team: str, layer: Layer, start: datetime, end: datetime) -> list[Shift]:
    """One layer's shifts in [start, end), before overrides; never two at once."""
    lo, hi = _layer_bounds(layer, start, end)
    if hi <= lo:
        return []
    if not layer.follow_the_sun:
        pieces = _slots(layer, layer.members, layer.zone, lo, hi)
        allowed = [(lo, hi)]
        if layer.restrictions:
            allowed = merge(w for r in layer.restrictions for w in window_instances(r, r.zone or layer.zone, lo, hi))
            allowed = [(max(a, lo), min(b, hi)) for a, b in allowed if min(b, hi) > max(a, lo)]
        return _shifts(team, layer.name, _clip(_clip(pieces, [(lo, hi)]), allowed))
    # Follow the sun: per region, its own rotation inside its own windows; where regions overlap,
    # the one whose window opened last wins (the region starting its day takes over).
    candidates = []
    for index, (zone, members) in enumerate(_regions(layer)):
        slots = _slots(replace(layer, zone=zone), members, zone, lo, hi)
        for restriction in layer.restrictions:
            for a, b in window_instances(restriction, restriction.zone or zone, lo, hi):
                for person, s, e in _clip(slots, [(max(a, lo), min(b, hi))]):
                    candidates.append(((person, s, e), (-a.timestamp(), index)))
    return _shifts(team, layer.name, _sweep(candidates))


def _sweep(items: list[tuple[tuple[str, datetime, datetime], tuple]]) -> list[tuple[str, datetime, datetime]]:
    """((person, start, end), rank) -> non-overlapping pieces, each from the lowest-ranked item active."""
    bounds = sorted({t for (_, s, e), _ in items for t in (s, e)})
    ordered = sorted(items, key=lambda i: i[0][1])
    active: list = []
    nxt = 0
    out = []
    for a, b in pairwise(bounds):
        while nxt < len(ordered) and ordered[nxt][0][1] <= a:
            active.append(ordered[nxt])
            nxt += 1
        active = [i for i in active if i[0][2] > a]
        if active:
            out.append((min(active, key=lambda i: i[1])[0][0], a, b))
    return out


def _shifts(team: str, layer: str, pieces: Iterable[tuple[str, datetime, datetime]],
            reason: str = "rotation") -> list[Shift]:
    out: list[Shift] = []
    for person, s, e in sorted(pieces, key=lambda p: p[1]):
        if out and out[-1].person == person and out[-1].end == s and out[-1].reason == reason:
            out[-1] = replace(out[-1], end=e)
        else:
            out.append(Shift(team, layer, person, s, e, reason))
    return out


def _reason(o: Override) -> str:
    text = f"{o.kind} for {o.person}" if o.person else o.kind
    return f"{text}: {o.note}" if o.note else text


def apply_overrides(shifts: list[Shift], overrides: Sequence[Override]) -> list[Shift]:
    """Cut each away person's time out of their shifts; the replacement (or nobody) gets it."""
    away: dict[str, list[Override]] = {}
    for o in overrides:
        if o.away and o.person is not None:
            away.setdefault(o.person, []).append(o)
    out: list[Shift] = []
    for shift in shifts:
        cuts = sorted((o for o in away.get(shift.person, ()) if (o.layer is None or o.layer == shift.layer)
                       and o.start < shift.end and o.end > shift.start), key=lambda o: o.start)
        cursor = shift.start
        for o in cuts:
            lo, hi = max(o.start, shift.start), min(o.end, shift.end)
            if lo > cursor:
                out.append(replace(shift, start=cursor, end=lo))
            if o.replacement and hi > lo:
                out.append(replace(shift, person=o.replacement, start=lo, end=hi, reason=_reason(o)))
            cursor = max(cursor, hi)
        if cursor < shift.end:
            out.append(replace(shift, start=cursor))
    return out


def schedule(rotation: Rotation, overrides: Sequence[Override], start: datetime, end: datetime) -> list[Shift]:
    """Every layer's shifts in [start, end) with overrides applied, plus the cover layer."""
    shifts: list[Shift] = []
    for layer in rotation.layers:
        shifts += apply_overrides(layer_shifts(rotation.team, layer, start, end), overrides)
    for o in overrides:
        if not o.away and o.replacement:
            lo, hi = max(o.start, start), min(o.end, end)
            if hi > lo:
                shifts.append(Shift(rotation.team, OVERRIDE_LAYER, o.replacement, lo, hi, _reason(o)))
    return sorted(shifts, key=lambda s: (s.start, s.layer))


def priority(rotation: Rotation) -> list[str]:
    """Layer names, highest priority first."""
    return [OVERRIDE_LAYER, *reversed([layer.name for layer in rotation.layers])]


def final(shifts: Sequence[Shift], order: Sequence[str]) -> list[Shift]:
    """Who is on call: at each instant, the shift of the highest-priority layer that has one."""
    rank = {name: i for i, name in enumerate(order)}
    by_id = {id(s): s for s in shifts}
    items = [((str(id(s)), s.start, s.end), (rank.get(s.layer, len(rank)), s.person)) for s in shifts]
    out: list[Shift] = []
    for key, a, b in _sweep(items):
        best = by_id[int(key)]
        if out and out[-1].end == a and (out[-1].person, out[-1].layer, out[-1].reason) == \
                (best.person, best.layer, best.reason):
            out[-1] = replace(out[-1], end=b)
        else:
            out.append(replace(best, start=a, end=b))
    return out


def subtract(a: Sequence[tuple[datetime, datetime]], b: Sequence[tuple[datetime, datetime]]
             ) -> list[tuple[datetime, datetime]]:
    """The parts of the intervals `a` outside the sorted, non-overlapping intervals `b`."""
    out = []
    for s, e in a:
        cursor = s
        for bs, be in b:
            if be <= cursor or bs >= e:
                continue
            if bs > cursor:
                out.append((cursor, bs))
            cursor = max(cursor, be)
        if cursor < e:
            out.append((cursor, e))
    return out


def gaps(final_shifts: Sequence[Shift], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Intervals of [start, end) with nobody on call."""
    return subtract([(start, end)], merge((max(x.start, start), min(x.end, end)) for x in final_shifts))


def runs(final_shifts: Sequence[Shift]) -> list[Shift]:
    """Consecutive final shifts of the same person as one stretch (layer and reason of the first)."""
    out: list[Shift] = []
    for s in sorted(final_shifts, key=lambda x: x.start):
        if out and out[-1].person == s.person and out[-1].end == s.start:
            out[-1] = replace(out[-1], end=s.end)
        else:
            out.append(s)
    return out


def at(shifts: Sequence[Shift], instant: datetime) -> Shift | None:
    return next((s for s in shifts if s.start <= instant < s.end), None)


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    return to_utc(datetime.combine(day, time(0)), zone), to_utc(datetime.combine(day + timedelta(days=1),
                                                                                 time(0)), zone)
