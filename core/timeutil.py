"""Time helpers: every stored time is timezone-aware UTC, shown in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def utcnow() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    return dt.datetime.now(UTC)


def ensure_aware(value: dt.datetime, assume: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken to be in ``assume``.

    Chinese sites print local time without a zone, hence the Asia/Shanghai default.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=assume)
    return value.astimezone(UTC)


def parse_time(text: str | None, assume: dt.tzinfo = SHANGHAI) -> dt.datetime | None:
    """Parse an ISO-8601-like timestamp (``2026-11-28 09:30``, ``2026-11-28T09:30:00+08:00``).

    Returns None for empty or unparseable input rather than raising: a post without a usable
    date is still a post. A time that cannot be stored as UTC (``0001-01-01T00:00+08:00`` lies
    before year 1 once moved to UTC) is unreadable too, so no caller needs its own OverflowError
    guard.
    """
    if not text:
        return None
    text = text.strip().replace("/", "-")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return ensure_aware(dt.datetime.fromisoformat(text), assume)
    except (ValueError, OverflowError):
        return None


def to_local(value: dt.datetime) -> dt.datetime:
    """Return ``value`` in Asia/Shanghai, for display."""
    return ensure_aware(value).astimezone(SHANGHAI)
