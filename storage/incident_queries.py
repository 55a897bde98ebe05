"""The console's read side of the incidents aggregate: filtered lists and counts, and when each
incident first reached a state (for on-time rates). Kept apart from :mod:`storage.incidents` so
the write path stays small."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, select

from core.models import Incident
from storage.copies import shared_with
from storage.rows import row_to_incident
from storage.schema import audit_log, incidents


@dataclass(slots=True)
class IncidentFilters:
    """Restrictions on an incident list; None or empty = any."""

    unit_code: str | None = None
    states: Sequence[str] = ()
    grades: Sequence[str] = ()
    topics: Sequence[str] = ()
    since: dt.datetime | None = None  # opened at or after
    until: dt.datetime | None = None  # opened before
    copied_to: str | None = None  # only those copied to this department and not withdrawn (会办)


def _where(query: Select[Any], f: IncidentFilters) -> Select[Any]:
    if f.unit_code is not None:
        query = query.where(incidents.c.unit_code == f.unit_code)
    if f.states:
        query = query.where(incidents.c.state.in_(list(f.states)))
    if f.grades:
        query = query.where(incidents.c.grade.in_(list(f.grades)))
    if f.topics:
        query = query.where(incidents.c.topic.in_(list(f.topics)))
    if f.since is not None:
        query = query.where(incidents.c.opened_at >= f.since)
    if f.until is not None:
        query = query.where(incidents.c.opened_at < f.until)
    if f.copied_to is not None:
        query = query.where(incidents.c.id.in_(shared_with(f.copied_to)))
    return query


class IncidentQueriesTx:
    """The console's incident queries on :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def find_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]:
        """Incidents matching ``f``, newest first (all of them when ``limit`` is None)."""
        query = _where(select(incidents), f).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [row_to_incident(r) for r in self.conn.execute(query)]

    def count_incidents(self, f: IncidentFilters) -> int:
        """How many incidents match ``f``."""
        return int(self.conn.execute(_where(select(func.count()).select_from(incidents), f)).scalar_one())

    def first_reached(self, states: Sequence[str], f: IncidentFilters) -> dict[int, dt.datetime]:
        """Per incident matching ``f``, when it first entered one of ``states`` (from the audit log)."""
        ids = _where(select(incidents.c.id), f).scalar_subquery()
        query = (select(audit_log.c.incident_id, func.min(audit_log.c.at).label("at"))
                 .where(audit_log.c.to_state.in_(list(states)), audit_log.c.incident_id.in_(ids))
                 .group_by(audit_log.c.incident_id))
        out: dict[int, dt.datetime] = {}
        for row in self.conn.execute(query):
            at = row.at
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            out[row.incident_id] = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
        return out
