"""报送: sending special reports up (city bureau, 网信办, district leaders) and recording it.

Each sending names its recipient, its channel (email with the DOCX attached, the recipient
platform's webhook, or sent by hand and recorded), when and by whom. The deadlines are the pack's
``first_report`` / ``followup_report`` steps (``[deadlines.<grade>]``), kept with the incident's
other deadlines, so the one overdue rule (:func:`alerts.escalation.overdue_steps`) and the
escalation job treat them like every step: overdue, 催办 → 督办 → 领导, the console's line.
A step is done by a *sent* report only: 首报 sent → ``first_report`` done; each 首报/续报 sent
restarts the ``followup_report`` clock (every 24 h until closed); 终报 sent → no more 续报 due.

Sending is a job (:func:`deliver_sendings`), like the outbox: a refusal or a time-out is retried
with backoff, then kept as ``failed`` with its error; the report stays "not sent" meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from alerts.acting import acting_user
from alerts.config import AlertsConfig
from alerts.deadlines import restart_step
from alerts.notifiers import DeliveryError, Message, Notifier
from alerts.notify_rules import backoff
from core.actors import SYSTEM
from core.errors import NotConfigured, NotFoundError, WorkflowError
from core.models import AuditEntry, Incident, Step
from core.settings import Settings
from core.sharing import UPPER_LABELS, ReportKind, SendChannel, SendState
from core.timeutil import to_local, utcnow
from storage.reports import Sending
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"



class FeedbackNotReady(WorkflowError):
    """An item handed down has no feedback to send yet: its incident is not resolved (the API
    answers 409, as for an action the state does not allow)."""

def after_report_sent(incident: Incident, kind: ReportKind, at: dt.datetime,
                      policy: Mapping[str, Mapping[str, float]]) -> list[str]:
    """What a report version sent at ``at`` does to the incident's reporting steps (pure; changes
    ``incident``); returns the steps whose clock ended or moved (their escalation starts over)."""
    changed = []
    if kind is ReportKind.FIRST and Step.FIRST_REPORT.value not in incident.milestones:
        incident.milestones[Step.FIRST_REPORT.value] = at
        changed.append(Step.FIRST_REPORT.value)
    if kind is ReportKind.FINAL:
        incident.milestones[Step.FOLLOWUP_REPORT.value] = at
        changed.append(Step.FOLLOWUP_REPORT.value)
    elif Step.FOLLOWUP_REPORT.value not in incident.milestones:
        moved = restart_step(incident.deadlines, policy, incident.grade, Step.FOLLOWUP_REPORT.value, at,
                             incident.complex)
        if moved.get(Step.FOLLOWUP_REPORT.value) != incident.deadlines.get(Step.FOLLOWUP_REPORT.value):
            incident.deadlines = moved
            changed.append(Step.FOLLOWUP_REPORT.value)
    return changed


def check_address(channel: SendChannel, address: str | None) -> str | None:
    """The address a channel needs (an email address, an http(s) URL; none by hand), or WorkflowError."""
    text = (address or "").strip()
    if channel is SendChannel.MANUAL:
        return text or None
    if channel is SendChannel.EMAIL and ("@" not in text or any(c.isspace() for c in text)):
        raise WorkflowError(f"邮件报送需要有效的邮箱地址，而不是 {text!r}")
    if channel is SendChannel.WEBHOOK and urlsplit(text).scheme.lower() not in ("http", "https"):
        raise WorkflowError(f"接口推送需要 http(s) 地址，而不是 {text!r}")
    return text


def _record_sent(tx: Tx, config: AlertsConfig, sending: Sending, by: str, at: dt.datetime) -> None:
    """The incident side of a sending that has just become ``sent``: the step done or its clock
    moved, the audit entry and the console's line, in the transaction that marked it sent."""
    if sending.inbound_id is not None:
        _record_feedback_sent(tx, sending, by, at)
        return
    if sending.report_id is None:
        return
    report = tx.special_report(sending.report_id)
    incident = tx.get_incident(report.incident_id) if report else None
    if report is None or incident is None or incident.id is None:
        return
    already = [s for s in tx.sendings(report_ids=[report.id], status=SendState.SENT.value) if s.id != sending.id]
    changed = [] if already else after_report_sent(incident, ReportKind(report.kind), at,
                                                   config.jurisdiction.deadlines)
    if changed:
        tx.end_escalations(incident.id, at, changed)
        incident.updated_at = at
        tx.update_incident(incident)
    tx.add_audit(AuditEntry(incident.id, at, by, "report_sent", incident.state.value, incident.state.value,
                            {"report_id": report.id, "kind": report.kind, "seq": report.seq,
                             "recipient": sending.recipient, "channel": sending.channel}))
    tx.announce_change(incident, "report_sent", incident.state.value, by, at)


