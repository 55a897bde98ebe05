"""The console's read side of the incidents aggregate: filtered lists and counts, and when each
incident first reached a state (for on-time rates). Kept apart from :mod:`storage.incidents` so
the write path stays small."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Text, func, select, type_coerce

from core.models import Grade, Incident, State
from storage.copies import shared_with
from storage.rows import row_to_incident, stored_times
from storage.schema import audit_log, incidents

# What a listed incident shows (dashboard_api.schemas.IncidentPublic) and what its overdue steps are
# computed from: not the grouping keywords, the reach or the override, whose JSON is most of what
# decoding a full row costs. The JSON and time columns come as the driver gives them (type_coerce to
# Text: no SQLAlchemy result processor, whose per-value work was most of the list's time) and are
# decoded by _json_column and _time, which take both what SQLite gives (text) and what psycopg gives
# (decoded JSON, aware datetimes).
_RAW = {"grade_reasons", "deadlines", "milestones", "opened_at", "updated_at", "public_reply_at"}
_LISTED = tuple(type_coerce(c, Text).label(c.name) if c.name in _RAW else c for c in (
    incidents.c.id, incidents.c.title, incidents.c.unit, incidents.c.unit_code, incidents.c.department,
    incidents.c.topic, incidents.c.place, incidents.c.grade, incidents.c.grade_reasons, incidents.c.state,
    incidents.c.opened_at, incidents.c.updated_at, incidents.c.deadlines, incidents.c.post_count,
    incidents.c.milestones, incidents.c.merged_into, incidents.c.public_reply_at))
_GRADES = {g.value: g for g in Grade}
_STATES = {s.value: s for s in State}


def _json_column(values: list[Any]) -> list[Any]:
    """A JSON column of a page of rows, decoded: the texts SQLite gives in one ``json.loads`` of
    them joined as one array (per value, the decoder's own set-up cost more than the decoding);
    what psycopg gives is decoded already."""
    texts = [v for v in values if isinstance(v, str)]
    if not texts:
        return values
    decoded = json.loads("[" + ",".join(texts) + "]")
    if len(decoded) != len(texts):  # a stored text that is not one JSON value: decode it alone to fail as such
        decoded = [json.loads(t) for t in texts]
    found = iter(decoded)
    return [next(found) if isinstance(v, str) else v for v in values]


def _time(value: Any) -> dt.datetime:
    """A stored time as aware UTC (as storage.schema.UtcDateTime gives it). SQLite keeps naive UTC
    text: parsed with the zone appended, since ``datetime.replace`` costs several times the parse."""
    if isinstance(value, str):
        try:
            return _from_iso(value + "+00:00")
        except ValueError:  # text that carries its own offset
            value = _from_iso(value)
    at: dt.datetime = value
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


_from_iso = dt.datetime.fromisoformat


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

    def listed_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]:
        """Like :meth:`find_incidents`, with only what a list shows and what its overdue steps are
        computed from (:data:`_LISTED`); the rest of each Incident is left empty (no reach,
        keywords, override, returns, parent or last post). For the API's list, read far more
        often than anything else: reading the full rows cost it more than all the rest."""
        query = _where(select(*_LISTED), f).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        if limit is not None:
            query = query.limit(limit).offset(offset)
        rows = self.conn.execute(query).all()
        reasons, deadlines, milestones = (_json_column([r[k] for r in rows]) for k in (8, 12, 14))
        return [Incident(id=id_, title=title, unit=unit, unit_code=unit_code, department=department, topic=topic,
                         place=place, grade=_GRADES[grade], grade_reasons=list(reasons[k] or []),
                         state=_STATES[state], opened_at=_time(opened_at), updated_at=_time(updated_at),
                         deadlines=stored_times(deadlines[k]), post_count=post_count,
                         milestones=stored_times(milestones[k]), merged_into=merged_into,
                         public_reply_at=None if public_reply_at is None else _time(public_reply_at))
                for k, (id_, title, unit, unit_code, department, topic, place, grade, _, state, opened_at,
                        updated_at, _, post_count, _, merged_into, public_reply_at) in enumerate(rows)]

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
