"""The duty desk's words (值班): shifts, who stands in them, page and hand-over states.

Defined once here: the rota import, the paging job, the hand-over, the API and the duty log
(值班日志) read the codes and Chinese labels from this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.timeutil import to_local


class ShiftKind(StrEnum):
    """A kind of shift. Working days have a day desk and a night; other days one 24-hour shift."""

    DAY = "day"  # 白班, 08:30-17:30 on a working day
    NIGHT = "night"  # 夜班, 17:30-08:30 the next morning
    FULL = "full"  # 全天, 08:30-08:30 on a weekend or holiday

    @property
    def label(self) -> str:
        """The Chinese name an office's 值班表 uses."""
        return SHIFT_LABELS[self.value]


SHIFT_LABELS: dict[str, str] = {"day": "白班", "night": "夜班", "full": "全天"}
# Other spellings found in offices' sheets, read on import (the labels above are written back).
SHIFT_ALIASES: dict[str, str] = {"白班": "day", "日班": "day", "day": "day", "夜班": "night", "night": "night",
                                 "全天": "full", "全日": "full", "24小时": "full", "24h": "full", "full": "full"}


class Tier(StrEnum):
    """Who a page goes to, in order: the officer on duty, then the backup, then the leader on call."""

    PRIMARY = "primary"  # 值班员
    BACKUP = "backup"  # 备班
    LEADER = "leader"  # 带班领导

    @property
    def label(self) -> str:
        """The Chinese name."""
        return TIER_LABELS[self.value]


TIER_LABELS: dict[str, str] = {"primary": "值班员", "backup": "备班", "leader": "带班领导"}
TIERS = tuple(Tier)


class PageState(StrEnum):
    """Where a page (呼叫) of an incident stands."""

    PAGING = "paging"  # 呼叫中: not yet taken; climbs the tiers on its ack timeout
    ACKNOWLEDGED = "acknowledged"  # 已确认: someone took the incident; never paged again

    @property
    def label(self) -> str:
        """The Chinese name."""
        return PAGE_STATE_LABELS[self.value]


PAGE_STATE_LABELS: dict[str, str] = {"paging": "呼叫中", "acknowledged": "已确认"}


class HandoverState(StrEnum):
    """Where a hand-over (交接班) stands."""

    PENDING = "pending"  # 待接班
    ACCEPTED = "accepted"  # 已接班

    @property
    def label(self) -> str:
        """The Chinese name."""
        return HANDOVER_STATE_LABELS[self.value]


HANDOVER_STATE_LABELS: dict[str, str] = {"pending": "待接班", "accepted": "已接班"}

# Where a page was acknowledged from.
ACK_VIA_LABELS: dict[str, str] = {"console": "控制台", "link": "消息中的链接", "cli": "命令行"}

# Kinds of duty-log (值班日志) entries, with the label the exported log prints.
LOG_LABELS: dict[str, str] = {"import": "导入排班", "override": "代班/换班", "page": "呼叫", "page_ack": "确认呼叫",
                              "handover": "交班", "handover_ack": "接班", "handover_late": "接班超时",
                              "gap": "排班空缺"}


@dataclass(slots=True, frozen=True)
class Person:
    """Someone on the rota: the name is a console user's, the phone as the rota gives it."""

    name: str
    phone: str | None = None


@dataclass(slots=True)
class Shift:
    """One shift of the rota: when, and who stands in it."""

    duty_date: dt.date  # the day the shift starts on (a night shift belongs to its evening)
    kind: ShiftKind
    starts_at: dt.datetime  # aware UTC
    ends_at: dt.datetime  # aware UTC, exclusive
    primary: Person | None
    backup: Person | None = None
    leader: Person | None = None
    note: str = ""
    id: int | None = None

    def person(self, tier: Tier) -> Person | None:
        """Who stands in ``tier`` on this shift (None: nobody)."""
        return {Tier.PRIMARY: self.primary, Tier.BACKUP: self.backup, Tier.LEADER: self.leader}[tier]

    def covers(self, at: dt.datetime) -> bool:
        """True while the shift runs."""
        return self.starts_at <= at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``ecowatch rota show``/``now``): times in Asia/Shanghai, with labels."""
        def who(person: Person | None) -> dict[str, Any] | None:
            return {"name": person.name, "phone": person.phone} if person else None

        return {"id": self.id, "date": self.duty_date.isoformat(), "shift": self.kind.value,
                "shift_label": self.kind.label, "starts_at": to_local(self.starts_at).isoformat(),
                "ends_at": to_local(self.ends_at).isoformat(), "primary": who(self.primary),
                "backup": who(self.backup), "leader": who(self.leader), "note": self.note}