def _record_feedback_sent(tx: Tx, sending: Sending, by: str, at: dt.datetime) -> None:
    """An item's feedback went back: its ``handback`` step is done (the first sending counts)."""
    item = tx.get_inbound(sending.inbound_id) if sending.inbound_id is not None else None
    incident = tx.get_incident(item.incident_id) if item else None
    if item is None or incident is None or incident.id is None:
        return
    if Step.HANDBACK.value not in incident.milestones:
        incident.milestones[Step.HANDBACK.value] = at
        incident.updated_at = at
        tx.end_escalations(incident.id, at, [Step.HANDBACK.value])
        tx.update_incident(incident)
    tx.add_audit(AuditEntry(incident.id, at, by, "feedback_sent", incident.state.value, incident.state.value,
                            {"inbound_id": item.id, "reference": item.reference, "recipient": sending.recipient,
                             "channel": sending.channel}))
    tx.announce_change(incident, "feedback_sent", incident.state.value, by, at)


def request_sending(store: SqlStore, config: AlertsConfig, report_id: int | None, recipient: str | None, channel: str,
                    address: str | None, by: str, note: str | None = None,
                    now: dt.datetime | None = None, inbound_id: int | None = None, *,
                    version: int | None = None) -> Sending:
    """Record a sending of a kept report version (or, with ``inbound_id``, of an item's feedback):
    queued for email or webhook (the job sends it), or sent by hand now. NotFoundError for an
    unknown version or item, FeedbackNotReady for an item's feedback not written yet, WorkflowError
    for a bad value, ActorRefused when ``by`` may not send: each checked in the writing transaction
    (``alerts.acting``). An item's feedback goes back to whoever handed it down unless
    ``recipient`` says otherwise."""
    now = now or utcnow()
    try:
        how = SendChannel(channel)
    except ValueError as exc:
        raise WorkflowError(f"未知报送方式 {channel!r}（{', '.join(SendChannel)}）") from exc
    where = check_address(how, address)
    with store.begin() as tx:
        acting_user(tx, by, "send", version=version)
        if inbound_id is not None:
            item = tx.get_inbound(inbound_id)
            if item is None:
                raise NotFoundError(f"交办事项 #{inbound_id} 不存在")
            if item.feedback is None:
                raise FeedbackNotReady(f"交办事项 {item.reference} 尚未办结，反馈尚未生成")
            recipient = recipient or item.origin
        elif report_id is None or tx.special_report(report_id) is None:
            raise NotFoundError(f"专报 #{report_id} 不存在")
        who = (recipient or "").strip()
        if not who:
            raise WorkflowError("报送对象不能为空")
        manual = how is SendChannel.MANUAL
        sending = tx.add_sending(report_id=report_id, inbound_id=inbound_id, recipient=who, channel=how.value,
                                 address=where,
                                 status=SendState.SENT.value if manual else SendState.PENDING.value, at=now, by=by,
                                 note=(note or "").strip() or None)
        if manual:
            _record_sent(tx, config, sending, by, now)
        return sending


def mark_sent(store: SqlStore, config: AlertsConfig, sending_id: int, by: str,
              now: dt.datetime | None = None, *, version: int | None = None) -> None:
    """An officer records a pending or failed sending as delivered another way (fax, by hand);
    WorkflowError when it was sent already, NotFoundError when unknown, ActorRefused when ``by``
    may not send (any more)."""
    now = now or utcnow()
    with store.begin() as tx:
        acting_user(tx, by, "send", version=version)
        found = tx.get_sending(sending_id)
        if found is None:
            raise NotFoundError(f"报送记录 #{sending_id} 不存在")
        if not tx.sending_done(sending_id, now, by):
            raise WorkflowError(f"报送记录 #{sending_id} 已报送")
        _record_sent(tx, config, found, by, now)


