"""--since/--until as users type them: a date is a whole day in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fireline.errors import UserError
from fireline.window import parse_instant, parse_window

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.mark.parametrize("until", ["2026-04-01", "20260401"])
def test_a_date_in_either_iso_form_includes_the_whole_day(until):
    # Regression: the compact form 20260401 was read as midnight, dropping April 1 from the window.
    start, end = parse_window("2026-03-01", until, "Europe/London", NOW)
    assert start == datetime(2026, 3, 1, tzinfo=UTC)
    assert end == datetime(2026, 4, 1, 23, tzinfo=UTC)  # midnight after April 1, BST


def test_a_time_is_taken_as_given_and_a_naive_one_in_the_configured_zone():
    assert parse_instant("2026-03-29T01:30", "--at", "Europe/London") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert parse_instant("2026-07-01T09:00Z", "--at", "Asia/Tokyo") == datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_nonsense_names_the_option():
    with pytest.raises(UserError, match="until"):
        parse_window(None, "next tuesday", "UTC", NOW)


@pytest.mark.parametrize(("since", "until"), [
    (None, "9999-12-31"), ("0001-01-01", None), ("1899-12-31", "2026-01-01"), (None, "9999-12-31T23:00-05:00")])
def test_dates_outside_the_supported_years_are_user_errors(since, until):
    # Regression: --until 9999-12-31 overflowed and --since 0001-01-01 crashed the alert analytics.
    with pytest.raises(UserError, match="out of range"):
        parse_window(since, until, "Europe/London", NOW)


@pytest.mark.parametrize("value", ["2026-04-01", "20260401"])
def test_an_end_instant_from_a_date_includes_the_whole_day(value):
    # The other commands' --to reads a bare date as its whole day, like --until.
    assert parse_instant(value, "--to", "Europe/London", end=True) == datetime(2026, 4, 1, 23, tzinfo=UTC)
    assert parse_instant(value, "--to", "Europe/London") == datetime(2026, 3, 31, 23, tzinfo=UTC)
    assert parse_instant("2026-04-01T06:00", "--to", "Europe/London", end=True) == datetime(2026, 4, 1, 5, tzinfo=UTC)
