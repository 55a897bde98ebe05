"""Publish dates as Chinese sites print them."""

from __future__ import annotations

import datetime as dt
import re

from core.timeutil import SHANGHAI, parse_time

_DATE = re.compile(
    r"(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)


def find_date(text: str | None) -> dt.datetime | None:
    """The first date (and time) in ``text``: ``2026-11-28 09:30``, ``2026年11月28日``... as aware
    UTC, taking local times to be Asia/Shanghai; None when there is none."""
    if not text:
        return None
    exact = parse_time(text)
    if exact:
        return exact
    m = _DATE.search(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    try:
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI).astimezone(dt.UTC)
    except ValueError:
        return None


_AGO = re.compile(r"^(\d+)\s*(秒|分钟|分|小时|天|周)前$")
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2})[:：](\d{2}))?$")
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "分": "minutes", "小时": "hours", "天": "days", "周": "weeks"}
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_relative_time(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """Publish times as social sites print them, relative to ``now`` (aware): ``刚刚``,
    ``5分钟前``, ``3小时前``, ``2天前``, ``今天 08:00``, ``昨天 12:30``, ``前天 09:15``, ``12:30``
    (today), ``11-28`` / ``11-28 09:30`` (this year, or last year if that would be in the future),
    Weibo's ``Sat Nov 28 10:00:00 +0800 2026``, or any absolute date :func:`find_date` reads.
    Local times are Asia/Shanghai; the result is aware UTC, None when unreadable. Pure."""
    if not text:
        return None
    text = text.strip()
    local_now = now.astimezone(SHANGHAI)
    if text in ("刚刚", "刚才"):
        return now.astimezone(dt.UTC)
    m = _AGO.match(text)
    if m:
        return (now - dt.timedelta(**{_AGO_UNITS[m.group(2)]: int(m.group(1))})).astimezone(dt.UTC)
    m = _DAY_WORD.match(text)
    if m:
        when = local_now.date() - dt.timedelta(days=_DAYS_BACK[m.group(1)])
        return _local(when.year, when.month, when.day, int(m.group(2)), int(m.group(3)))
    m = _CLOCK.match(text)
    if m:
        return _local(local_now.year, local_now.month, local_now.day, int(m.group(1)), int(m.group(2)))
    m = _MONTH_DAY.match(text)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        hour, minute = int(m.group(3) or 0), int(m.group(4) or 0)
        found = _local(local_now.year, month, day, hour, minute)
        # A month-day without a year that lies ahead of now was printed last year (Dec 31 seen on Jan 1).
        if found is not None and found > now + dt.timedelta(days=1):
            found = _local(local_now.year - 1, month, day, hour, minute)
        return found
    try:  # Weibo's created_at: "Sat Nov 28 10:00:00 +0800 2026"
        return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(dt.UTC)
    except ValueError:
        pass
    return find_date(text)


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime | None:
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)
    except ValueError:
        return None
