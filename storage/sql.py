"""The SQL store: posts, analyses, incidents, assignments, audit log, source health.

One class for SQLite (the embedded default, WAL mode) and PostgreSQL, through SQLAlchemy Core.
Writes go through ``store.begin()``, which yields a :class:`Tx`; everything done in one ``with``
block commits or rolls back together, so a crash mid-batch loses or doubles nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.errors import StoreError
from core.models import (
    Analysis,
    AuditEntry,
    Evidence,
    Grade,
    Incident,
    Polarity,
    PostRole,
    RawPost,
    State,
    content_fingerprint,
)
from core.timeutil import utcnow
from storage.events import add_event
from storage.schema import (
    analyses,
    assignments,
    audit_log,
    incident_posts,
    incidents,
    post_replies,
    raw_posts,
    source_runs,
    source_state,
)
from storage.users import users as _users  # noqa: F401  (registers the users table in the metadata)
from storage.workflow_tx import WorkflowTx


@dataclass(slots=True)
class AddResult:
    """What storing a batch of posts did."""

    new: int = 0
    updated: int = 0  # seen before; engagement figures refreshed
    duplicate: int = 0  # seen before, nothing to change
    new_ids: list[int] | None = None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to SQLAlchemy's "begin" event below, so a
    # writer can take the lock up front (BEGIN IMMEDIATE) instead of failing mid-transaction.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def _content_hash(post: RawPost) -> str:
    # The same text by the same author at two addresses is one post; by two authors it is two
    # voices, and reach counts both.
    return hashlib.sha1(f"{post.author or ''}\x00{content_fingerprint(post.title, post.text)}".encode()).hexdigest()


class SqlStore:
    """Persistence for everything but full-text scale-out (see storage.elasticsearch)."""

    def __init__(self, url: str, snapshot_dir: Path | str | None = None) -> None:
        self.url = url
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else None
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)

    def create_schema(self) -> None:
        """Bring the database to the newest schema through the migrations (idempotent)."""
        from storage.migrations import upgrade_to_head

        upgrade_to_head(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Tx]:
        """A write transaction: commits at the end of the block, rolls back on error."""
        try:
            with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                yield Tx(conn, self.snapshot_dir)
        except SQLAlchemyError as exc:
            raise StoreError(str(exc.__cause__ or exc)) from exc

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only view (a transaction that is never committed)."""
        with self.engine.connect() as conn:
            yield Tx(conn, self.snapshot_dir)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def open_store(url: str, snapshot_dir: Path | str | None = None) -> SqlStore:
    """Open (and create if needed) the store at ``url``."""
    store = SqlStore(url, snapshot_dir)
    store.create_schema()
    return store


_INSERT_AUDIT = audit_log.insert()
_INSERT_POST = raw_posts.insert()
_POST_BY_FINGERPRINT = select(raw_posts.c.id, raw_posts.c.engagement).where(
    raw_posts.c.fingerprint == bindparam("fp")).limit(1)
_POST_BY_CONTENT = select(raw_posts.c.id, raw_posts.c.engagement).where(
    raw_posts.c.content_hash == bindparam("ch")).limit(1)
# The per-post detection path (alerts.service.process_pending) runs these once or more per post:
# built once with bound parameters, since building a statement with ``.values()`` per call cost
# more than SQLite's own work (profile in bench/alerts.py's README section).
_CLAIM_POST = (update(raw_posts).where(raw_posts.c.id == bindparam("b_id"), raw_posts.c.processed_at.is_(None))
               .values(processed_at=bindparam("processed_at"), process_error=bindparam("process_error")))
