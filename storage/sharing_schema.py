"""Tables of information sharing (core.sharing): special reports and their versions, every
sending of a report or a feedback to an upper body, and items handed down (上级交办).

Declared on :data:`storage.schema.metadata` (listed in ``storage.tables.TABLE_MODULES``), in their
own module because they belong to one feature: the operations are :mod:`storage.reports` and
:mod:`storage.inbound`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.schema import UtcDateTime, metadata

# Each version of an incident's 舆情专报 as it was written: the document itself (what was sent is
# what is kept) and the figures it printed, so a later question "what did we tell them" has one answer.
special_reports = Table(
    "special_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # core.sharing.ReportKind
    Column("seq", Integer, nullable=False),  # 1 for the 首报, then 2, 3 … per incident
    Column("title", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("figures", JSON, nullable=False),
    Column("docx", LargeBinary, nullable=False),
    Column("html", Text, nullable=False),
    UniqueConstraint("incident_id", "seq", name="uq_special_reports_incident_seq"),
)

# Every sending to one recipient: a report version up, or an item's feedback back. Retried with
# backoff by the sending job; a rejection or time-out stays visible (last_error) and the report
# counts as not sent until one sending of it is ``sent``.
report_sends = Table(
    "report_sends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("special_reports.id", ondelete="CASCADE"), index=True),
    Column("inbound_id", Integer, ForeignKey("inbound_items.id", ondelete="CASCADE"), index=True),
    Column("recipient", String(100), nullable=False),  # core.sharing.Upper code, or a name
    Column("channel", String(10), nullable=False),  # core.sharing.SendChannel
    Column("address", Text),  # email address or webhook URL; NULL when sent by hand
    Column("status", String(10), nullable=False, index=True),  # core.sharing.SendState
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime()),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("sent_by", String(100)),
    Column("note", Text),
)

# An item handed down by the city bureau or 网信办: their reference is unique per body, so the same
# item sent twice is one incident.
inbound_items = Table(
    "inbound_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("origin", String(20), nullable=False),  # core.sharing.Upper code
    Column("reference", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("link", Text),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("unit_given", String(100)),  # the unit as they named it (kept even when unknown)
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("received_by", String(100), nullable=False),
    Column("late_on_arrival", Boolean, nullable=False, default=False),
    Column("reply_channel", String(10)),  # core.sharing.SendChannel their feedback goes back by (NULL: by hand)
    Column("reply_address", Text),
    Column("feedback", Text),  # 处置情况反馈, generated from the workflow when the unit resolves it
    Column("feedback_at", UtcDateTime()),
    UniqueConstraint("origin", "reference", name="uq_inbound_items_reference"),
)

# 信息简报 submitted by a unit, bureau unit or department (core.sharing.SubmitterKind): counted per
# Asia/Shanghai month against its quota; attachments kept as sent.
info_briefs = Table(
    "info_briefs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("submitter", String(100), nullable=False),  # unit code, department code, or bureau unit name
    Column("submitter_name", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("submitted_by", String(100), nullable=False),
    Index("ix_info_briefs_submitter_at", "submitter", "submitted_at"),
)

info_brief_files = Table(
    "info_brief_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("brief_id", Integer, ForeignKey("info_briefs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# Who sends 信息简报 by email from which address (an officer sets it, ``ecowatch briefs sender``, or
# when assigning a mail from the triage list): the address is kept lower-case.
brief_senders = Table(
    "brief_senders",
    metadata,
    Column("address", String(200), primary_key=True),
    Column("submitter", String(100), nullable=False),  # unit code, department code, or bureau unit name
    Column("set_at", UtcDateTime(), nullable=False),
    Column("set_by", String(100), nullable=False),
)

# Every mail read by the email import (briefing.mail_import), whatever became of it: a brief, or
# the triage list (unknown sender, no unit, two units) until an officer assigns or dismisses it. The
# mail is kept as received, so nothing is lost and an assignment re-reads it. Message-ID and the
# content hash are unique: the same mail read twice (two runs, IMAP and a saved .eml) is one row.
brief_mails = Table(
    "brief_mails",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(300), unique=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("origin", String(300), nullable=False),  # imap://user@host/folder, or the file it was read from
    Column("sender", String(200), nullable=False),
    Column("sender_name", String(100), nullable=False),
    Column("subject", Text, nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("state", String(10), nullable=False, index=True),  # core.sharing.MailState
    Column("reason", Text),  # why it waits in triage, or what was not kept (attachments skipped)
    Column("brief_id", Integer, ForeignKey("info_briefs.id", ondelete="SET NULL")),
    Column("decided_at", UtcDateTime()),
    Column("decided_by", String(100)),
    Column("raw", LargeBinary, nullable=False),
)
