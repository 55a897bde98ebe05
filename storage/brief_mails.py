"""Mails read by the 信息简报 email import and the sender addresses known to belong to a submitter
(tables in :mod:`storage.sharing_schema`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from storage.rows import inserted_id
from storage.sharing_schema import brief_mails, brief_senders


@dataclass(slots=True, frozen=True)
class StoredMail:
    """One mail as the import kept it (without its bytes)."""

    id: int
    message_id: str | None
    origin: str
    sender: str
    sender_name: str
    subject: str
    sent_at: dt.datetime | None
    received_at: dt.datetime
    state: str  # core.sharing.MailState
    reason: str | None
    brief_id: int | None
    decided_at: dt.datetime | None
    decided_by: str | None


_COLUMNS = [c for c in brief_mails.c if c.name != "raw"]


def _mail(row: Any) -> StoredMail:
    return StoredMail(row.id, row.message_id, row.origin, row.sender, row.sender_name, row.subject, row.sent_at,
                      row.received_at, row.state, row.reason, row.brief_id, row.decided_at, row.decided_by)


class BriefMailsTx:
    """Email import operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def mail_seen(self, message_id: str | None, content_hash: str) -> StoredMail | None:
        """The mail already kept with this Message-ID or this content, or None."""
        cond = brief_mails.c.content_hash == content_hash
        if message_id:
            cond = or_(cond, brief_mails.c.message_id == message_id)
        row = self.conn.execute(select(*_COLUMNS).where(cond).order_by(brief_mails.c.id).limit(1)).first()
        return _mail(row) if row is not None else None

    def add_mail(self, *, message_id: str | None, content_hash: str, origin: str, sender: str, sender_name: str,
                 subject: str, sent_at: dt.datetime | None, received_at: dt.datetime, state: str,
                 reason: str | None, brief_id: int | None, raw: bytes) -> int:
        """Keep one mail and what became of it (the caller has checked :meth:`mail_seen`)."""
        return inserted_id(self.conn.execute(brief_mails.insert().values(
            message_id=message_id, content_hash=content_hash, origin=origin[:300], sender=sender,
            sender_name=sender_name, subject=subject, sent_at=sent_at, received_at=received_at, state=state,
            reason=reason, brief_id=brief_id, raw=raw)))

    def list_mails(self, states: tuple[str, ...], limit: int | None = None, offset: int = 0) -> list[StoredMail]:
        """Mails in these states, oldest first (the triage list is worked from the top): the page
        ``offset … offset+limit`` of them (all when ``limit`` is None)."""
        query = select(*_COLUMNS).where(brief_mails.c.state.in_(states)).order_by(brief_mails.c.id)
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [_mail(r) for r in self.conn.execute(query)]

    def count_mails(self, states: tuple[str, ...]) -> int:
        """How many mails are in these states."""
        query = select(func.count()).select_from(brief_mails).where(brief_mails.c.state.in_(states))
        return int(self.conn.execute(query).scalar_one())

    def get_mail(self, mail_id: int) -> tuple[StoredMail, bytes] | None:
        """One mail and its bytes as received, or None."""
        row = self.conn.execute(select(brief_mails).where(brief_mails.c.id == mail_id)).first()
        return (_mail(row), bytes(row.raw)) if row is not None else None

    def decide_mail(self, mail_id: int, *, from_state: str, state: str, brief_id: int | None, by: str,
                    at: dt.datetime) -> bool:
        """Move a mail out of ``from_state``; False when it is no longer there (someone else decided)."""
        return self.conn.execute(update(brief_mails).where(
            brief_mails.c.id == mail_id, brief_mails.c.state == from_state).values(
            state=state, brief_id=brief_id, decided_by=by, decided_at=at)).rowcount == 1

    def set_brief_sender(self, address: str, submitter: str, by: str, at: dt.datetime) -> None:
        """Record (or change) whose briefs mail from ``address`` are."""
        address = address.strip().lower()
        self.conn.execute(delete(brief_senders).where(brief_senders.c.address == address))
        self.conn.execute(brief_senders.insert().values(address=address, submitter=submitter, set_at=at, set_by=by))

    def remove_brief_sender(self, address: str) -> bool:
        """Forget an address; False when it was not known."""
        return self.conn.execute(delete(brief_senders).where(
            brief_senders.c.address == address.strip().lower())).rowcount == 1

    def brief_senders(self) -> dict[str, str]:
        """Every known address and its submitter."""
        return {r.address: r.submitter for r in self.conn.execute(
            select(brief_senders.c.address, brief_senders.c.submitter).order_by(brief_senders.c.address))}
