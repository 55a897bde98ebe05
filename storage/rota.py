"""The duty aggregate: the rota's shifts, pages of incidents with their acknowledgement, hand-overs
and the duty log (值班日志). Its tables are declared here and registered in :mod:`storage.tables`.

Every write that depends on a state says so in its WHERE clause (a page is acknowledged only
while it is paging, a hand-over taken only while pending), so two people acting at once, or a
job and a person, cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from core.duty import HandoverState, PageState, Person, Shift, ShiftKind, Tier
from core.errors import StoreError
from storage.rows import inserted_id
from storage.schema import UtcDateTime, metadata

duty_shifts = Table(
    "duty_shifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("duty_date", String(10), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False, index=True),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("primary_name", String(100)),
    Column("primary_phone", String(20)),
    Column("backup_name", String(100)),
    Column("backup_phone", String(20)),
    Column("leader_name", String(100)),
    Column("leader_phone", String(20)),
    Column("note", Text, nullable=False, default=""),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(100), nullable=False),
    UniqueConstraint("duty_date", "kind", name="uq_duty_shifts_date_kind"),
)

# One page per incident: once acknowledged it is never paged again (a second grade rise included).
pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("state", String(16), nullable=False, index=True),
    Column("grade", String(10), nullable=False),
    Column("tier", String(10)),  # the tier paged last (NULL: nobody found, the leaders were told)
    Column("person", String(100)),
    Column("shift_id", Integer),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("paged_at", UtcDateTime(), nullable=False),
    Column("acked_at", UtcDateTime()),
    Column("acked_by", String(100)),
    Column("ack_via", String(10)),  # console | link
)

handovers = Table(
    "handovers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("to_shift_id", Integer, ForeignKey("duty_shifts.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("from_shift_id", Integer, ForeignKey("duty_shifts.id", ondelete="SET NULL")),
    Column("from_name", String(100)),
    Column("to_name", String(100)),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("content", JSON, nullable=False),  # report key, open items, unacknowledged pages, gaps
    Column("remarks", Text, nullable=False, default=""),
    Column("accepted_at", UtcDateTime()),
    Column("accepted_by", String(100)),
    Column("late_paged_at", UtcDateTime()),
)

duty_log = Table(
    "duty_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(20), nullable=False),  # core.duty.LOG_LABELS
    Column("actor", String(100), nullable=False),
    Column("shift_id", Integer),
    Column("incident_id", Integer),
    Column("detail", JSON, nullable=False),
    Index("ix_duty_log_at", "at"),
)


def _person(name: str | None, phone: str | None) -> Person | None:
    return Person(name, phone) if name else None


def row_to_shift(row: Row[Any]) -> Shift:
    """A stored shift."""
    return Shift(dt.date.fromisoformat(row.duty_date), ShiftKind(row.kind), row.starts_at, row.ends_at,
                 _person(row.primary_name, row.primary_phone), _person(row.backup_name, row.backup_phone),
                 _person(row.leader_name, row.leader_phone), row.note or "", row.id)


def _shift_values(shift: Shift) -> dict[str, Any]:
    values: dict[str, Any] = {"duty_date": shift.duty_date.isoformat(), "kind": shift.kind.value,
                              "starts_at": shift.starts_at, "ends_at": shift.ends_at, "note": shift.note}
    for tier in Tier:
        person = shift.person(tier)
        values[f"{tier.value}_name"] = person.name if person else None
        values[f"{tier.value}_phone"] = person.phone if person else None
    return values


class RotaTx:
    """Duty operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    # --- the rota ---------------------------------------------------------------------------

    def replace_shifts(self, shifts: Sequence[Shift], actor: str, now: dt.datetime, source: str) -> int:
        """Store an imported rota: the days it covers are replaced whole. A shift overlapping one
        kept from another day is a StoreError (the caller's transaction then stores nothing).
        Returns how many stored shifts were replaced."""
        days = sorted({s.duty_date.isoformat() for s in shifts})
        replaced = 0
        for start in range(0, len(days), 500):
            replaced += self.conn.execute(delete(duty_shifts).where(
                duty_shifts.c.duty_date.in_(days[start:start + 500]))).rowcount
        for shift in shifts:
            clash = self.conn.execute(select(duty_shifts).where(
                duty_shifts.c.starts_at < shift.ends_at, duty_shifts.c.ends_at > shift.starts_at)).first()
            if clash is not None:
                raise StoreError(f"{shift.duty_date} {shift.kind.label} overlaps the stored {clash.duty_date} "
                                 f"{ShiftKind(clash.kind).label}: import that day too, or fix the times")
            shift.id = inserted_id(self.conn.execute(duty_shifts.insert().values(
                **_shift_values(shift), updated_at=now, updated_by=actor)))
        self.add_duty_log("import", actor, now, detail={"source": source, "shifts": len(shifts),
                                                        "replaced": replaced, "from": days[0] if days else None,
                                                        "to": days[-1] if days else None})
        return replaced

    def shifts_between(self, start: dt.datetime, end: dt.datetime) -> list[Shift]:
        """Shifts that run at some moment of [start, end), earliest first."""
        rows = self.conn.execute(select(duty_shifts).where(duty_shifts.c.starts_at < end,
                                                           duty_shifts.c.ends_at > start)
                                 .order_by(duty_shifts.c.starts_at))
        return [row_to_shift(r) for r in rows]

    def get_shift(self, shift_id: int) -> Shift | None:
        """One shift by id."""
        row = self.conn.execute(select(duty_shifts).where(duty_shifts.c.id == shift_id)).first()
        return row_to_shift(row) if row else None

    def override_shift(self, shift_id: int, tier: Tier, person: Person, *, approved_by: str, reason: str,
                       actor: str, now: dt.datetime) -> Shift | None:
        """代班/换班: put ``person`` in ``tier`` of one shift, with who approved it, in the duty log.
        None when there is no such shift."""
        before = self.get_shift(shift_id)
        if before is None:
            return None
        self.conn.execute(update(duty_shifts).where(duty_shifts.c.id == shift_id).values(
            **{f"{tier.value}_name": person.name, f"{tier.value}_phone": person.phone}, updated_at=now,
            updated_by=actor))
        old = before.person(tier)
        self.add_duty_log("override", actor, now, shift_id=shift_id,
                          detail={"tier": tier.value, "from": old.name if old else None, "to": person.name,
                                  "approved_by": approved_by, "reason": reason,
                                  "shift": f"{before.duty_date} {before.kind.label}"})
        return self.get_shift(shift_id)

    # --- pages --------------------------------------------------------------------------------

    def open_page(self, incident_id: int, grade: str, now: dt.datetime) -> int | None:
        """Start paging an incident; None when it has (or had) a page already."""
        try:
            with self.conn.begin_nested():
                return inserted_id(self.conn.execute(pages.insert().values(
                    incident_id=incident_id, state=PageState.PAGING.value, grade=grade, tier=None, person=None,
                    shift_id=None, opened_at=now, paged_at=now)))
        except IntegrityError:
            return None

    def paged_incidents(self) -> set[int]:
        """Every incident that has a page, whatever its state (never paged twice)."""
        return set(self.conn.execute(select(pages.c.incident_id)).scalars())

    def list_pages(self, state: PageState | None = None, since: dt.datetime | None = None,
                   until: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Pages, oldest first: all, or in one state, or opened within [since, until)."""
        query = select(pages).order_by(pages.c.id)
        if state is not None:
            query = query.where(pages.c.state == state.value)
        if since is not None:
            query = query.where(pages.c.opened_at >= since)
        if until is not None:
            query = query.where(pages.c.opened_at < until)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def get_page(self, page_id: int) -> dict[str, Any] | None:
        """One page by id."""
        row = self.conn.execute(select(pages).where(pages.c.id == page_id)).first()
        return dict(row._mapping) if row else None

    def page_climbed(self, page_id: int, tier: Tier | None, person: str | None, shift_id: int | None,
                     now: dt.datetime, last_paged_at: dt.datetime) -> bool:
        """Record that a page went to ``tier``; False when it was acknowledged meanwhile, or another
        worker paged it since ``last_paged_at`` (two duty jobs never send the same tier twice)."""
        return self.conn.execute(update(pages).where(pages.c.id == page_id, pages.c.state == PageState.PAGING.value,
                                                     pages.c.paged_at == last_paged_at)
                                 .values(tier=tier.value if tier else None, person=person, shift_id=shift_id,
                                         paged_at=now)).rowcount == 1

    def ack_page(self, page_id: int, actor: str, via: str, now: dt.datetime) -> bool:
        """Acknowledge a page; False when it is not paging (already taken, or no such page)."""
        return self.conn.execute(update(pages).where(pages.c.id == page_id, pages.c.state == PageState.PAGING.value)
                                 .values(state=PageState.ACKNOWLEDGED.value, acked_at=now, acked_by=actor,
                                         ack_via=via)).rowcount == 1

    # --- hand-overs ---------------------------------------------------------------------------

    def add_handover(self, to_shift: Shift, from_shift: Shift | None, content: dict[str, Any],
                     now: dt.datetime) -> int | None:
        """The hand-over into ``to_shift``; None when it exists already (written once per shift)."""
        assert to_shift.id is not None
        try:
            with self.conn.begin_nested():
                return inserted_id(self.conn.execute(handovers.insert().values(
                    to_shift_id=to_shift.id, from_shift_id=from_shift.id if from_shift else None,
                    from_name=from_shift.primary.name if from_shift and from_shift.primary else None,
                    to_name=to_shift.primary.name if to_shift.primary else None, state=HandoverState.PENDING.value,
                    created_at=now, content=content, remarks="")))
        except IntegrityError:
            return None

    def get_handover(self, handover_id: int) -> dict[str, Any] | None:
        """One hand-over by id."""
        row = self.conn.execute(select(handovers).where(handovers.c.id == handover_id)).first()
        return dict(row._mapping) if row else None

    def list_handovers(self, since: dt.datetime | None = None, until: dt.datetime | None = None,
                       state: HandoverState | None = None) -> list[dict[str, Any]]:
        """Hand-overs created within [since, until), oldest first."""
        query = select(handovers).order_by(handovers.c.id)
        if since is not None:
            query = query.where(handovers.c.created_at >= since)
        if until is not None:
            query = query.where(handovers.c.created_at < until)
        if state is not None:
            query = query.where(handovers.c.state == state.value)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def handover_remarks(self, handover_id: int, remarks: str, actor: str) -> bool:
        """The outgoing officer's free-text remarks, while the hand-over is not yet taken."""
        return self.conn.execute(update(handovers).where(
            handovers.c.id == handover_id, handovers.c.state == HandoverState.PENDING.value,
            handovers.c.from_name == actor).values(remarks=remarks[:4000])).rowcount == 1

    def accept_handover(self, handover_id: int, actor: str, now: dt.datetime) -> bool:
        """The incoming officer (or the shift's backup) takes the hand-over; False otherwise."""
        shift_of = select(duty_shifts.c.id).where(
            duty_shifts.c.id == handovers.c.to_shift_id,
            (duty_shifts.c.primary_name == actor) | (duty_shifts.c.backup_name == actor))
        return self.conn.execute(update(handovers).where(
            handovers.c.id == handover_id, handovers.c.state == HandoverState.PENDING.value, shift_of.exists())
            .values(state=HandoverState.ACCEPTED.value, accepted_at=now, accepted_by=actor)).rowcount == 1

    def handover_late_paged(self, handover_id: int, now: dt.datetime) -> bool:
        """Mark that the backup was paged for an untaken hand-over; False if done or taken already."""
        return self.conn.execute(update(handovers).where(
            handovers.c.id == handover_id, handovers.c.state == HandoverState.PENDING.value,
            handovers.c.late_paged_at.is_(None)).values(late_paged_at=now)).rowcount == 1

    # --- the duty log -------------------------------------------------------------------------

    def add_duty_log(self, kind: str, actor: str, at: dt.datetime, *, shift_id: int | None = None,
                     incident_id: int | None = None, detail: dict[str, Any] | None = None) -> int:
        """One duty-log line, in the caller's transaction (it exists iff what it records does)."""
        return inserted_id(self.conn.execute(duty_log.insert().values(
            at=at, kind=kind, actor=actor, shift_id=shift_id, incident_id=incident_id, detail=detail or {})))

    def duty_log_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        """Duty-log lines within [start, end), in order."""
        rows = self.conn.execute(select(duty_log).where(and_(duty_log.c.at >= start, duty_log.c.at < end))
                                 .order_by(duty_log.c.at, duty_log.c.id))
        return [dict(r._mapping) for r in rows]
