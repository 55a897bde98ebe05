"""Items handed down (上级交办) by the city bureau or 网信办: their reference, text, link and deadline,
and the incident each became (table in :mod:`storage.sharing_schema`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from storage.rows import inserted_id
from storage.sharing_schema import inbound_items


@dataclass(slots=True, frozen=True)
class InboundItem:
    """A stored item handed down."""

    id: int
    origin: str
    reference: str
    title: str
    text: str
    link: str | None
    deadline: dt.datetime
    unit_given: str | None
    incident_id: int
    received_at: dt.datetime
    received_by: str
    late_on_arrival: bool
    reply_channel: str | None  # where their platform wants the feedback: email | webhook (None: by hand)
    reply_address: str | None
    feedback: str | None
    feedback_at: dt.datetime | None


def _item(row: Any) -> InboundItem:
    return InboundItem(row.id, row.origin, row.reference, row.title, row.text, row.link, row.deadline, row.unit_given,
                       row.incident_id, row.received_at, row.received_by, bool(row.late_on_arrival), row.reply_channel,
                       row.reply_address, row.feedback, row.feedback_at)


class InboundTx:
    """Operations on items handed down, of :class:`storage.sql.Tx`; ``self.conn`` is the connection."""

    conn: Connection

    def find_inbound(self, origin: str, reference: str) -> InboundItem | None:
        """The item with this body's reference (None when new)."""
        row = self.conn.execute(select(inbound_items).where(inbound_items.c.origin == origin,
                                                            inbound_items.c.reference == reference)).first()
        return _item(row) if row is not None else None

    def add_inbound(self, *, origin: str, reference: str, title: str, text: str, link: str | None,
                    deadline: dt.datetime, unit_given: str | None, incident_id: int, at: dt.datetime, by: str,
                    late: bool, reply_channel: str | None = None, reply_address: str | None = None) -> InboundItem:
        """Keep a new item (the unique reference refuses a second copy)."""
        values: dict[str, Any] = {
            "origin": origin, "reference": reference, "title": title, "text": text, "link": link, "deadline": deadline,
            "unit_given": unit_given, "incident_id": incident_id, "received_at": at, "received_by": by,
            "late_on_arrival": late, "reply_channel": reply_channel, "reply_address": reply_address,
            "feedback": None, "feedback_at": None}
        new_id = inserted_id(self.conn.execute(inbound_items.insert().values(**values)))
        return InboundItem(id=new_id, **values)

    def get_inbound(self, item_id: int) -> InboundItem | None:
        """One item (None when unknown)."""
        row = self.conn.execute(select(inbound_items).where(inbound_items.c.id == item_id)).first()
        return _item(row) if row is not None else None

    def list_inbound(self, *, awaiting_feedback: bool = False, limit: int = 500) -> list[InboundItem]:
        """Items, newest first; only those whose feedback is not written yet when asked."""
        query = select(inbound_items).order_by(inbound_items.c.id.desc()).limit(limit)
        if awaiting_feedback:
            query = query.where(inbound_items.c.feedback.is_(None))
        return [_item(r) for r in self.conn.execute(query)]

    def set_inbound_feedback(self, item_id: int, text: str, at: dt.datetime) -> bool:
        """Keep the generated feedback once; False when it was written already."""
        done = self.conn.execute(update(inbound_items).where(inbound_items.c.id == item_id,
                                                             inbound_items.c.feedback.is_(None))
                                 .values(feedback=text, feedback_at=at))
        return done.rowcount == 1