_DELETE_ANALYSIS = analyses.delete().where(analyses.c.post_id == bindparam("b_id"))
_INSERT_ANALYSIS = analyses.insert()
_INSERT_INCIDENT = incidents.insert()
_INCIDENT_BY_ID = select(incidents).where(incidents.c.id == bindparam("b_id"))
_INCIDENT_GRADE = select(incidents.c.grade).where(incidents.c.id == bindparam("b_id"))
# No .values(): the SET columns are the keys of the parameters given (all of _incident_values).
_UPDATE_INCIDENT = update(incidents).where(incidents.c.id == bindparam("b_id"))
_INSERT_INCIDENT_POST = incident_posts.insert()
# One statement instead of a count then an update: the count is still taken from incident_posts.
_RECOUNT_POSTS = (update(incidents).where(incidents.c.id == bindparam("b_id"))
                  .values(post_count=select(func.count()).select_from(incident_posts)
                          .where(incident_posts.c.incident_id == incidents.c.id).scalar_subquery()))
_DEACTIVATE_ASSIGNMENTS = (update(assignments).where(assignments.c.incident_id == bindparam("b_id"))
                           .values(active=False))
_INSERT_ASSIGNMENT = assignments.insert()


def _row_to_post(row: Any) -> RawPost:
    return RawPost(source=row.source, text=row.text, title=row.title, url=row.url, author=row.author,
                   published_at=row.published_at, fetched_at=row.fetched_at,
                   engagement=dict(row.engagement or {}), id=row.id)


def _row_to_incident(row: Any) -> Incident:
    return Incident(
        id=row.id, title=row.title, unit=row.unit, unit_code=row.unit_code, topic=row.topic,
        grade=Grade(row.grade), state=State(row.state), opened_at=row.opened_at, updated_at=row.updated_at,
        department=row.department, place=row.place,
        deadlines={k: dt.datetime.fromisoformat(v) for k, v in (row.deadlines or {}).items()},
        grade_reasons=list(row.grade_reasons or []), post_count=row.post_count,
        reach=dict(row.reach or {}), keywords=list(row.keywords or []),
        milestones={k: dt.datetime.fromisoformat(v) for k, v in (row.milestones or {}).items()},
        returns=row.returns or 0, complex=bool(row.complex), grade_override=row.grade_override,
        merged_into=row.merged_into, parent_id=row.parent_id, last_post_at=row.last_post_at,
        reopened=row.reopened or 0, public_reply_at=row.public_reply_at,
    )


def _row_to_analysis(row: Any, prefix: str = "") -> Analysis:
    """An analysis from a row of ``analyses`` (``prefix``: its columns' label prefix in a join)."""
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return Analysis(
        relevant=get("relevant"), unit=get("unit"), unit_code=get("unit_code"), confidence=get("confidence"),
        topics=list(get("topics")), polarity=Polarity(get("polarity")), sentiment=get("sentiment"),
        evidence=[Evidence(**e) for e in get("evidence")], signals=list(get("signals")), place=get("place"),
    )


def _event_payload(incident: Incident) -> dict[str, Any]:
    return {"title": incident.title, "grade": incident.grade.value, "state": incident.state.value,
            "unit": incident.unit, "topic": incident.topic}


