"""Read from the store the records one briefing needs (the only module of briefing/ that queries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, and_, or_, select

from briefing.period import Period
from briefing.records import Assignment, IncidentRecord, PostRecord, Records, SourceRun
from core.jurisdiction import Jurisdiction
from core.models import AuditEntry, PostRole, State
from storage.rows import row_to_incident
from storage.schema import analyses, assignments, audit_log, incident_posts, incidents, raw_posts, source_runs
from storage.sql import SqlStore, Tx


def _post(row: Any) -> PostRecord:
    r = row  # SQLAlchemy Row with raw_posts columns and the analysis columns (labelled a_*)
    return PostRecord(
        id=r.id, source=r.source, title=r.title or "", text=r.text, fetched_at=r.fetched_at, url=r.url,
        author=r.author, published_at=r.published_at, snapshot=r.snapshot, engagement=dict(r.engagement or {}),
        relevant=r.a_relevant, unit=r.a_unit, topic=r.a_topic, polarity=r.a_polarity, sentiment=r.a_sentiment,
        place=r.a_place, incident_id=r.incident_id, counted_at=r.counted_at)


def _post_query() -> Select[Any]:
    return (select(raw_posts, analyses.c.relevant.label("a_relevant"), analyses.c.unit.label("a_unit"),
                   analyses.c.topic.label("a_topic"), analyses.c.polarity.label("a_polarity"),
                   analyses.c.sentiment.label("a_sentiment"), analyses.c.place.label("a_place"),
                   incident_posts.c.incident_id)
            .outerjoin(analyses, analyses.c.post_id == raw_posts.c.id)
            .outerjoin(incident_posts, incident_posts.c.post_id == raw_posts.c.id))


def load_posts(tx: Tx, start: dt.datetime, end: dt.datetime) -> list[PostRecord]:
    """Posts counted in [start, end): imported backfills by publish time, live posts by collection
    time (``raw_posts.counted_at``; a row from before that column counts when collected)."""
    counted = raw_posts.c.counted_at
    query = _post_query().where(or_(and_(counted >= start, counted < end),
                                    and_(counted.is_(None), raw_posts.c.fetched_at >= start,
                                         raw_posts.c.fetched_at < end)))
    return [_post(r) for r in tx.conn.execute(query.order_by(raw_posts.c.id))]


def load_incidents(tx: Tx, since: dt.datetime, until: dt.datetime) -> list[IncidentRecord]:
    """Incidents opened before ``until`` that were opened, touched or still open since ``since``."""
    query = select(incidents).where(incidents.c.opened_at < until, or_(
        incidents.c.opened_at >= since, incidents.c.updated_at >= since, incidents.c.state != State.CLOSED.value))
    found = {r.id: IncidentRecord(row_to_incident(r)) for r in tx.conn.execute(query.order_by(incidents.c.id))}
    return _with_history(tx, found)


def load_incident(tx: Tx, incident_id: int) -> IncidentRecord | None:
    """One incident with its audit log, assignments and posts (a special report's subject)."""
    row = tx.conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    if row is None:
        return None
    return _with_history(tx, {row.id: IncidentRecord(row_to_incident(row))})[0]


def _with_history(tx: Tx, found: dict[int, IncidentRecord]) -> list[IncidentRecord]:
    """The records filled with their audit entries, assignments, post ids and post roles."""
    if not found:
        return []
    ids = list(found)
    for r in tx.conn.execute(select(audit_log).where(audit_log.c.incident_id.in_(ids)).order_by(audit_log.c.id)):
        found[r.incident_id].audit.append(AuditEntry(r.incident_id, r.at, r.actor, r.action, r.from_state,
                                                     r.to_state, dict(r.detail or {}), r.id))
    for r in tx.conn.execute(select(assignments).where(assignments.c.incident_id.in_(ids))
                             .order_by(assignments.c.assigned_at, assignments.c.id)):
        found[r.incident_id].assignments.append(Assignment(r.unit, r.unit_code, r.assigned_at, r.assigned_by))
    for r in tx.conn.execute(select(incident_posts.c.incident_id, incident_posts.c.post_id, incident_posts.c.role)
                             .where(incident_posts.c.incident_id.in_(ids)).order_by(incident_posts.c.post_id)):
        found[r.incident_id].post_ids.append(r.post_id)
        if r.role != PostRole.REPORT.value:
            found[r.incident_id].roles[r.post_id] = PostRole(r.role)
    return list(found.values())


def load_posts_by_id(tx: Tx, ids: list[int]) -> list[PostRecord]:
    """Posts by id (the evidence of incidents, wherever their collection time falls)."""
    out: list[PostRecord] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += [_post(r) for r in tx.conn.execute(_post_query().where(raw_posts.c.id.in_(chunk)))]
    return out


def load_runs(tx: Tx, start: dt.datetime, end: dt.datetime) -> list[SourceRun]:
    """Runs that finished in [start, end), plus each source's last successful run before ``start``
    (a source that last worked an hour before the week began was not blind at its start)."""
    def run(r: Any) -> SourceRun:  # a row of source_runs
        return SourceRun(r.source, r.started_at, r.finished_at, bool(r.ok), r.items or 0, r.new_items or 0, r.error)

    inside = tx.conn.execute(select(source_runs).where(
        or_(and_(source_runs.c.finished_at >= start, source_runs.c.finished_at < end),
            and_(source_runs.c.finished_at.is_(None), source_runs.c.started_at >= start,
                 source_runs.c.started_at < end)))
        .order_by(source_runs.c.started_at, source_runs.c.id))
    runs = [run(r) for r in inside]
    before: dict[str, SourceRun] = {}
    for r in tx.conn.execute(select(source_runs).where(source_runs.c.ok.is_(True), source_runs.c.finished_at < start)
                             .order_by(source_runs.c.finished_at)):
        before[r.source] = run(r)
    return sorted([*before.values(), *runs], key=lambda x: (x.finished_at or x.started_at))


def load_records(store: SqlStore, jurisdiction: Jurisdiction, period: Period,
                 expected_hours: Mapping[str, float] | None = None) -> Records:
    """Everything the briefing of ``period`` needs, in one read view (one consistent snapshot)."""
    previous = period.previous()
    with store.read() as tx:
        posts = load_posts(tx, previous.start, period.end)
        found = load_incidents(tx, previous.start, period.end)
        have = {p.id for p in posts}
        missing = sorted({pid for rec in found for pid in rec.post_ids} - have)
        posts += load_posts_by_id(tx, missing)
        runs = load_runs(tx, period.start, period.end)
    return Records(posts=posts, incidents=found, runs=runs, units=[u.name for u in jurisdiction.units.values()],
                   jurisdiction=jurisdiction.name, expected_hours=dict(expected_hours or {}))
