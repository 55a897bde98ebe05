"""The rota's rules (pure): when each kind of shift runs, which kinds a day has under the Chinese
holiday calendar, who is on duty at a moment, where the rota leaves the desk empty, and which
grade pages by day and by night.

Working days (including 调休 make-up days) come from :mod:`alerts.workdays`, the one calendar;
the shift hours and paging thresholds from the pack's ``[rota]`` table, so a bureau with other
hours changes data, not code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerts.workdays import is_workday
from core.duty import Shift, ShiftKind
from core.errors import ConfigError
from core.models import Grade
from core.timeutil import SHANGHAI


def _hm(text: str, what: str) -> dt.time:
    try:
        hours, minutes = str(text).split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as exc:
        raise ConfigError(f"pack [rota] {what}: {text!r} is not HH:MM") from exc


@dataclass(slots=True, frozen=True)
class RotaPolicy:
    """The pack's ``[rota]``: shift hours (Asia/Shanghai), paging thresholds and timeouts."""

    day_start: dt.time = dt.time(8, 30)
    day_end: dt.time = dt.time(17, 30)
    page_grade_day: Grade = Grade.YELLOW  # 较大 and above page by day
    page_grade_night: Grade = Grade.ORANGE  # 重大 and above page at night
    ack_minutes: float = 15.0  # unacknowledged this long: the next tier is paged
    handover_ack_minutes: float = 30.0  # a hand-over not taken this long pages the backup
    handover_window_hours: float = 4.0  # a hand-over note is written only this early in a shift
    gap_warn_days: int = 7  # gaps in the rota are warned this many days ahead
    lookback_hours: float = 24.0  # an incident graded longer ago than this is not paged (first start)

    @classmethod
    def from_pack(cls, table: Mapping[str, Any]) -> RotaPolicy:
        """Read ``[rota]``; a bad value is a ConfigError naming it."""
        day = table.get("day", ["08:30", "17:30"])
        if not isinstance(day, list) or len(day) != 2:
            raise ConfigError('pack [rota] day needs [start, end] like ["08:30", "17:30"]')
        try:
            grades = (Grade(table.get("page_grade_day", "yellow")), Grade(table.get("page_grade_night", "orange")))
        except ValueError as exc:
            raise ConfigError(f"pack [rota] page grade: {exc}") from exc
        ack, handover = float(table.get("ack_minutes", 15)), float(table.get("handover_ack_minutes", 30))
        if ack <= 0 or handover <= 0:
            raise ConfigError("pack [rota] ack_minutes and handover_ack_minutes must be positive")
        start, end = _hm(day[0], "day start"), _hm(day[1], "day end")
        if not start < end:
            raise ConfigError("pack [rota] day: the day desk must end after it starts")
        return cls(start, end, grades[0], grades[1], ack, handover, float(table.get("handover_window_hours", 4)),
                   int(table.get("gap_warn_days", 7)), float(table.get("lookback_hours", 24)))

    @property
    def ack_timeout(self) -> dt.timedelta:
        """How long a tier has to acknowledge before the next is paged."""
        return dt.timedelta(minutes=self.ack_minutes)

    def handover_due(self, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """True while a shift that started at ``starts_at`` should still get its hand-over note:
        a first start, or a restart late in a shift, writes none (missed hand-overs are not replayed)."""
        return starts_at <= now < starts_at + dt.timedelta(hours=self.handover_window_hours)

    @property
    def handover_timeout(self) -> dt.timedelta:
        """How long the incoming officer has to take the hand-over."""
        return dt.timedelta(minutes=self.handover_ack_minutes)


def day_kinds(day: dt.date) -> tuple[ShiftKind, ...]:
    """The shifts a day has: a working day (调休 make-up days too) a day desk and a night, any
    other day one 24-hour shift. A year the calendar does not know counts Monday-Friday."""
    return (ShiftKind.DAY, ShiftKind.NIGHT) if is_workday(day) else (ShiftKind.FULL,)


def shift_times(day: dt.date, kind: ShiftKind, policy: RotaPolicy) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (aware UTC) of a ``kind`` shift starting on ``day``, Asia/Shanghai hours."""
    def at(d: dt.date, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(d, t, tzinfo=SHANGHAI).astimezone(dt.UTC)

    nxt = day + dt.timedelta(days=1)
    if kind is ShiftKind.DAY:
        return at(day, policy.day_start), at(day, policy.day_end)
    if kind is ShiftKind.NIGHT:
        return at(day, policy.day_end), at(nxt, policy.day_start)
    return at(day, policy.day_start), at(nxt, policy.day_start)


def on_duty(shifts: Iterable[Shift], now: dt.datetime) -> Shift | None:
    """The shift running at ``now`` (the latest-starting one, should two touch)."""
    running = [s for s in shifts if s.covers(now)]
    return max(running, key=lambda s: s.starts_at) if running else None


def next_shift(shifts: Iterable[Shift], now: dt.datetime) -> Shift | None:
    """The first shift starting after ``now``."""
    later = [s for s in shifts if s.starts_at > now]
    return min(later, key=lambda s: s.starts_at) if later else None


def gaps(shifts: Sequence[Shift], start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches of [start, end) that no shift with an officer covers: the desk would be empty."""
    manned = sorted((s for s in shifts if s.primary is not None and s.ends_at > start and s.starts_at < end),
                    key=lambda s: s.starts_at)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = start
    for shift in manned:
        if shift.starts_at > cursor:
            out.append((cursor, shift.starts_at))
        cursor = max(cursor, shift.ends_at)
    if cursor < end:
        out.append((cursor, end))
    return out


def page_threshold(now: dt.datetime, policy: RotaPolicy) -> Grade:
    """The lowest grade that pages at ``now``: the day one in day-desk hours, the night one else."""
    clock = now.astimezone(SHANGHAI).time()
    return policy.page_grade_day if policy.day_start <= clock < policy.day_end else policy.page_grade_night
