"""core.timeutil.parse_time: an unreadable time is None, never an exception."""

from __future__ import annotations

import datetime as dt

import pytest

from core.timeutil import parse_time


@pytest.mark.parametrize("text", ["0001-01-01T00:00+08:00", "0001-01-01 00:00",
                                  "9999-12-31T23:00-05:00", "not a time", ""])
def test_unstorable_or_unreadable_times_are_none(text: str) -> None:
    # Year 1 minus 8 h (and year 9999 plus 5 h) overflowed in astimezone: an OverflowError
    # escaped every caller that trusted the "None when unreadable" contract.
    assert parse_time(text) is None


def test_readable_times_are_aware_utc() -> None:
    assert parse_time("2026-11-28 09:30") == dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC)
    assert parse_time("2026-11-28T09:30:00Z") == dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