class Tx(WorkflowTx):
    """Operations inside one transaction (or one read view)."""

    def __init__(self, conn: Connection, snapshot_dir: Path | None) -> None:
        self.conn = conn
        self.snapshot_dir = snapshot_dir

    # -- posts ---------------------------------------------------------------------------------

    def _snapshot(self, post: RawPost, now: dt.datetime) -> str | None:
        """Keep the original at first sight, so a post deleted later remains evidence."""
        if self.snapshot_dir is None:
            return None
        digest = hashlib.sha1(post.fingerprint.encode()).hexdigest()
        path = self.snapshot_dir / now.strftime("%Y-%m") / f"{digest}.txt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            body = post.raw if post.raw is not None else f"{post.title}\n\n{post.text}"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(f"{post.url or ''}\n{now.isoformat()}\n\n{body}", encoding="utf-8")
            tmp.replace(path)
        return str(path)

    def add_posts(self, posts: Iterable[RawPost], now: dt.datetime | None = None) -> AddResult:
        """Store posts; one seen before (same URL, or same author and text) is not stored again,
        but its engagement figures are refreshed."""
        now = now or utcnow()
        result = AddResult(new_ids=[])
        for post in posts:
            fp, chash = post.fingerprint, _content_hash(post)
            # Two indexed lookups with bound parameters: an OR of both columns, built per post,
            # cost more than the insert itself (bench/store.py).
            row = (self.conn.execute(_POST_BY_FINGERPRINT, {"fp": fp}).first()
                   or self.conn.execute(_POST_BY_CONTENT, {"ch": chash}).first())
            if row is not None:
                merged = dict(row.engagement or {})
                for key, value in post.engagement.items():
                    merged[key] = max(int(value), int(merged.get(key, 0)))
                if merged != (row.engagement or {}):
                    self.conn.execute(update(raw_posts).where(raw_posts.c.id == row.id).values(engagement=merged))
                    result.updated += 1
                else:
                    result.duplicate += 1
                continue
            try:
                with self.conn.begin_nested():
                    new_id = self.conn.execute(_INSERT_POST, {
                        "fingerprint": fp, "content_hash": chash, "source": post.source, "url": post.url,
                        "title": post.title or "", "text": post.text, "author": post.author,
                        "published_at": post.published_at, "fetched_at": post.fetched_at or now,
                        "engagement": dict(post.engagement), "snapshot": self._snapshot(post, now),
                        "processed_at": None, "process_error": None,
                    }).inserted_primary_key[0]
            except IntegrityError:
                result.duplicate += 1  # the same post twice in one batch
                continue
            result.new += 1
            result.new_ids.append(int(new_id))
        return result

    def known_urls(self, source: str) -> set[str]:
        """Normalised URLs already stored for ``source`` (incremental crawling skips them)."""
        rows = self.conn.execute(select(raw_posts.c.fingerprint).where(raw_posts.c.source == source,
                                                                      raw_posts.c.fingerprint.like("url:%")))
        return {r.fingerprint[4:] for r in rows}

    def set_reply(self, post: RawPost, text: str, replied_at: dt.datetime | None, replied_by: str | None,
                  now: dt.datetime | None = None) -> bool:
        """Record (or update) the official reply to a stored post; False if the post is unknown."""
        row = self.conn.execute(select(raw_posts.c.id).where((raw_posts.c.fingerprint == post.fingerprint)
                                                             | (raw_posts.c.content_hash == _content_hash(post)))
                                .limit(1)).first()
        if row is None:
            return False
        self.conn.execute(post_replies.delete().where(post_replies.c.post_id == row.id))
        self.conn.execute(post_replies.insert().values(post_id=row.id, text=text, replied_at=replied_at,
                                                       replied_by=replied_by, seen_at=now or utcnow()))
        return True

    def get_reply(self, post_id: int) -> dict[str, Any] | None:
        """The official reply to a post (text, replied_at, replied_by), or None."""
        row = self.conn.execute(select(post_replies).where(post_replies.c.post_id == post_id)).first()
        return dict(row._mapping) if row else None

    def unprocessed_posts(self, limit: int = 500) -> list[RawPost]:
        """Posts stored but not yet analysed, oldest first."""
        rows = self.conn.execute(
            select(raw_posts).where(raw_posts.c.processed_at.is_(None)).order_by(raw_posts.c.id).limit(limit)
        )
        return [_row_to_post(r) for r in rows]

    def get_post(self, post_id: int) -> RawPost | None:
        """One stored post, or None."""
        row = self.conn.execute(select(raw_posts).where(raw_posts.c.id == post_id)).first()
        return _row_to_post(row) if row else None

    def count_posts(self) -> int:
        """How many posts are stored."""
        return int(self.conn.execute(select(func.count()).select_from(raw_posts)).scalar_one())

    def claim_post(self, post_id: int, now: dt.datetime, error: str | None = None) -> bool:
        """Mark a post processed (with the error, if analysis failed); False if another worker
        already did, in which case the caller must roll back what it did for this post."""
        done = self.conn.execute(_CLAIM_POST, {"b_id": post_id, "processed_at": now, "process_error": error})
        return done.rowcount == 1

    def save_analysis(self, post_id: int, analysis: Analysis, now: dt.datetime) -> None:
        """Store (or replace) a post's analysis."""
        self.conn.execute(_DELETE_ANALYSIS, {"b_id": post_id})
        self.conn.execute(_INSERT_ANALYSIS, dict(
            post_id=post_id, relevant=analysis.relevant, unit=analysis.unit, unit_code=analysis.unit_code,
            confidence=analysis.confidence, topics=analysis.topics, topic=analysis.topic,
            polarity=analysis.polarity.value, sentiment=analysis.sentiment,
            evidence=[e.to_dict() for e in analysis.evidence], signals=analysis.signals,
            place=analysis.place, analysed_at=now,
        ))

    def get_analysis(self, post_id: int) -> Analysis | None:
        """A post's stored analysis, or None."""
        row = self.conn.execute(select(analyses).where(analyses.c.post_id == post_id)).first()
        return _row_to_analysis(row) if row else None

    # -- incidents -----------------------------------------------------------------------------

    def insert_incident(self, incident: Incident) -> int:
        """Store a new incident; returns its id."""
        new_id = self.conn.execute(_INSERT_INCIDENT, self._incident_values(incident)).inserted_primary_key[0]
        incident.id = int(new_id)
        # The live feed's journal entry is written in the same transaction as the incident.
        add_event(self, "incident_new", incident.id, incident.unit_code, _event_payload(incident),
                  incident.opened_at)
        return incident.id

    @staticmethod
    def _incident_values(incident: Incident) -> dict[str, Any]:
        return dict(
            title=incident.title, unit=incident.unit, unit_code=incident.unit_code,
            department=incident.department, topic=incident.topic, place=incident.place,
            grade=incident.grade.value, grade_reasons=incident.grade_reasons, state=incident.state.value,
            opened_at=incident.opened_at, updated_at=incident.updated_at,
            deadlines={k: v.isoformat() for k, v in incident.deadlines.items()}, post_count=incident.post_count,
            reach=incident.reach, keywords=incident.keywords,
            milestones={k: v.isoformat() for k, v in incident.milestones.items()}, returns=incident.returns,
            complex=incident.complex, grade_override=incident.grade_override, merged_into=incident.merged_into,
            parent_id=incident.parent_id, last_post_at=incident.last_post_at, reopened=incident.reopened,
            public_reply_at=incident.public_reply_at,
        )

    def update_incident(self, incident: Incident) -> None:
        """Write back every field of an incident."""
        if incident.id is None:
            raise StoreError("update_incident needs an incident with an id")
        old = self.conn.execute(_INCIDENT_GRADE, {"b_id": incident.id}).scalar()
        if old is not None and Grade(old).rank < incident.grade.rank:
            add_event(self, "grade_raised", incident.id, incident.unit_code,
                      {**_event_payload(incident), "from_grade": old}, incident.updated_at)
        self.conn.execute(_UPDATE_INCIDENT, {"b_id": incident.id, **self._incident_values(incident)})

    def attach_post(self, incident_id: int, post_id: int, now: dt.datetime,
                    role: PostRole = PostRole.REPORT) -> bool:
        """Link a post to an incident as a report or a follow-up; False if the post already
        belongs to one."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(_INSERT_INCIDENT_POST, {"incident_id": incident_id, "post_id": post_id,
                                                          "added_at": now, "role": role.value})
        except IntegrityError:
            return False
        self.conn.execute(_RECOUNT_POSTS, {"b_id": incident_id})
        return True

    def get_incident(self, incident_id: int) -> Incident | None:
        """One incident, or None."""
        row = self.conn.execute(_INCIDENT_BY_ID, {"b_id": incident_id}).first()
        return _row_to_incident(row) if row else None

    def list_incidents(self, *, unit_code: str | None = None, states: Sequence[str] | None = None,
                       limit: int = 100, offset: int = 0) -> list[Incident]:
        """Incidents, newest first, optionally filtered."""
        query = select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        if unit_code:
            query = query.where(incidents.c.unit_code == unit_code)
        if states:
            query = query.where(incidents.c.state.in_(list(states)))
        return [_row_to_incident(r) for r in self.conn.execute(query.limit(limit).offset(offset))]

    def incident_post_rows(self, incident_id: int) -> list[tuple[RawPost, Analysis | None, PostRole]]:
        """The posts of an incident with their analyses and roles, oldest first (one query)."""
        query = (select(raw_posts, incident_posts.c.role, *(c.label(f"a_{c.name}") for c in analyses.c))
                 .join(incident_posts, incident_posts.c.post_id == raw_posts.c.id)
                 .outerjoin(analyses, analyses.c.post_id == raw_posts.c.id)
                 .where(incident_posts.c.incident_id == incident_id).order_by(raw_posts.c.id))
        out = []
        for row in self.conn.execute(query):
            analysis = _row_to_analysis(row, "a_") if row.a_post_id is not None else None
            out.append((_row_to_post(row), analysis, PostRole(row.role)))
        return out

    def add_assignment(self, incident_id: int, unit_code: str | None, unit: str | None,
                       department: str | None, by: str, now: dt.datetime) -> None:
        """Record a (re)assignment; earlier ones become inactive."""
        self.conn.execute(_DEACTIVATE_ASSIGNMENTS, {"b_id": incident_id})
        self.conn.execute(_INSERT_ASSIGNMENT, {"incident_id": incident_id, "unit_code": unit_code, "unit": unit,
                                               "department": department, "assigned_at": now, "assigned_by": by,
                                               "active": True})

    def add_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        # Parameters, not .values(): the statement compiles once and is reused (hot in escalation).
        self.conn.execute(_INSERT_AUDIT, {"incident_id": entry.incident_id, "at": entry.at, "actor": entry.actor,
                                          "action": entry.action, "from_state": entry.from_state,
                                          "to_state": entry.to_state, "detail": entry.detail})

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        """Append many entries to the audit log, in order, in one batch (the escalation pass
        writes one per rung climbed)."""
        if entries:
            self.conn.execute(_INSERT_AUDIT, [{"incident_id": e.incident_id, "at": e.at, "actor": e.actor,
                                               "action": e.action, "from_state": e.from_state,
                                               "to_state": e.to_state, "detail": e.detail} for e in entries])

    def audit_for(self, incident_id: int) -> list[AuditEntry]:
        """An incident's audit log, oldest first."""
        rows = self.conn.execute(select(audit_log).where(audit_log.c.incident_id == incident_id)
                                 .order_by(audit_log.c.id))
        return [AuditEntry(incident_id=r.incident_id, at=r.at, actor=r.actor, action=r.action,
                           from_state=r.from_state, to_state=r.to_state, detail=dict(r.detail), id=r.id)
                for r in rows]

    # -- sources -------------------------------------------------------------------------------

    def record_source_run(self, source: str, started_at: dt.datetime, finished_at: dt.datetime, ok: bool,
                          items: int, new_items: int, error: str | None = None) -> None:
        """Record one collection run of a source (its health history)."""
        self.conn.execute(source_runs.insert().values(source=source, started_at=started_at,
                                                      finished_at=finished_at, ok=ok, items=items,
                                                      new_items=new_items, error=error))

    def source_runs(self, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent collection runs, newest first."""
        query = select(source_runs).order_by(source_runs.c.id.desc()).limit(limit)
        if source:
            query = query.where(source_runs.c.source == source)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def get_source_state(self, source: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) remembered for conditional GET."""
        row = self.conn.execute(select(source_state).where(source_state.c.source == source)).first()
        return (row.etag, row.last_modified) if row else (None, None)

    def set_source_state(self, source: str, etag: str | None, last_modified: str | None) -> None:
        """Remember validators for the next conditional GET."""
        self.conn.execute(source_state.delete().where(source_state.c.source == source))
        self.conn.execute(source_state.insert().values(source=source, etag=etag, last_modified=last_modified))
