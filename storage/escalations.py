"""The escalations aggregate: per incident and step, the deadline being watched, the rung of the
escalation ladder reached, when it last notified and who acknowledged it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Row, bindparam, select, update

from storage.schema import escalations

# Statements built once with bound parameters: the escalation pass runs them tens of thousands of
# times, and building a fresh SQLAlchemy statement per call cost ~1 ms each (measured in
# bench/alerts.py), far more than SQLite's own work.
_ESC_FIELDS = ("deadline", "rung", "last_notified_at", "notify_count", "acknowledged_rung", "acknowledged_at",
               "acknowledged_by")
_UPDATE_ESCALATION = (update(escalations)
                      .where(escalations.c.incident_id == bindparam("b_incident_id"),
                             escalations.c.step == bindparam("b_step"))
                      .values({**{f: bindparam(f) for f in _ESC_FIELDS}, "active": True, "ended_at": None}))
_INSERT_ESCALATION = escalations.insert()
_ESCALATION_KEYS = select(escalations.c.incident_id, escalations.c.step).where(
    escalations.c.incident_id.in_(bindparam("b_ids", expanding=True)))


class EscalationFields(Protocol):
    """What is stored of one step's escalation: ``alerts.escalation.EscalationState`` has these
    fields (described here, not imported: storage sits below alerts)."""

    @property
    def deadline(self) -> dt.datetime: ...
    @property
    def rung(self) -> int: ...
    @property
    def last_notified_at(self) -> dt.datetime | None: ...
    @property
    def notify_count(self) -> int: ...
    @property
    def acknowledged_rung(self) -> int: ...
    @property
    def acknowledged_at(self) -> dt.datetime | None: ...
    @property
    def acknowledged_by(self) -> str | None: ...


class EscalationsTx:
    """Escalation operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def active_escalations(self, incident_ids: Iterable[int] | None = None) -> dict[tuple[int, str], Row[Any]]:
        """Active escalation rows keyed by (incident id, step)."""
        query = select(escalations).where(escalations.c.active.is_(True))
        if incident_ids is not None:
            query = query.where(escalations.c.incident_id.in_(list(incident_ids)))
        return {(r.incident_id, r.step): r for r in self.conn.execute(query)}

    def save_escalation(self, incident_id: int, step: str, state: EscalationFields) -> None:
        """Insert or update the escalation state of one step (re-activating an ended one)."""
        values = {f: getattr(state, f) for f in _ESC_FIELDS}
        done = self.conn.execute(_UPDATE_ESCALATION, {"b_incident_id": incident_id, "b_step": step, **values})
        if done.rowcount == 0:
            self.conn.execute(_INSERT_ESCALATION, {"incident_id": incident_id, "step": step, "active": True,
                                                   "ended_at": None, **values})

    def save_escalations(self, states: Sequence[tuple[int, str, EscalationFields]]) -> None:
        """:meth:`save_escalation` for many (incident id, step, state) at once, with the same result:
        one read of which rows exist, then one batch of updates and one of inserts (per-step
        statements were a third of the escalation pass, bench/alerts.py)."""
        if not states:
            return
        ids = sorted({incident_id for incident_id, _, _ in states})
        existing = {(r.incident_id, r.step) for r in self.conn.execute(_ESCALATION_KEYS, {"b_ids": ids})}
        updates, inserts = [], []
        for incident_id, step, state in states:
            values = {f: getattr(state, f) for f in _ESC_FIELDS}
            if (incident_id, step) in existing:
                updates.append({"b_incident_id": incident_id, "b_step": step, **values})
            else:
                existing.add((incident_id, step))  # a second state for the same step updates it
                inserts.append({"incident_id": incident_id, "step": step, "active": True, "ended_at": None, **values})
        if inserts:
            self.conn.execute(_INSERT_ESCALATION, inserts)
        if updates:
            self.conn.execute(_UPDATE_ESCALATION, updates)

    def end_escalations(self, incident_id: int, at: dt.datetime, steps: Sequence[str] | None = None) -> int:
        """Stop escalating some (default all) steps of an incident: done, extended or closed."""
        query = update(escalations).where(escalations.c.incident_id == incident_id, escalations.c.active.is_(True))
        if steps is not None:
            query = query.where(escalations.c.step.in_(list(steps)))
        return int(self.conn.execute(query.values(active=False, ended_at=at)).rowcount)
