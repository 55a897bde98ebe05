"""The event journal behind the live feed: new incident, grade raised, overdue, state changes.

Ids only grow, so a client that lost its connection asks for everything after the last id it
saw (SSE ``Last-Event-ID``) and misses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Index, Integer, String, Table, and_, func, select

from storage.schema import UtcDateTime, metadata

if TYPE_CHECKING:
    from storage.sql import Tx

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("incident_id", Integer, index=True),
    Column("unit_code", String(20)),
    Column("payload", JSON, nullable=False, default=dict),
    Index("ix_events_unit_id", "unit_code", "id"),
)


@dataclass(slots=True)
class Event:
    """One journal entry."""

    at: dt.datetime
    kind: str
    incident_id: int | None
    unit_code: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


def add_event(tx: Tx, kind: str, incident_id: int | None, unit_code: str | None, payload: dict[str, Any],
              at: dt.datetime) -> int:
    """Append an event inside the caller's transaction (so it exists iff the change does)."""
    return int(tx.conn.execute(events.insert().values(at=at, kind=kind, incident_id=incident_id,
                                                      unit_code=unit_code, payload=payload))
               .inserted_primary_key[0])


def events_after(tx: Tx, after_id: int, *, unit_code: str | None = None, limit: int = 200) -> list[Event]:
    """Events with id > ``after_id``, oldest first; only one unit's when ``unit_code`` is given."""
    query = select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
    if unit_code is not None:
        query = query.where(events.c.unit_code == unit_code)
    return [Event(r.at, r.kind, r.incident_id, r.unit_code, dict(r.payload or {}), r.id)
            for r in tx.conn.execute(query)]


def latest_events(tx: Tx, count: int, *, unit_code: str | None = None) -> list[Event]:
    """The newest ``count`` events (one unit's when ``unit_code`` is given), oldest first."""
    query = select(events).order_by(events.c.id.desc()).limit(count)
    if unit_code is not None:
        query = query.where(events.c.unit_code == unit_code)
    rows = list(tx.conn.execute(query))[::-1]
    return [Event(r.at, r.kind, r.incident_id, r.unit_code, dict(r.payload or {}), r.id) for r in rows]


def last_event_id(tx: Tx) -> int:
    """The highest event id (0 when empty)."""
    return int(tx.conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def has_event(tx: Tx, kind: str, incident_id: int, key: str, value: Any) -> bool:
    """True when an event of ``kind`` for the incident with ``payload[key] == value`` exists."""
    rows = tx.conn.execute(select(events.c.payload).where(and_(events.c.kind == kind,
                                                               events.c.incident_id == incident_id)))
    return any((r.payload or {}).get(key) == value for r in rows)
