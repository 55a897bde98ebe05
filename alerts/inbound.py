"""上级交办: items handed down by the city bureau or 网信办 become incidents with their deadline.

An item carries the upper body's reference, its text or link, its deadline and usually the unit
it is for. It enters as an incident (assigned to that unit, or in the triage queue when the unit
is unknown: never dropped) whose ``handback`` step is due at their deadline, so the one overdue
rule and the escalation job watch it like any step; a deadline already past is overdue at once
and flagged. The same reference twice is one incident. When the unit resolves the incident, its
处置情况反馈 is written from the workflow's own record (who signed, what they answered, what they
did) and sent back (:mod:`alerts.reporting`); sending it does the ``handback`` step.

Entry points: :func:`receive` (one item, one transaction: nothing half-imported), used by the CLI's
``ecowatch inbound FILE`` through :func:`read_items`, the city platform's API endpoint and the console.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alerts.acting import acting_user
from alerts.config import AlertsConfig
from alerts.deadlines import compute_deadlines
from alerts.notify import notify
from alerts.reporting import check_address
from alerts.workflow import ACTION_LABELS
from core.actors import SYSTEM
from core.errors import EcowatchError, StoreError, WorkflowError
from core.models import TOPICS, AuditEntry, Grade, Incident, State, Step
from core.sharing import UPPER_LABELS, SendChannel, SendState, Upper
from core.timeutil import parse_time, to_local, utcnow
from storage.inbound import InboundItem
from storage.sql import SqlStore, Tx

ORIGINS = (Upper.CITY_BUREAU, Upper.CAC)  # who hands items down
# Names people write for each body, besides its code.
_ORIGIN_NAMES = {**{u.value: u for u in ORIGINS}, **{UPPER_LABELS[u.value]: u for u in ORIGINS},
                 "市生态环境局": Upper.CITY_BUREAU, "网信办": Upper.CAC, "市委网信办": Upper.CAC}
DEFAULT_GRADE = Grade.YELLOW  # an item from above is at least 较大: someone up there saw it


class InboundError(EcowatchError):
    """An item that cannot be taken in as given (the message says which field and why)."""


@dataclass(slots=True, frozen=True)
class InboundRequest:
    """An item as handed down, checked."""

    origin: Upper
    reference: str
    title: str
    text: str
    link: str | None
    deadline: dt.datetime
    unit: str | None  # as they wrote it
    topic: str
    grade: Grade
    reply_channel: SendChannel | None
    reply_address: str | None


@dataclass(slots=True, frozen=True)
class Received:
    """What became of one item."""

    incident_id: int
    inbound_id: int
    duplicate: bool  # the reference was known: nothing new was written
    triage: bool  # the unit was unknown: the item waits in the duty desk's triage queue
    late: bool  # their deadline had passed on arrival: overdue at once


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise InboundError(f"{key}: longer than {limit} characters")
    return text


def parse_request(data: Mapping[str, Any]) -> InboundRequest:
    """Check one item (a JSON object or a CSV row); InboundError naming the bad field."""
    if not isinstance(data, Mapping):
        raise InboundError("an item must be an object with origin, reference, text or link, deadline")
    origin = _ORIGIN_NAMES.get(_text(data, "origin", 50))
    if origin is None:
        raise InboundError(f"origin: one of {', '.join(u.value for u in ORIGINS)} (or their Chinese names)")
    reference = _text(data, "reference", 200)
    if not reference:
        raise InboundError("reference: their reference number is required")
    text, link = _text(data, "text", 20000), _text(data, "link", 2000) or None
    if not text and not link:
        raise InboundError("text or link: at least one is required")
    if link and not link.lower().startswith(("http://", "https://")):
        raise InboundError("link: an http(s) address")
    raw_deadline = _text(data, "deadline", 50)
    deadline = parse_time(raw_deadline) if raw_deadline else None
    if deadline is None or not 1970 <= deadline.year <= 9998:
        raise InboundError(f"deadline: a time such as 2026-12-05T18:00:00+08:00 (years 1970-9998), "
                           f"not {raw_deadline!r}")
    topic = _text(data, "topic", 20) or "other"
    if topic not in TOPICS:
        raise InboundError(f"topic: one of {', '.join(TOPICS)}")
    try:
        grade = Grade(_text(data, "grade", 10) or DEFAULT_GRADE.value)
    except ValueError as exc:
        raise InboundError(f"grade: one of {', '.join(Grade)}") from exc
    channel_text = _text(data, "reply_channel", 10)
    try:
        channel = SendChannel(channel_text) if channel_text else None
    except ValueError as exc:
        raise InboundError("reply_channel: email or webhook") from exc
    address = _text(data, "reply_address", 2000) or None
    if channel is not None and channel is not SendChannel.MANUAL:
        try:
            address = check_address(channel, address)
        except WorkflowError as exc:
            raise InboundError(f"reply_address: {exc}") from exc
    title = _text(data, "title", 500) or (text or link or "")[:40]
    unit = _text(data, "unit", 100) or None
    return InboundRequest(origin, reference, title, text or link or "", link, deadline, unit,
                          topic, grade, None if channel is SendChannel.MANUAL else channel, address)


def receive(store: SqlStore, config: AlertsConfig, request: InboundRequest, by: str,
            now: dt.datetime | None = None, *, version: int | None = None) -> Received:
    """Take one item in, in one transaction: the incident, its assignment or triage, the item, the
    audit entries and the notifications, or nothing. A known reference returns its incident, also
    when the same item comes twice at once (PostgreSQL lets both look before either writes: the
    unique reference refuses the second whole, and it is answered as the duplicate it is).
    ActorRefused when ``by`` may not enter items (any more: ``alerts.acting``, checked here)."""
    now = now or utcnow()
    try:
        with store.begin() as tx:
            acting_user(tx, by, "inbound", version=version)
            known = tx.find_inbound(request.origin.value, request.reference)
            if known is not None:
                return _known(tx, known)
            return _new(tx, config, request, by, now)
    except StoreError:
        with store.read() as tx:
            known = tx.find_inbound(request.origin.value, request.reference)
            if known is None:
                raise
            return _known(tx, known)


def _known(tx: Tx, known: InboundItem) -> Received:
    """The answer for an item entered before: its incident; nothing new is written."""
    incident = tx.get_incident(known.incident_id)
    return Received(known.incident_id, known.id, True, incident is None or incident.unit_code is None,
                    known.late_on_arrival)


def _new(tx: Tx, config: AlertsConfig, request: InboundRequest, by: str, now: dt.datetime) -> Received:
    """A new item: its incident (assigned, or in the triage queue), the item, audit and notifications."""
    jurisdiction = config.jurisdiction
    unit = (jurisdiction.unit(request.unit) or jurisdiction.unit_by_name(request.unit)) if request.unit else None
    late = request.deadline <= now
    deadlines = compute_deadlines(jurisdiction.deadlines, request.grade, now)
    deadlines[Step.HANDBACK.value] = request.deadline
    origin = UPPER_LABELS[request.origin.value]
    reasons = [f"上级交办：{origin}（{request.reference}）"]
    incident = Incident(title=request.title, unit=unit.name if unit else None,
                        unit_code=unit.code if unit else None,
                        topic=request.topic, grade=request.grade,
                        state=State.ASSIGNED if unit else State.NEW, opened_at=now, updated_at=now,
                        deadlines=deadlines, grade_reasons=reasons)
    if unit is not None:
        routed = jurisdiction.route(request.topic, f"{request.title}\n{request.text}")
        incident.department = routed.name if routed else None
    incident_id = tx.insert_incident(incident)
    incident.id = incident_id
    detail = {"origin": request.origin.value, "reference": request.reference, "deadline":
              request.deadline.isoformat(), "unit_given": request.unit, "late_on_arrival": late}
    tx.add_audit(AuditEntry(incident_id, now, by, "inbound", None, State.NEW.value, detail))
    item = tx.add_inbound(origin=request.origin.value, reference=request.reference, title=request.title,
                          text=request.text, link=request.link, deadline=request.deadline, unit_given=request.unit,
                          incident_id=incident_id, at=now, by=by, late=late,
                          reply_channel=request.reply_channel.value if request.reply_channel else None,
                          reply_address=request.reply_address)
    flag = f"（期限 {to_local(request.deadline):%m-%d %H:%M} 已过，到达即超期）" if late else ""
    if unit is not None:
        tx.add_assignment(incident_id, unit.code, unit.name, incident.department, by, now)
        tx.add_audit(AuditEntry(incident_id, now, by, "assign", State.NEW.value, State.ASSIGNED.value,
                                {"unit": unit.name, "unit_code": unit.code, "department": incident.department}))
        notify(tx, config, incident, "opened", f"{origin}交办（{request.reference}）交{unit.name}办理{flag}", now)
    else:
        notify(tx, config, incident, "triage", f"{origin}交办（{request.reference}），属地"
                                               f"「{request.unit or '未写明'}」无法识别，待分拣{flag}", now)
    tx.announce_change(incident, "inbound", State.NEW.value, by, now)
    return Received(incident_id, item.id, False, unit is None, late)


def read_items(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    """The items of a JSON array, JSON Lines or CSV file: (line or position, item, error)."""
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InboundError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if path.suffix.lower() == ".csv":
        for number, row in enumerate(csv.DictReader(io.StringIO(raw)), 2):  # line 1 is the header
            yield number, row, None
        return
    stripped = raw.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield exc.lineno, None, f"not valid JSON: {exc.msg}"
            return
        for number, item in enumerate(items, 1):
            yield number, item, None
        return
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON: {exc.msg}"


def feedback_text(item: InboundItem, incident: Incident, audit: list[AuditEntry]) -> str:
    """处置情况反馈 from the workflow's record (pure): who had it, when it was signed, what the unit
    answered and did, in the unit's own words. Nothing is made up: a step not taken is not told."""
    lines = [f"关于{UPPER_LABELS.get(item.origin, item.origin)}交办事项（编号：{item.reference}）的处置情况反馈",
             f"事项：{item.title}", f"责任单位：{incident.unit or '未定'}"]
    words = {"sign": "签收", "respond": "回应", "resolve": "办结"}
    for entry in audit:
        if entry.action in ("assign", "reassign"):
            lines.append(f"{to_local(entry.at):%Y-%m-%d %H:%M} {ACTION_LABELS[entry.action]}至"
                         f"{entry.detail.get('unit') or incident.unit}")
        elif entry.action in words:
            said = entry.detail.get("response") or entry.detail.get("feedback") or ""
            lines.append(f"{to_local(entry.at):%Y-%m-%d %H:%M} {words[entry.action]}" + (f"：{said}" if said else ""))
    if incident.public_reply_at is not None:
        lines.append(f"{to_local(incident.public_reply_at):%Y-%m-%d %H:%M} 责任单位已公开回应。")
    return "\n".join(lines)


def prepare_feedback(tx: Tx, now: dt.datetime) -> int:
    """For each item whose incident the unit has resolved (or the bureau closed), write its
    feedback once and queue it to their platform when they named one; returns how many."""
    count = 0
    for item in tx.list_inbound(awaiting_feedback=True):
        incident = tx.get_incident(item.incident_id)
        if incident is None or incident.state not in (State.RESOLVED, State.CLOSED) or incident.merged_into:
            continue
        text = feedback_text(item, incident, tx.audit_for(item.incident_id))
        if not tx.set_inbound_feedback(item.id, text, now):
            continue
        tx.add_audit(AuditEntry(item.incident_id, now, SYSTEM, "feedback_ready", incident.state.value,
                                incident.state.value, {"inbound_id": item.id, "reference": item.reference}))
        if item.reply_channel:
            tx.add_sending(inbound_id=item.id, recipient=item.origin, channel=item.reply_channel,
                           address=item.reply_address, status=SendState.PENDING.value, at=now, by=SYSTEM)
        count += 1
    return count
