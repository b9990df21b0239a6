"""Rotations across time zones and DST: one person per layer at every instant, overrides win,
iCalendar round trips. Property tests with hypothesis, plus the documented edge cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fireline.oncall.ical import shifts_from_ics, to_ics
from fireline.oncall.schedule import (
    Layer,
    Override,
    Rotation,
    Window,
    at,
    final,
    gaps,
    layer_shifts,
    priority,
    schedule,
    to_utc,
)

# DST in both hemispheres, a 30-minute DST shift (Lord Howe), half-hour offsets (Adelaide, Kolkata).
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Australia/Adelaide", "Australia/Lord_Howe",
         "Asia/Kolkata", "Asia/Tokyo", "UTC"]
PEOPLE = ["ana", "bo", "cy", "di"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instants(shifts, start, end):
    """Every boundary and the middle of every piece: enough to see every state of a step function."""
    points = sorted({start, end, *(t for s in shifts for t in (s.start, s.end) if start <= t <= end)})
    return [p for p in points if p < end] + [a + (b - a) / 2 for a, b in itertools.pairwise(points)]


@st.composite
def layers(draw, restricted: bool = False):
    zone = draw(st.sampled_from(ZONES))
    unit = draw(st.sampled_from(["h", "d", "w"]))
    n = draw(st.integers(1, {"h": 36, "d": 4, "w": 2}[unit]))
    length = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    # Around the March/April and October/November transitions in both hemispheres.
    day = draw(st.sampled_from([datetime(2026, 3, 1), datetime(2026, 3, 25), datetime(2026, 10, 1),
                                datetime(2026, 10, 20), datetime(2026, 3, 30)]))
    hand = draw(st.sampled_from([time(9), time(2, 30), time(1, 30), time(0), time(2)]))
    members = tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True)))
    restrictions = ()
    if restricted:
        restrictions = (Window(time(9), time(17), draw(st.sampled_from(ZONES)), days=frozenset(range(5))),)
    return Layer("L", members, tuple(zone for _ in members), length, zone, datetime.combine(day.date(), hand),
                 None, restrictions)


def _window(layer: Layer, offset_hours: int, days: int):
    start = to_utc(layer.first, layer.zone) + timedelta(hours=offset_hours)
    return start, start + timedelta(days=days)


@SETTINGS
@given(layers(), st.integers(0, 24 * 30), st.integers(1, 60))
def test_every_instant_of_a_full_layer_has_exactly_one_person(layer, offset, days):
    start, end = _window(layer, offset, days)
    shifts = layer_shifts("T", layer, start, end)
    assert gaps(shifts, start, end) == []
    for s, nxt in itertools.pairwise(shifts):
        assert s.end == nxt.start  # no overlap, no hole
        assert s.start < s.end
    for t in _instants(shifts, start, end):
        assert sum(1 for s in shifts if s.start <= t < s.end) == 1


@SETTINGS
@given(layers(restricted=True), st.integers(0, 24 * 30), st.integers(1, 30))
def test_a_restricted_layer_is_on_only_inside_its_windows_and_never_twice(layer, offset, days):
    start, end = _window(layer, offset, days)
    shifts = layer_shifts("T", layer, start, end)
    window = layer.restrictions[0]
    for s in shifts:
        local = s.start.astimezone(ZoneInfo(window.zone))
        assert local.weekday() < 5 and time(9) <= local.time() < time(17)
    for t in _instants(shifts, start, end):
        assert sum(1 for s in shifts if s.start <= t < s.end) <= 1


@SETTINGS
@given(layers(), st.integers(0, 24 * 20), st.integers(2, 30), st.data())
def test_overrides_win(layer, offset, days, data):
    start, end = _window(layer, offset, days)
    person = data.draw(st.sampled_from(layer.members))
    lo = start + timedelta(minutes=data.draw(st.integers(0, days * 24 * 60 - 60)))
    hi = lo + timedelta(minutes=data.draw(st.integers(1, 5 * 24 * 60)))
    replacement = data.draw(st.sampled_from([None, "zed"]))
    away = Override(lo, hi, person, replacement, "pto")
    cover = Override(lo + (hi - lo) / 3, hi, None, "cover-person", "cover")
    rotation = Rotation("T", (layer,))
    for overrides in ([away], [away, cover]):
        shifts = schedule(rotation, overrides, start, end)
        top = final(shifts, priority(rotation))
        for t in _instants(shifts, start, end):
            if lo <= t < hi:
                assert all(s.person != person for s in shifts if s.start <= t < s.end and s.layer == "L")
            now = at(top, t)
            if cover in overrides and cover.start <= t < min(cover.end, end):
                assert now is not None and now.person == "cover-person"
            elif replacement is None and lo <= t < hi and at(layer_shifts("T", layer, start, end), t).person == person:
                assert now is None  # nobody replaces them: a gap
            elif replacement and lo <= t < hi and at(layer_shifts("T", layer, start, end), t).person == person:
                assert now.person == "zed"


@SETTINGS
@given(st.lists(layers(), min_size=1, max_size=3), st.integers(0, 24 * 20), st.integers(1, 20))
def test_ical_export_parses_back_to_the_same_shifts(layer_list, offset, days):
    layer_list = [Layer(f"L{i}", *(getattr(x, f) for f in ("members", "zones", "length", "zone", "first", "until",
                                                             "restrictions", "follow_the_sun")))
                  for i, x in enumerate(layer_list)]
    rotation = Rotation("T", tuple(layer_list))
    start, end = _window(layer_list[0], offset, days)
    start = start.replace(second=0, microsecond=0)
    shifts = schedule(rotation, [], start, end)
    for shifts_ in (shifts, final(shifts, priority(rotation))):
        data = to_ics(shifts_, name="T", stamp=datetime(2026, 1, 1, tzinfo=UTC))
        assert sorted(shifts_from_ics(data), key=lambda s: (s.start, s.layer)) == \
            sorted(shifts_, key=lambda s: (s.start, s.layer))


def _weekly(zone: str, first: datetime, hand_members=("ana", "bo")) -> Layer:
    return Layer("base", hand_members, (zone,) * len(hand_members), timedelta(weeks=1), zone, first)


def test_a_0900_london_handoff_stays_at_0900_on_the_wall_clock_across_both_transitions():
    layer = _weekly("Europe/London", datetime(2026, 3, 23, 9))
    shifts = layer_shifts("SRE", layer, datetime(2026, 3, 23, 9, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert {s.start.astimezone(ZoneInfo("Europe/London")).time() for s in shifts[1:]} == {time(9)}
    across_spring = shifts[0]  # 23 -> 30 March: the clocks went forward on the 29th
    assert across_spring.hours == 7 * 24 - 1
    across_autumn = next(s for s in shifts if s.start.date() == datetime(2026, 10, 19).date())
    assert across_autumn.hours == 7 * 24 + 1


def test_a_handoff_inside_the_spring_forward_gap_happens_after_the_jump():
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
    layer = Layer("base", ("ana", "bo"), ("America/New_York",) * 2, timedelta(days=1), "America/New_York",
                  datetime(2026, 3, 6, 2, 30))
    shifts = layer_shifts("T", layer, datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    on_the_8th = next(s for s in shifts if s.start.astimezone(ZoneInfo("America/New_York")).day == 8)
    # RFC 5545 / PEP 495 fold=0: read with the offset before the gap, i.e. 03:30 EDT.
    assert on_the_8th.start.astimezone(ZoneInfo("America/New_York")).time() == time(3, 30)
    assert on_the_8th.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_a_handoff_at_a_time_that_happens_twice_is_the_first_one():
    # New York, 1 November 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    layer = Layer("base", ("ana", "bo"), ("America/New_York",) * 2, timedelta(days=1), "America/New_York",
                  datetime(2026, 10, 30, 1, 30))
    shifts = layer_shifts("T", layer, datetime(2026, 10, 30, 12, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert datetime(2026, 11, 1, 5, 30, tzinfo=UTC) in {s.start for s in shifts}
    assert datetime(2026, 11, 1, 6, 30, tzinfo=UTC) not in {s.start for s in shifts}
    assert [s.hours for s in shifts[1:3]] == [24.0, 25.0]  # the shift over the repeated hour is 25 h long


def test_lord_howe_moves_its_clocks_by_half_an_hour():
    layer = Layer("base", ("ana", "bo"), ("Australia/Lord_Howe",) * 2, timedelta(days=1), "Australia/Lord_Howe",
                  datetime(2026, 4, 3, 9))
    shifts = layer_shifts("T", layer, datetime(2026, 4, 3, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))
    assert sorted({s.hours for s in shifts[1:-1]}) == [24.0, 24.5]


def test_follow_the_sun_hands_over_to_the_region_whose_day_starts():
    layer = Layer("sun", ("arjun", "hannah", "marcus"), ("Asia/Kolkata", "Europe/London", "America/New_York"),
                  timedelta(weeks=1), "Europe/London", datetime(2026, 3, 23, 9),
                  restrictions=(Window(time(9), time(17), None, days=frozenset(range(5))),), follow_the_sun=True)
    day = layer_shifts("SRE", layer, datetime(2026, 3, 24, tzinfo=UTC), datetime(2026, 3, 25, tzinfo=UTC))
    assert [(s.person, f"{s.start:%H:%M}", f"{s.end:%H:%M}") for s in day] == [
        ("arjun", "03:30", "09:00"), ("hannah", "09:00", "13:00"), ("marcus", "13:00", "21:00")]


def test_the_last_listed_layer_wins_and_the_base_fills_the_rest():
    base = _weekly("UTC", datetime(2026, 1, 5, 9), ("ana",))
    weekend = Layer("weekend", ("bo",), ("UTC",), timedelta(days=1), "UTC", datetime(2026, 1, 5, 9),
                    restrictions=(Window(time(18), time(9), "UTC", start_day=4, end_day=0),))
    rotation = Rotation("T", (base, weekend))
    top = final(schedule(rotation, [], datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 12, 9, tzinfo=UTC)),
                priority(rotation))
    assert [(s.person, s.layer, f"{s.start:%a %H:%M}") for s in top] == [
        ("ana", "base", "Mon 09:00"), ("bo", "weekend", "Fri 18:00")]
