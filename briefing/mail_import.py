"""信息简报 by email: one mail in, a brief of the unit it is from, or the triage list; never lost.

Whose a mail is: the unit the subject names at its head (``【信息简报】观音桥街道：…``, a submitter's
name, alias or code), else the sender's address as registered (the pack's ``[briefs.senders]``, or
the database's, set by ``ecowatch briefs sender`` or when an officer assigns a mail and asks to
remember it). Both naming different submitters, or neither naming one, and the mail waits in the
triage list for the duty officer, who assigns it to a submitter (it becomes a brief then) or
dismisses it. A From address can be forged: when the pack names our mail server's authserv-id
(``[briefs] mail_authserv_id``), a mail the server found forged (:mod:`briefing.mail_auth`) waits in
triage whatever it names, and a registered address counts only when the server vouched for it.

Each mail is one transaction: the brief (if any) and the mail's row land together, and a mail
already kept (same Message-ID, or same content) is reported as a duplicate and changes nothing, so
running the import twice, or again after it died midway, doubles nothing. A brief counts in the
month of its sent date (the Date header, Asia/Shanghai; the import time when the header is
missing or more than a day ahead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from alerts.acting import acting_user
from briefing.briefs_service import MAX_FILE_BYTES, MAX_FILES
from briefing.mail_auth import SenderCheck, sender_auth
from briefing.mail_parse import NO_SUBJECT, MailError, ParsedMail, parse_mail
from briefing.quota import QuotaError, Submitter, submitter_of
from core.errors import NotFoundError, StoreError, WorkflowError
from core.jurisdiction import Jurisdiction
from core.sharing import MailState
from storage.sql import SqlStore, Tx

MAX_TEXT_CHARS = 100_000
# A Date header further ahead than this is not believed (the brief counts when it was imported).
FUTURE_TOLERANCE = dt.timedelta(days=1)


@dataclass(slots=True, frozen=True)
class MailOutcome:
    """What one mail became (one output line of ``ecowatch briefs import-mail``)."""

    origin: str
    mail_id: int | None = None
    state: str | None = None  # core.sharing.MailState; None for a duplicate or an error
    brief_id: int | None = None
    submitter: str | None = None
    title: str | None = None
    note: str | None = None  # why in triage, what was not kept
    duplicate: bool = False
    error: str | None = None

    @property
    def stored(self) -> bool:
        """True when the mail is kept (now or before): an IMAP message may be marked seen."""
        return self.error is None


def named_submitter(jurisdiction: Jurisdiction, name: str | None) -> Submitter | None:
    """The submitter a mail names: code, name, a unit's alias, or a department's name."""
    if not name:
        return None
    unit = jurisdiction.unit_by_name(name)
    department = jurisdiction.department(name)
    return (submitter_of(jurisdiction, name) or (submitter_of(jurisdiction, unit.code) if unit else None)
            or (submitter_of(jurisdiction, department.code) if department else None))


def pack_senders(jurisdiction: Jurisdiction) -> dict[str, str]:
    """The pack's ``[briefs.senders]``: address → submitter code or name, addresses lower-cased."""
    return {str(k).strip().lower(): str(v) for k, v in jurisdiction.briefs.get("senders", {}).items()}


def whose(jurisdiction: Jurisdiction, stored: dict[str, str], mail: ParsedMail) -> tuple[Submitter | None, str]:
    """(the submitter, '') or (None, why it goes to triage). ``stored``: the database's sender
    addresses, which win over the pack's (an officer set them later)."""
    if mail.title == NO_SUBJECT:
        return None, "邮件没有主题，请值班员确认标题和报送单位"
    check = SenderCheck.PASS
    authserv_id = str(jurisdiction.briefs.get("mail_authserv_id") or "").strip()
    if authserv_id:
        auth = sender_auth(mail.auth_results, authserv_id, mail.sender)
        if auth.check is SenderCheck.FAIL:
            return None, f"邮件服务器认证发件地址 {mail.sender} 未通过（{auth.detail}），可能是冒用，请值班员确认"
        check = auth.check
    by_subject = named_submitter(jurisdiction, mail.unit_hint)
    registered = (pack_senders(jurisdiction) | stored).get(mail.sender)
    by_sender = named_submitter(jurisdiction, registered)
    if by_sender and not by_subject and check is not SenderCheck.PASS:
        return None, (f"发件地址 {mail.sender} 登记为「{by_sender.name}」，但邮件服务器未认证该地址"
                      "（无 SPF/DKIM/DMARC 通过记录），请值班员确认")
    if by_subject and by_sender and by_subject.code != by_sender.code:
        return None, f"主题写明「{by_subject.name}」，发件地址登记为「{by_sender.name}」，请值班员确认"
    if by_subject or by_sender:
        return by_subject or by_sender, ""
    if registered:
        return None, f"发件地址登记的「{registered}」不在报送单位之列"
    return None, f"发件地址 {mail.sender} 未登记，主题也未写明报送单位"


def _counted_at(mail: ParsedMail, now: dt.datetime) -> tuple[dt.datetime, str]:
    if mail.sent_at is None:
        return now, "邮件无发送时间，按导入时间统计"
    if mail.sent_at > now + FUTURE_TOLERANCE:
        return now, "邮件发送时间在未来，按导入时间统计"
    return mail.sent_at, ""


