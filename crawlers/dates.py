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