def retry(store: SqlStore, sending_id: int, by: str, now: dt.datetime, *, version: int | None = None) -> Sending:
    """重新发送: a failed sending goes back in the queue. WorkflowError unless it had failed,
    NotFoundError when unknown, ActorRefused when ``by`` may not send (any more)."""
    with store.begin() as tx:
        acting_user(tx, by, "send", version=version)
        if tx.get_sending(sending_id) is None:
            raise NotFoundError(f"报送记录 #{sending_id} 不存在")
        if not tx.retry_sending(sending_id, now):
            raise WorkflowError(f"报送记录 #{sending_id} 未失败，无需重发")
        found = tx.get_sending(sending_id)
    assert found is not None
    return found


@dataclass(slots=True)
class SendingReport:
    """What one sending pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _message(tx: Tx, sending: Sending) -> Message | None:
    """The message of a sending: the report's subject, a line, and its DOCX attached; or an
    item's feedback, line by line."""
    if sending.inbound_id is not None:
        item = tx.get_inbound(sending.inbound_id)
        if item is None or item.feedback is None:
            return None
        lines = item.feedback.splitlines()
        return Message(id=sending.id, channel=sending.channel, recipient=sending.recipient,
                       address=sending.address or "", subject=lines[0], lines=lines, incident_id=item.incident_id,
                       events=["feedback"])
    if sending.report_id is None:
        return None
    report = tx.special_report(sending.report_id)
    document = tx.special_report_document(sending.report_id, "docx")
    if report is None or document is None:
        return None
    to = UPPER_LABELS.get(sending.recipient, sending.recipient)
    lines = [f"{to}：", f"{report.title}（事件 #{report.incident_id}，第 {report.seq} 期），"
                      f"生成于 {to_local(report.created_at):%Y-%m-%d %H:%M}，详见附件。"]
    return Message(id=sending.id, channel=sending.channel, recipient=sending.recipient, address=sending.address or "",
                   subject=report.title, lines=lines, incident_id=report.incident_id, events=["report"],
                   attachments=[(f"专报-{report.incident_id}-{report.seq}.docx", document, DOCX_MIME)])


def deliver_sendings(store: SqlStore, notifiers: Mapping[str, Notifier], config: AlertsConfig,
                     now: dt.datetime | None = None, limit: int = 50) -> SendingReport:
    """Send the due sendings once; a failure is retried with the outbox's backoff, then kept as
    failed (its error visible, the report still not sent)."""
    now = now or utcnow()
    out = SendingReport()
    with store.read() as tx:
        due = [(s, _message(tx, s)) for s in tx.due_sendings(now, limit)]
    for sending, message in due:
        notifier = notifiers.get("email" if sending.channel == SendChannel.EMAIL.value else "webhook")
        error = None
        if message is None:
            error = "nothing to send (the report version is gone)"
        elif notifier is None:
            error = f"channel {sending.channel} is not configured"
        else:
            try:
                notifier.send(message)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # a bug in one channel must not stop the other sendings
                log.exception("sending %s via %s crashed", sending.id, sending.channel)
                error = f"{type(exc).__name__}: {exc}"
        with store.begin() as tx:
            if error is None:
                if tx.sending_done(sending.id, now, SYSTEM, tried=True):
                    _record_sent(tx, config, sending, SYSTEM, now)
                out.sent += 1
                continue
            attempts = sending.attempts + 1
            final = message is None or notifier is None or attempts >= config.max_attempts
            tx.sending_failed(sending.id, error, None if final else now + backoff(attempts, config.backoff_seconds))
            log.warning("report sending %s to %s failed (attempt %s%s): %s", sending.id, sending.recipient, attempts,
                        ", giving up" if final else "", error)
            out.failed += final
            out.retrying += not final
    return out


def report_notifiers(settings: Settings) -> dict[str, Notifier]:
    """The channels sendings use: email when SMTP is configured, and the platform webhook (always
    on: each sending names its own address)."""
    from alerts.notifiers.email import EmailNotifier
    from alerts.notifiers.platform import PlatformNotifier

    out: dict[str, Notifier] = {"webhook": PlatformNotifier(settings.notify_timeout_seconds)}
    try:
        out["email"] = EmailNotifier.from_settings(settings)
    except NotConfigured:
        log.info("report sending by email off: ECOWATCH_SMTP_HOST not set")
    return out
