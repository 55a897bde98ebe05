"""Working days follow the Chinese holiday calendar, including make-up working weekends."""

from __future__ import annotations

import datetime as dt

from alerts.deadlines import compute_deadlines
from alerts.workdays import add_workdays, is_workday
from core.jurisdiction import load_jurisdiction
from core.models import Grade
from core.timeutil import SHANGHAI


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_spring_festival_2026_is_not_working():
    assert not is_workday(dt.date(2026, 2, 17))  # 春节
    assert is_workday(dt.date(2026, 2, 13))


def test_make_up_sunday_is_working():
    assert dt.date(2026, 9, 20).weekday() == 6
    assert is_workday(dt.date(2026, 9, 20))


def test_spring_festival_2026_with_its_make_up_saturday():
    # 2026: Saturday 14 February is a make-up working day, then the break runs 15-23 February.
    assert is_workday(dt.date(2026, 2, 14)) and not is_workday(dt.date(2026, 2, 23))
    assert add_workdays(local(2026, 2, 13, 10, 0), 1) == local(2026, 2, 14, 10, 0)
    # One working day from the make-up Saturday jumps the whole holiday.
    assert add_workdays(local(2026, 2, 14, 10, 0), 1) == local(2026, 2, 24, 10, 0)
    # A start inside the holiday counts from the first working morning after it.
    assert add_workdays(local(2026, 2, 18, 15, 0), 1) == local(2026, 2, 25, 9, 0)


def test_start_on_a_weekend_counts_from_next_working_morning():
    end = add_workdays(local(2026, 11, 28, 22, 0), 1)  # Saturday night
    assert end.astimezone(SHANGHAI) == local(2026, 12, 1, 9, 0)


def test_unknown_year_falls_back_to_weekdays():
    assert is_workday(dt.date(2031, 3, 3)) and not is_workday(dt.date(2031, 3, 1))


def test_deadlines_follow_grade_policy():
    pack = load_jurisdiction("jiangbei")
    start = local(2026, 11, 30, 9, 0)
    red = compute_deadlines(pack.deadlines, Grade.RED, start)
    blue = compute_deadlines(pack.deadlines, Grade.BLUE, start)
    assert red["response"] - start == dt.timedelta(hours=5)
    assert red["report"] - start == dt.timedelta(hours=1)
    assert blue["response"] - start == dt.timedelta(hours=48)
    assert blue["sign_off"].astimezone(SHANGHAI) == local(2026, 12, 1, 9, 0)
