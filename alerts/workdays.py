"""Working days under the Chinese holiday and make-up-day (调休) calendar.

Uses the maintained ``chinese_calendar`` package. For years it does not know yet (the State
Council publishes each year's arrangement in late autumn), weekends are assumed and a warning is
logged once, so deadlines are still computed rather than refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

import chinese_calendar

from core.timeutil import SHANGHAI

log = logging.getLogger(__name__)
_warned: set[int] = set()


# Cached: chinese_calendar checks each date against min() and max() of its whole holiday table
# (~50 µs a call), and a 7-workday deadline asks about ~10 days: 1 ms per opened incident.
@functools.lru_cache(maxsize=8192)
def is_workday(day: dt.date) -> bool:
    """True if ``day`` is a working day in mainland China (holidays off, make-up days on)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("no holiday data for %s: treating Monday-Friday as working days", day.year)
        return day.weekday() < 5


def calendar_knows(year: int) -> bool:
    """True if the holiday calendar has ``year``'s arrangement (else weekdays are assumed)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def add_workdays(start: dt.datetime, days: float) -> dt.datetime:
    """The moment ``days`` working days after ``start`` (aware), counted in Asia/Shanghai.

    A deadline of N working days ends at the same clock time on the N-th following working day;
    a start on a non-working day counts from the next working day's 09:00.
    """
    local = start.astimezone(SHANGHAI)
    if not is_workday(local.date()):
        nxt = local.date()
        while not is_workday(nxt):
            nxt += dt.timedelta(days=1)
        local = dt.datetime.combine(nxt, dt.time(9, 0), tzinfo=SHANGHAI)
    whole = int(days)
    day = local.date()
    while whole > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            whole -= 1
    result = dt.datetime.combine(day, local.timetz())
    frac = days - int(days)
    if frac:
        result += dt.timedelta(hours=24 * frac)
    return result.astimezone(start.tzinfo or dt.UTC)
