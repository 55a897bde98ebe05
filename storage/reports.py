"""Special reports (舆情专报) and their sendings: the versions kept as written, and every sending to
an upper body with its state, tries and errors (tables in :mod:`storage.sharing_schema`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select, update

from storage.rows import inserted_id
from storage.sharing_schema import report_sends, special_reports


@dataclass(slots=True, frozen=True)
class StoredReport:
    """One kept version of a special report (without its document bytes)."""

    id: int
    incident_id: int
    kind: str
    seq: int
    title: str
    created_at: dt.datetime
    created_by: str
    figures: dict[str, Any]


@dataclass(slots=True, frozen=True)
class Sending:
    """One sending to one recipient (a report version, or an item's feedback)."""

    id: int
    report_id: int | None
    inbound_id: int | None
    recipient: str
    channel: str
    address: str | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    created_by: str
    sent_at: dt.datetime | None
    sent_by: str | None
    note: str | None


def _report(row: Any) -> StoredReport:
    return StoredReport(row.id, row.incident_id, row.kind, row.seq, row.title, row.created_at, row.created_by,
                        dict(row.figures or {}))


def _sending(row: Any) -> Sending:
    return Sending(row.id, row.report_id, row.inbound_id, row.recipient, row.channel, row.address, row.status,
                   row.attempts or 0, row.next_attempt_at, row.last_error, row.created_at, row.created_by,
                   row.sent_at, row.sent_by, row.note)


_REPORT_COLUMNS = [c for c in special_reports.c if c.name not in ("docx", "html")]


class ReportsTx:
    """Special-report operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_special_report(self, *, incident_id: int, kind: str, seq: int, title: str, at: dt.datetime, by: str,
                           figures: dict[str, Any], docx: bytes, html: str) -> StoredReport:
        """Keep a new version numbered ``seq`` (the unique key refuses a number taken twice)."""
        new_id = inserted_id(self.conn.execute(special_reports.insert().values(
            incident_id=incident_id, kind=kind, seq=seq, title=title, created_at=at, created_by=by, figures=figures,
            docx=docx, html=html)))
        return StoredReport(new_id, incident_id, kind, seq, title, at, by, figures)

    def special_reports_of(self, incident_id: int) -> list[StoredReport]:
        """The incident's versions, oldest first."""
        rows = self.conn.execute(select(*_REPORT_COLUMNS).where(special_reports.c.incident_id == incident_id)
                                 .order_by(special_reports.c.seq))
        return [_report(r) for r in rows]

    def special_report(self, report_id: int) -> StoredReport | None:
        """One version (None when unknown)."""
        row = self.conn.execute(select(*_REPORT_COLUMNS).where(special_reports.c.id == report_id)).first()
        return _report(row) if row is not None else None

    def special_report_document(self, report_id: int, fmt: str) -> bytes | None:
        """The kept document of a version: ``docx`` bytes, or ``html`` as UTF-8."""
        column = special_reports.c.docx if fmt == "docx" else special_reports.c.html
        value = self.conn.execute(select(column).where(special_reports.c.id == report_id)).scalar()
        if value is None:
            return None
        return bytes(value) if fmt == "docx" else str(value).encode("utf-8")

    def add_sending(self, *, recipient: str, channel: str, address: str | None, status: str, at: dt.datetime,
                    by: str, report_id: int | None = None, inbound_id: int | None = None,
                    note: str | None = None) -> Sending:
        """Record a sending: pending (due now) for a channel ecowatch sends on, or already sent by hand."""
        sent = status == "sent"
        values = {"report_id": report_id, "inbound_id": inbound_id, "recipient": recipient, "channel": channel,
                  "address": address, "status": status, "attempts": 0, "next_attempt_at": None if sent else at,
                  "last_error": None, "created_at": at, "created_by": by, "sent_at": at if sent else None,
                  "sent_by": by if sent else None, "note": note}
        new_id = inserted_id(self.conn.execute(report_sends.insert().values(**values)))
        return Sending(id=new_id, **values)  # type: ignore[arg-type]  # the values are the fields, typed above

    def sendings(self, *, report_ids: list[int] | None = None, inbound_id: int | None = None,
                 status: str | None = None) -> list[Sending]:
        """Sendings of some report versions, of one item's feedback, or of a state; oldest first."""
        query = select(report_sends).order_by(report_sends.c.id)
        if report_ids is not None:
            query = query.where(report_sends.c.report_id.in_(report_ids))
        if inbound_id is not None:
            query = query.where(report_sends.c.inbound_id == inbound_id)
        if status is not None:
            query = query.where(report_sends.c.status == status)
        return [_sending(r) for r in self.conn.execute(query)]

    def get_sending(self, sending_id: int) -> Sending | None:
        """One sending (None when unknown)."""
        row = self.conn.execute(select(report_sends).where(report_sends.c.id == sending_id)).first()
        return _sending(row) if row is not None else None

    def due_sendings(self, now: dt.datetime, limit: int = 50) -> list[Sending]:
        """Pending sendings whose next try is due."""
        query = (select(report_sends).where(report_sends.c.status == "pending",
                                            or_(report_sends.c.next_attempt_at.is_(None),
                                                report_sends.c.next_attempt_at <= now))
                 .order_by(report_sends.c.next_attempt_at, report_sends.c.id).limit(limit))
        return [_sending(r) for r in self.conn.execute(query)]

    def sending_done(self, sending_id: int, at: dt.datetime, by: str, tried: bool = False) -> bool:
        """Mark a pending or failed sending sent (``tried``: by a delivery attempt, counted); False
        when it was sent already (nothing changes)."""
        done = self.conn.execute(update(report_sends)
                                 .where(report_sends.c.id == sending_id, report_sends.c.status != "sent")
                                 .values(status="sent", sent_at=at, sent_by=by, next_attempt_at=None,
                                         attempts=report_sends.c.attempts + int(tried)))
        return done.rowcount == 1

    def sending_failed(self, sending_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """A failed try: retried at ``retry_at``, or given up (``failed``, still visible) when None."""
        values: dict[str, Any] = {"last_error": error[:2000], "attempts": report_sends.c.attempts + 1,
                                  "next_attempt_at": retry_at}
        if retry_at is None:
            values["status"] = "failed"
        self.conn.execute(update(report_sends).where(report_sends.c.id == sending_id,
                                                     report_sends.c.status == "pending").values(**values))

    def retry_sending(self, sending_id: int, at: dt.datetime) -> bool:
        """Put a failed sending back in the queue (an officer's 重新发送); False unless it had failed."""
        again = self.conn.execute(update(report_sends)
                                  .where(report_sends.c.id == sending_id, report_sends.c.status == "failed")
                                  .values(status="pending", next_attempt_at=at, attempts=0))
        return again.rowcount == 1
