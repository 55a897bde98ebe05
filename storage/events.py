"""The one live-feed table: console lines (new incident, grade raised, overdue, state changes)
and the in-app notifications addressed to one recipient.

Every line is written inside the transaction of the change it reports (an incident opened, an
action applied, a notification delivered), so a crash can never leave a change without its line
or a line without its change. Ids only grow, so a client that lost its connection asks for
everything after the last id it saw (SSE ``Last-Event-ID``) and misses nothing.

``recipient`` is NULL for console lines (everyone allowed to see the unit sees them) and names a
contact for an in-app notification (kind ``notification``; what the ``feed`` channel delivers).
The table is declared in :mod:`storage.schema` with every other; this module holds its operations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.copies import shared_with
from storage.rows import Event, inserted_id, row_to_event
from storage.schema import events, incidents

if TYPE_CHECKING:
    from core.models import Incident

NOTIFICATION = "notification"


def _addressed(query: Select[Any], unit_code: str | None, recipient: str | None,
               department_code: str | None) -> Select[Any]:
    # Console lines by default; one recipient's notifications when asked. A unit user stays in its
    # unit; a department user (会办) sees only the lines of incidents copied to it and not withdrawn.
    query = query.where(events.c.recipient.is_(None) if recipient is None else events.c.recipient == recipient)
    if unit_code is not None:
        query = query.where(events.c.unit_code == unit_code)
    if department_code is not None:
        query = query.where(events.c.incident_id.in_(shared_with(department_code)))
    return query


# Built once: ``.values()`` per call re-coerced every value and cost more than SQLite's insert
# (bench/alerts.py writes one per opened incident and per notification).
_INSERT_EVENT = events.insert()
_UNIT_OF_INCIDENT = select(incidents.c.unit_code).where(incidents.c.id == bindparam("b_id"))


def overdue_key(incident_id: int, step: str, deadline: dt.datetime) -> str:
    """The ``once_key`` of the ``overdue`` line of one step's deadline: a deadline that moves (a
    reassignment restarts sign-off, a grade raised tightens the clock) is announced again."""
    return f"overdue:{incident_id}:{step}:{deadline.astimezone(dt.UTC).isoformat()}"


# ``INSERT … ON CONFLICT (once_key) DO NOTHING RETURNING id``, built once per dialect (both spell it
# the same; SQLAlchemy builds it from the dialect's own insert).
_INSERT_ONCE = {name: dialect.insert(events).on_conflict_do_nothing(index_elements=["once_key"]).returning(events.c.id)
                for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


@dataclass(slots=True, frozen=True)
class OnceLine:
    """A console line that must exist at most once: ``once_key`` names it."""

    once_key: str
    kind: str
    incident_id: int | None
    unit_code: str | None
    payload: dict[str, Any]
    at: dt.datetime


class EventsTx:
    """Live-feed operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_event(self, kind: str, incident_id: int | None, unit_code: str | None, payload: dict[str, Any],
                  at: dt.datetime, recipient: str | None = None) -> int:
        """Append an event inside the caller's transaction (so it exists iff the change does)."""
        return inserted_id(self.conn.execute(_INSERT_EVENT, {"at": at, "kind": kind, "incident_id": incident_id,
                                                             "unit_code": unit_code, "payload": payload,
                                                             "recipient": recipient}))

    def add_events_once(self, lines: Sequence[OnceLine]) -> int:
        """Append the lines not written before, in one statement; returns how many were new. The
        unique key decides, not a read before the write, so concurrent writers in separate
        transactions cannot both write a line (``ON CONFLICT DO NOTHING`` on both dialects)."""
        if not lines:
            return 0
        statement = _INSERT_ONCE["postgresql" if self.conn.dialect.name == "postgresql" else "sqlite"]
        rows = [{"once_key": line.once_key, "kind": line.kind, "incident_id": line.incident_id,
                 "unit_code": line.unit_code, "payload": line.payload, "at": line.at, "recipient": None}
                for line in lines]
        return len(self.conn.execute(statement, rows).all())

    def add_event_once(self, line: OnceLine) -> bool:
        """:meth:`add_events_once` for one line; True when this call wrote it."""
        return self.add_events_once([line]) == 1

    def announce_change(self, incident: Incident, action: str, before: str, actor: str, at: dt.datetime,
                        old_unit: str | None = None, department_code: str | None = None) -> None:
        """The console's ``incident_changed`` line for a workflow action, in the action's transaction.

        ``before`` is the state before the action; when the action moved the incident away from
        ``old_unit``, that unit's feed is told too (it left its inbox). ``department_code`` names
        the department a 会办 action (copy, reply, withdrawal) concerns: of the departments the
        incident is copied to, only that one's feed shows the line (dashboard_api.feed).
        """
        payload = {"action": action, "from_state": before, "to_state": incident.state.value, "title": incident.title,
                   "grade": incident.grade.value, "unit": incident.unit, "actor": actor}
        if department_code is not None:
            payload["department_code"] = department_code
        self.add_event("incident_changed", incident.id, incident.unit_code, payload, at)
        if old_unit is not None and old_unit != incident.unit_code:
            self.add_event("incident_changed", incident.id, old_unit, payload, at)

    def add_feed_event(self, *, at: dt.datetime, incident_id: int | None, recipient: str, grade: str | None,
                       subject: str, body: str, events: Sequence[str]) -> int:
        """Store one in-app notification for ``recipient`` (kind ``notification``; what the ``feed``
        channel delivers), scoped to the incident's current unit so a unit user reading it sees
        only its own unit's."""
        unit_code = None
        if incident_id is not None:
            unit_code = self.conn.execute(_UNIT_OF_INCIDENT, {"b_id": incident_id}).scalar()
        payload = {"grade": grade, "subject": subject, "body": body, "events": list(events)}
        return self.add_event(NOTIFICATION, incident_id, unit_code, payload, at, recipient=recipient)

    def notifications_after(self, after_id: int = 0, recipient: str | None = None,
                            limit: int = 100) -> list[dict[str, Any]]:
        """In-app notifications after ``after_id`` (every recipient's, or one's), oldest first, as
        dicts with the fields the in-app feed always had: id, at, incident_id, recipient, grade,
        subject, body, events."""
        query = (select(events).where(events.c.id > after_id, events.c.kind == NOTIFICATION,
                                      events.c.recipient.is_not(None))
                 .order_by(events.c.id).limit(limit))
        if recipient:
            query = query.where(events.c.recipient == recipient)
        out = []
        for r in self.conn.execute(query):
            p = r.payload or {}
            out.append({"id": r.id, "at": r.at, "incident_id": r.incident_id, "recipient": r.recipient,
                        "grade": p.get("grade"), "subject": p.get("subject", ""), "body": p.get("body", ""),
                        "events": list(p.get("events", []))})
        return out

    def events_after(self, after_id: int, *, unit_code: str | None = None, limit: int = 200,
                     recipient: str | None = None, since: dt.datetime | None = None,
                     upto: int | None = None, department_code: str | None = None) -> list[Event]:
        """Events with id > ``after_id``, oldest first: the console lines, or ``recipient``'s
        notifications when given; only one unit's when ``unit_code`` is given, only those of the
        incidents copied to a department when ``department_code`` is given, only those at or
        after ``since`` when given, none above ``upto`` when given (a reader that resumes by id
        passes ``Tx.settled_event_id()``: see dashboard_api.feed)."""
        query = _addressed(select(events).where(events.c.id > after_id), unit_code, recipient, department_code)
        if since is not None:
            query = query.where(events.c.at >= since)
        if upto is not None:
            query = query.where(events.c.id <= upto)
        return [row_to_event(r) for r in self.conn.execute(query.order_by(events.c.id).limit(limit))]

    def latest_events(self, count: int, *, unit_code: str | None = None, recipient: str | None = None,
                      upto: int | None = None, department_code: str | None = None) -> list[Event]:
        """The newest ``count`` events (addressed as in :meth:`events_after`), oldest first."""
        query = _addressed(select(events), unit_code, recipient, department_code)
        query = query.order_by(events.c.id.desc()).limit(count)
        if upto is not None:
            query = query.where(events.c.id <= upto)
        return [row_to_event(r) for r in list(self.conn.execute(query))[::-1]]

    def last_event_id(self) -> int:
        """The highest event id (0 when empty)."""
        return int(self.conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())
