"""The period a briefing covers: an ISO week or the 24 hours before a duty hand-over (pure).

Weeks and days are Asia/Shanghai ones; the bounds are returned as aware UTC datetimes, the
start included and the end excluded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.errors import EcowatchError
from core.timeutil import SHANGHAI, UTC

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
# The morning hand-over the daily duty report is made for (值班日报 covers the 24 hours before it).
HANDOVER = dt.time(7, 30)
# Years a briefing can be about: its bounds and the period before it (week-on-week) must stay within
# what datetime and the store hold (year 1 minus a day, or 9999 plus a week, overflow).
YEARS = range(1970, 9999)


class PeriodError(EcowatchError):
    """A week or date that cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    """A span of time a briefing reports on."""

    kind: str  # "week" | "day"
    key: str  # "2026-W48" or "2026-11-29": names the briefing and its files
    start: dt.datetime  # aware UTC, included
    end: dt.datetime  # aware UTC, excluded

    @property
    def length(self) -> dt.timedelta:
        """How long the period is."""
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one (for week-on-week change)."""
        start = self.start - self.length  # Asia/Shanghai has no daylight saving: a week is 7 × 24 h
        if self.kind == "week":
            year, week, _ = start.astimezone(SHANGHAI).isocalendar()
            return Period("week", f"{year}-W{week:02d}", start, self.start)
        return Period("day", self.start.astimezone(SHANGHAI).date().isoformat(), start, self.start)

    @property
    def label(self) -> str:
        """Human-readable span in local time, e.g. 2026年11月23日—11月29日."""
        first = self.start.astimezone(SHANGHAI)
        last = (self.end - dt.timedelta(seconds=1)).astimezone(SHANGHAI)
        if self.kind == "week":
            return f"{first.year}年{first.month}月{first.day}日—{last.month}月{last.day}日"
        return f"{first:%Y年%m月%d日 %H:%M}—{self.end.astimezone(SHANGHAI):%m月%d日 %H:%M}"

    def buckets(self) -> list[tuple[str, dt.datetime, dt.datetime]]:
        """The trend's time buckets: days of a week, hours of a day (label, start, end)."""
        step = dt.timedelta(days=1) if self.kind == "week" else dt.timedelta(hours=1)
        out, at = [], self.start
        while at < self.end:
            local = at.astimezone(SHANGHAI)
            label = f"{local.month}/{local.day}" if self.kind == "week" else f"{local:%H:%M}"
            out.append((label, at, min(at + step, self.end)))
            at += step
        return out


def iso_week(text: str) -> Period:
    """The ISO week named like ``2026-W48`` (Monday 00:00 to the next Monday, Asia/Shanghai)."""
    match = _WEEK.match(text.strip())
    if not match:
        raise PeriodError(f"not an ISO week: {text!r} (use e.g. 2026-W48)")
    year, week = int(match.group(1)), int(match.group(2))
    _check_year(year, text)
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise PeriodError(f"no week {week} in {year}: {exc}") from exc
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=SHANGHAI)
    return Period("week", f"{year}-W{week:02d}", start.astimezone(UTC), (start + dt.timedelta(days=7)).astimezone(UTC))


def _check_year(year: int, text: str) -> None:
    if year not in YEARS:
        raise PeriodError(f"{text.strip()!r} is out of range: years {YEARS.start}-{YEARS.stop - 1}")


def week_of(moment: dt.datetime) -> Period:
    """The ISO week (Asia/Shanghai) that contains ``moment``."""
    year, week, _ = moment.astimezone(SHANGHAI).isocalendar()
    return iso_week(f"{year}-W{week:02d}")


def last_full_week(now: dt.datetime) -> Period:
    """The latest ISO week that has ended by ``now``: what the Monday briefing reports on."""
    return week_of(now - dt.timedelta(days=7))


def daily(date_text: str, handover: dt.time = HANDOVER) -> Period:
    """The 24 hours before the hand-over on the given local date (``2026-11-29`` → 28th 07:30 to 29th 07:30)."""
    try:
        day = dt.date.fromisoformat(date_text.strip())
    except ValueError as exc:
        raise PeriodError(f"not a date: {date_text!r} (use e.g. 2026-11-29)") from exc
    _check_year(day.year, date_text)
    end = dt.datetime.combine(day, handover, tzinfo=SHANGHAI)
    return Period("day", day.isoformat(), (end - dt.timedelta(days=1)).astimezone(UTC), end.astimezone(UTC))