def import_mail(store: SqlStore, jurisdiction: Jurisdiction, raw: bytes, origin: str,
                now: dt.datetime) -> MailOutcome:
    """Keep one mail: a brief when whose it is is known, else in triage; a duplicate changes
    nothing; a mail that cannot be read is this outcome's ``error`` (nothing kept)."""
    try:
        mail = parse_mail(raw, MAX_FILE_BYTES, MAX_FILES)
    except MailError as exc:
        return MailOutcome(origin, error=str(exc))
    try:
        with store.begin() as tx:
            seen = tx.mail_seen(mail.message_id, mail.content_hash)
            if seen is not None:
                return MailOutcome(origin, seen.id, None, seen.brief_id, title=mail.title, duplicate=True)
            who, why = whose(jurisdiction, tx.brief_senders(), mail)
            at, when_note = _counted_at(mail, now)
            note = "；".join(n for n in (why, when_note, *mail.skipped) if n) or None
            brief_id = None
            if who is not None:
                brief_id = _add_brief(tx, jurisdiction, mail, who, at)
            state = MailState.IMPORTED if who is not None else MailState.TRIAGE
            mail_id = tx.add_mail(message_id=mail.message_id, content_hash=mail.content_hash, origin=origin,
                                  sender=mail.sender, sender_name=mail.sender_name, subject=mail.subject,
                                  sent_at=mail.sent_at, received_at=now, state=state.value, reason=note,
                                  brief_id=brief_id, raw=raw)
    except StoreError as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise
        return MailOutcome(origin, title=mail.title, duplicate=True)  # another import kept it a moment ago
    return MailOutcome(origin, mail_id, state.value, brief_id, who.code if who else None, mail.title, note)


def _title(jurisdiction: Jurisdiction, mail: ParsedMail, who: Submitter) -> str:
    """The subject without its head when the head names who the brief is from (the brief says so
    already); a head naming anything else (通知：…) stays part of the title."""
    named = named_submitter(jurisdiction, mail.unit_hint)
    return mail.rest if named is not None and named.code == who.code else mail.title


def _add_brief(tx: Tx, jurisdiction: Jurisdiction, mail: ParsedMail, who: Submitter, at: dt.datetime) -> int:
    """The mail as ``who``'s brief, submitted by the mail's address (what the console lists)."""
    return tx.add_brief(submitter=who.code, submitter_name=who.name, title=_title(jurisdiction, mail, who),
                        text=mail.text[:MAX_TEXT_CHARS], at=at, by=f"邮件 {mail.sender}"[:100],
                        files=[(f.name, f.mime, f.data) for f in mail.files])


def assign_mail(store: SqlStore, jurisdiction: Jurisdiction, mail_id: int, submitter: str, by: str,
                now: dt.datetime, *, remember: bool = False, version: int | None = None) -> int:
    """Make a mail in triage the brief of ``submitter`` (and, with ``remember``, its sender's address
    that submitter's from now on); the brief's id. QuotaError for an unknown submitter,
    NotFoundError for an unknown mail, WorkflowError for one no longer in triage, ActorRefused when
    ``by`` may not."""
    who = named_submitter(jurisdiction, submitter)
    if who is None:
        raise QuotaError(f"「{submitter}」不在信息简报报送单位之列")
    with store.begin() as tx:
        acting_user(tx, by, "brief_mail", version=version)
        found = tx.get_mail(mail_id)
        if found is None:
            raise NotFoundError(f"邮件 #{mail_id} 不存在")
        if found[0].state != MailState.TRIAGE.value:
            raise WorkflowError(f"邮件 #{mail_id} 已处理（{MailState(found[0].state).label}），不在待分拣列表中")
        stored, raw = found
        try:
            mail = parse_mail(raw, MAX_FILE_BYTES, MAX_FILES)
        except MailError as exc:  # it was read once; a parser change must not strand it
            raise QuotaError(f"邮件 #{mail_id} 无法再次读取：{exc}") from exc
        at, _ = _counted_at(mail, stored.received_at)
        brief_id = _add_brief(tx, jurisdiction, mail, who, at)
        if not tx.decide_mail(mail_id, from_state=MailState.TRIAGE.value, state=MailState.ASSIGNED.value,
                              brief_id=brief_id, by=by, at=now):
            raise WorkflowError(f"邮件 #{mail_id} 刚被他人处理")
        if remember:
            tx.set_brief_sender(stored.sender, who.code, by, now)
        return brief_id


def dismiss_mail(store: SqlStore, mail_id: int, by: str, now: dt.datetime, *, version: int | None = None) -> None:
    """Take a mail out of triage as no brief (kept, with who decided); NotFoundError / WorkflowError
    when it is unknown or no longer in triage."""
    with store.begin() as tx:
        acting_user(tx, by, "brief_mail", version=version)
        if tx.get_mail(mail_id) is None:
            raise NotFoundError(f"邮件 #{mail_id} 不存在")
        if not tx.decide_mail(mail_id, from_state=MailState.TRIAGE.value, state=MailState.DISMISSED.value,
                              brief_id=None, by=by, at=now):
            raise WorkflowError(f"邮件 #{mail_id} 已处理，不在待分拣列表中")


def set_sender(store: SqlStore, jurisdiction: Jurisdiction, address: str, submitter: str, by: str,
               now: dt.datetime) -> Submitter:
    """Register ``address`` as ``submitter``'s (QuotaError for an unknown submitter or no address)."""
    who = named_submitter(jurisdiction, submitter)
    if who is None:
        raise QuotaError(f"「{submitter}」不在信息简报报送单位之列")
    if "@" not in address or len(address.strip()) > 200:
        raise QuotaError(f"不是邮件地址：{address!r}")
    with store.begin() as tx:
        acting_user(tx, by, "brief_mail")
        tx.set_brief_sender(address, who.code, by, now)
    return who
