"""The outbox aggregate: messages waiting to go out on a push channel, grouped per incident and
address, leased by the delivery job, retried on failure and kept visible when they fail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from core.models import Grade
from storage.rows import inserted_id
from storage.schema import outbox

_GROUP_KEY = (outbox.c.incident_id == bindparam("b_incident_id"), outbox.c.channel == bindparam("b_channel"),
              outbox.c.address == bindparam("b_address"))


# A pending message may take more lines only while no delivery holds its lease: the sender sends
# the lines it read when it claimed the message and then marks it sent, so a line joined after
# the claim would be marked sent without ever being delivered.
_JOIN_NOW = bindparam("b_join_now", type_=outbox.c.locked_until.type)
_JOINABLE = (outbox.c.status == "pending", or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < _JOIN_NOW))
_LEASED = (outbox.c.status == "pending", outbox.c.locked_until >= _JOIN_NOW)


def _of_pending(column: Any) -> Any:
    return (select(column).where(*_GROUP_KEY, *_JOINABLE).order_by(outbox.c.id.desc()).limit(1)
            .scalar_subquery().label(column.name))


# The group's pending message (all NULL when none) and its last sending, in ONE statement that
# always returns one row: one round trip per recipient instead of two (escalation pass,
# bench/alerts.py). Every subquery reads the same snapshot, so they describe the same message.
_MESSAGE_GROUP = select(*(_of_pending(c) for c in (outbox.c.id, outbox.c.lines, outbox.c.events, outbox.c.grade,
                                                   outbox.c.not_before)),
                        select(func.max(outbox.c.sent_at)).where(*_GROUP_KEY, outbox.c.status == "sent")
                        .scalar_subquery().label("last_sent"),
                        select(func.count()).where(*_GROUP_KEY, *_LEASED).scalar_subquery().label("leased"))
_UPDATE_PENDING = (update(outbox).where(outbox.c.id == bindparam("b_id"), *_JOINABLE)
                   .values(lines=bindparam("lines"), events=bindparam("events"), subject=bindparam("subject"),
                           grade=bindparam("grade"), not_before=bindparam("not_before")))
_INSERT_MESSAGE = outbox.insert()
# The delivery job (alerts.delivery.deliver) runs these once per message: built per call they cost
# more than the in-app feed's own insert (bench/alerts.py, outbox delivery).
_now = bindparam("b_now", type_=outbox.c.locked_until.type)
_FREE = or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < _now)
_DUE_MESSAGES = (select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= _now,
                                      outbox.c.not_before <= _now, _FREE)
                 .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(bindparam("b_limit")))
_LEASE_MESSAGE = (update(outbox).where(outbox.c.id == bindparam("b_id"), outbox.c.status == "pending", _FREE)
                  .values(locked_until=bindparam("locked_until")))
_MESSAGE_SENT = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                 .values(status="sent", sent_at=bindparam("sent_at"), locked_until=None,
                         attempts=outbox.c.attempts + 1))
_MESSAGE_RETRY = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                  .values(last_error=bindparam("last_error"), locked_until=None, attempts=outbox.c.attempts + 1,
                          next_attempt_at=bindparam("next_attempt_at")))
_MESSAGE_FAILED = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                   .values(last_error=bindparam("last_error"), locked_until=None, attempts=outbox.c.attempts + 1,
                           status="failed"))


class OutboxTx:
    """Outbox operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def enqueue_message(self, *, incident_id: int | None, channel: str, recipient: str, address: str,
                        grade: str | None, subject: str, line: str, event: str, now: dt.datetime,
                        not_before: dt.datetime, group: dt.timedelta) -> int:
        """Queue a line for one recipient on one channel, grouped: while a message for the same
        incident and address is pending the line joins it; after one was sent, the next waits
        until ``group`` has passed. Returns the outbox id."""
        if incident_id is None:  # messages about no incident (rare) are not grouped by incident
            key = (outbox.c.incident_id.is_(None), outbox.c.channel == channel, outbox.c.address == address)
            free = {"b_join_now": now}
            pending = self.conn.execute(select(outbox).where(*key, *_JOINABLE)
                                        .order_by(outbox.c.id.desc()).limit(1), free).first()
            last_sent = self.conn.execute(select(func.max(outbox.c.sent_at))
                                          .where(*key, outbox.c.status == "sent")).scalar_one()
            leased = self.conn.execute(select(func.count()).where(*key, *_LEASED), free).scalar_one()
        else:
            params = {"b_incident_id": incident_id, "b_channel": channel, "b_address": address, "b_join_now": now}
            found = self.conn.execute(_MESSAGE_GROUP, params).one()
            pending = found if found.id is not None else None
            last_sent, leased = found.last_sent, found.leased
        if pending is not None:
            lines = list(pending.lines)
            if line not in lines:
                lines.append(line)
            events = list(pending.events) + ([event] if event not in pending.events else [])
            ranks = [Grade(g).rank for g in (pending.grade, grade) if g]
            top = list(Grade)[max(ranks)].value if ranks else None
            joined = self.conn.execute(_UPDATE_PENDING, {"b_id": pending.id, "lines": lines, "events": events,
                                                         "subject": subject, "grade": top, "b_join_now": now,
                                                         "not_before": min(pending.not_before, not_before)})
            if joined.rowcount == 1:
                return int(pending.id)
            leased = 1  # claimed by a delivery between our read and our update (PostgreSQL)
        if leased:
            last_sent = max(last_sent, now) if last_sent is not None else now  # being sent right now
        if last_sent is not None:
            not_before = max(not_before, last_sent + group)
        new_id = inserted_id(self.conn.execute(_INSERT_MESSAGE, {
            "incident_id": incident_id, "channel": channel, "recipient": recipient, "address": address,
            "grade": grade, "subject": subject, "lines": [line], "events": [event], "created_at": now,
            "not_before": not_before, "next_attempt_at": not_before, "attempts": 0, "status": "pending",
            "locked_until": None, "sent_at": None, "last_error": None}))
        return new_id

    def claim_outbox(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[dict[str, Any]]:
        """Take up to ``limit`` due messages for delivery; a lease keeps another worker off them
        (and frees them again if this one dies mid-send)."""
        rows = self.conn.execute(_DUE_MESSAGES, {"b_now": now, "b_limit": limit}).all()
        claimed = []
        for row in rows:
            got = self.conn.execute(_LEASE_MESSAGE, {"b_id": row.id, "b_now": now, "locked_until": now + lease})
            if got.rowcount == 1:
                claimed.append(dict(row._mapping))
        return claimed

    def outbox_sent(self, message_id: int, at: dt.datetime) -> None:
        """Mark a message delivered."""
        self.conn.execute(_MESSAGE_SENT, {"b_id": message_id, "sent_at": at})

    def outbox_failed(self, message_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt: retried at ``retry_at``, or given up (status failed) if None."""
        if retry_at is None:
            self.conn.execute(_MESSAGE_FAILED, {"b_id": message_id, "last_error": error[:2000]})
        else:
            self.conn.execute(_MESSAGE_RETRY, {"b_id": message_id, "last_error": error[:2000],
                                               "next_attempt_at": retry_at})

    def list_outbox(self, status: str | None = None, incident_id: int | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
        """Outbox messages, newest first: failures are visible here (status failed, last_error)."""
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox.c.status == status)
        if incident_id is not None:
            query = query.where(outbox.c.incident_id == incident_id)
        return [dict(r._mapping) for r in self.conn.execute(query)]
