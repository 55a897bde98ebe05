"""Copies of incidents to departments (会办 / 抄送, alerts.copies): which department an incident was
copied to, by whom and when, its answers, and its withdrawal.

The table is declared here, next to its operations (listed in ``storage.tables.TABLE_MODULES``).
A department user reads an incident only while it holds a copy that is not withdrawn: this table
is what the API and :func:`alerts.actions._load` ask. What each copy, reply and withdrawal said is
in the incident's audit log; a row keeps only what the inbox lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    select,
    update,
)

from storage.rows import inserted_id
from storage.schema import UtcDateTime, metadata

incident_copies = Table(
    "incident_copies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("department_code", String(20), nullable=False),  # the pack's [[departments]] code
    Column("copied_at", UtcDateTime(), nullable=False),
    Column("copied_by", String(100), nullable=False),
    Column("note", Text),  # what the duty desk asks of the department
    Column("replies", Integer, nullable=False, default=0),
    Column("replied_at", UtcDateTime()),  # the latest 会办意见
    Column("withdrawn_at", UtcDateTime()),  # set: the department no longer sees the incident
    Column("withdrawn_by", String(100)),
    Index("ix_incident_copies_department", "department_code", "withdrawn_at"),
)


@dataclass(slots=True, frozen=True)
class Copy:
    """One copy of one incident to one department."""

    id: int
    incident_id: int
    department_code: str
    copied_at: dt.datetime
    copied_by: str
    note: str | None
    replies: int
    replied_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None

    @property
    def active(self) -> bool:
        """The department still sees the incident through this copy (not withdrawn)."""
        return self.withdrawn_at is None

    @property
    def state(self) -> str:
        """waiting | replied | withdrawn (core.sharing.COPY_STATE_LABELS)."""
        if not self.active:
            return "withdrawn"
        return "replied" if self.replies else "waiting"


def _copy(row: Any) -> Copy:
    return Copy(row.id, row.incident_id, row.department_code, row.copied_at, row.copied_by, row.note,
                int(row.replies or 0), row.replied_at, row.withdrawn_at, row.withdrawn_by)


# Built once: the incident page reads it at every request (building it cost more than running it).
_COPIES_OF = (select(incident_copies).where(incident_copies.c.incident_id == bindparam("b_id"))
              .order_by(incident_copies.c.id))


def shared_with(department_code: str | ColumnElement[str]) -> Select[Any]:
    """The ids of the incidents copied to ``department_code`` and not withdrawn (a subquery)."""
    return select(incident_copies.c.incident_id).where(incident_copies.c.department_code == department_code,
                                                       incident_copies.c.withdrawn_at.is_(None))


class CopiesTx:
    """Copy operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_copy(self, incident_id: int, department_code: str, by: str, at: dt.datetime, note: str | None) -> Copy:
        """Record a new copy (the caller has checked that none is active for this department)."""
        new_id = inserted_id(self.conn.execute(incident_copies.insert().values(
            incident_id=incident_id, department_code=department_code, copied_at=at, copied_by=by, note=note,
            replies=0)))
        return Copy(new_id, incident_id, department_code, at, by, note, 0, None, None, None)

    def active_copy(self, incident_id: int, department_code: str | None) -> Copy | None:
        """The incident's copy to this department that is not withdrawn, or None."""
        if not department_code:
            return None
        row = self.conn.execute(select(incident_copies).where(
            incident_copies.c.incident_id == incident_id, incident_copies.c.department_code == department_code,
            incident_copies.c.withdrawn_at.is_(None))).first()
        return _copy(row) if row is not None else None

    def copies_of(self, incident_id: int) -> list[Copy]:
        """Every copy of the incident, withdrawn ones too, oldest first."""
        return [_copy(r) for r in self.conn.execute(_COPIES_OF, {"b_id": incident_id})]

    def list_copies(self, department_code: str | None = None, *, active_only: bool = True) -> list[Copy]:
        """Copies, newest first: one department's (None: every department's), withdrawn ones only
        when ``active_only`` is False."""
        query = select(incident_copies)
        if department_code is not None:
            query = query.where(incident_copies.c.department_code == department_code)
        if active_only:
            query = query.where(incident_copies.c.withdrawn_at.is_(None))
        return [_copy(r) for r in self.conn.execute(query.order_by(incident_copies.c.id.desc()))]

    def note_copy_reply(self, copy_id: int, at: dt.datetime) -> None:
        """Count a 会办意见 on the copy (the text itself is in the audit log)."""
        self.conn.execute(update(incident_copies).where(incident_copies.c.id == copy_id).values(
            replies=incident_copies.c.replies + 1, replied_at=at))

    def withdraw_copy(self, copy_id: int, by: str, at: dt.datetime) -> None:
        """Withdraw the copy: from now on the department does not see the incident."""
        self.conn.execute(update(incident_copies).where(incident_copies.c.id == copy_id).values(
            withdrawn_at=at, withdrawn_by=by))
