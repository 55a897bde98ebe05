"""Row mappers: a database row to the object the rest of the code base reads, in one place so a
column added to a table is mapped once (every aggregate module and the briefing loader use these)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CursorResult

from core.models import Analysis, AuditEntry, Evidence, Grade, Incident, Polarity, RawPost, State


@dataclass(slots=True)
class Event:
    """One live-feed line (``storage.events``): a console line, or an in-app notification when
    ``recipient`` is set."""

    at: dt.datetime
    kind: str
    incident_id: int | None
    unit_code: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    recipient: str | None = None


@dataclass(slots=True)
class User:
    """A stored console user (``storage.users``)."""

    name: str
    role: str
    unit_code: str | None
    password_hash: str
    active: bool
    created_at: dt.datetime
    id: int | None = None
    token_version: int = 0  # tokens carrying another version are refused (storage.users)
    department_code: str | None = None  # set for (and only for) department users


def stored_times(stored: dict[str, str] | None) -> dict[str, dt.datetime]:
    """Deadlines or milestones as stored (ISO strings in a JSON column) as datetimes."""
    return {k: dt.datetime.fromisoformat(v) for k, v in (stored or {}).items()}


def row_to_post(row: Any) -> RawPost:
    """A post from a row of ``raw_posts`` (or a join carrying its columns unprefixed)."""
    return RawPost(source=row.source, text=row.text, title=row.title, url=row.url, author=row.author,
                   published_at=row.published_at, fetched_at=row.fetched_at,
                   engagement=dict(row.engagement or {}), id=row.id, reply_to=getattr(row, "reply_to", None))


def row_to_incident(row: Any) -> Incident:
    """An incident from a full row of ``incidents``."""
    return Incident(
        id=row.id, title=row.title, unit=row.unit, unit_code=row.unit_code, topic=row.topic,
        grade=Grade(row.grade), state=State(row.state), opened_at=row.opened_at, updated_at=row.updated_at,
        department=row.department, place=row.place, deadlines=stored_times(row.deadlines),
        grade_reasons=list(row.grade_reasons or []), post_count=row.post_count,
        reach=dict(row.reach or {}), keywords=list(row.keywords or []), milestones=stored_times(row.milestones),
        returns=row.returns or 0, complex=bool(row.complex), grade_override=row.grade_override,
        merged_into=row.merged_into, parent_id=row.parent_id, last_post_at=row.last_post_at,
        reopened=row.reopened or 0, public_reply_at=row.public_reply_at,
    )


def row_to_summary(row: Any) -> Incident:
    """An incident from a grouping-candidate summary row (``storage.incidents``' match columns).

    Only what the grouping rule reads is real: the last activity stands for both the opening and
    the last post, milestones are a closed incident's only, the keywords arrive as their stored
    JSON text."""
    return Incident(
        title="", unit=None, unit_code=row.unit_code, topic=row.topic, grade=Grade.BLUE, state=State(row.state),
        opened_at=row.last_activity, updated_at=row.updated_at, place=row.place, id=row.id,
        keywords=list(json.loads(row.keywords_text or "null") or []), merged_into=row.merged_into,
        last_post_at=row.last_activity, milestones=stored_times(row.milestones), public_reply_at=row.public_reply_at,
    )


def row_to_analysis(row: Any, prefix: str = "") -> Analysis:
    """An analysis from a row of ``analyses`` (``prefix``: its columns' label prefix in a join)."""
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return Analysis(
        relevant=get("relevant"), unit=get("unit"), unit_code=get("unit_code"), confidence=get("confidence"),
        topics=list(get("topics")), polarity=Polarity(get("polarity")), sentiment=get("sentiment"),
        evidence=[Evidence(**e) for e in get("evidence")], signals=list(get("signals")), place=get("place"),
    )


def row_to_audit(row: Any) -> AuditEntry:
    """An audit-log entry from a row of ``audit_log``."""
    return AuditEntry(incident_id=row.incident_id, at=row.at, actor=row.actor, action=row.action,
                      from_state=row.from_state, to_state=row.to_state, detail=dict(row.detail), id=row.id)


def row_to_event(row: Any) -> Event:
    """A live-feed line from a row of ``events``."""
    return Event(row.at, row.kind, row.incident_id, row.unit_code, dict(row.payload or {}), row.id, row.recipient)


def row_to_user(row: Any) -> User:
    """A user from a row of ``users``."""
    return User(name=row.name, role=row.role, unit_code=row.unit_code, password_hash=row.password_hash,
                active=row.active, created_at=row.created_at, id=row.id,
                token_version=row.token_version, department_code=row.department_code)


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT of one row gave it."""
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])
