"""The incidents aggregate: incidents, the posts linked to them (reports and follow-ups), their
assignments and audit log, and the grouping candidates the detection pass compares a post with.
Opening an incident or raising its grade writes its live-feed line in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Text, and_, bindparam, case, cast, func, or_, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import NullType

from core.errors import StoreError
from core.models import AuditEntry, Grade, Incident, PostRole, State, url_fingerprint
from storage.candidates import CandidatePool
from storage.events import EventsTx
from storage.rows import inserted_id, row_to_audit, row_to_incident, row_to_summary
from storage.schema import UtcDateTime, assignments, audit_log, incident_posts, incidents, raw_posts
from storage.search import facets_kept_at_once

_INSERT_AUDIT = audit_log.insert()
# The per-post detection path (alerts.detection.process_pending) runs these once or more per post:
# built once with bound parameters, since building a statement with ``.values()`` per call cost
# more than SQLite's own work (profile in bench/alerts.py's README section).
_INSERT_INCIDENT = incidents.insert()
_INCIDENT_BY_ID = select(incidents).where(incidents.c.id == bindparam("b_id"))
# FOR UPDATE on PostgreSQL; SQLite has no row locks (SQLAlchemy leaves the clause out) and holds the
# database's write lock for the whole transaction instead (storage.sql: BEGIN IMMEDIATE).
_INCIDENT_FOR_UPDATE = _INCIDENT_BY_ID.with_for_update()
# The incident detail's reads (every API detail request): built once, not per call, so each
# request skips building the statement and its cache key.
_AUDIT_FOR = select(audit_log).where(audit_log.c.incident_id == bindparam("b_id")).order_by(audit_log.c.id)
_INCIDENT_GRADE = select(incidents.c.grade).where(incidents.c.id == bindparam("b_id"))
# No .values(): the SET columns are the keys of the parameters given (all of _incident_values).
_UPDATE_INCIDENT = update(incidents).where(incidents.c.id == bindparam("b_id"))
_post_time = func.coalesce(raw_posts.c.published_at, raw_posts.c.fetched_at)
# A link carries its post's time (incident_posts.posted_at, for velocity), read from the post in
# the insert itself: every caller links by ids, and the time cannot be given wrong.
_INSERT_INCIDENT_POST = incident_posts.insert().values(
    posted_at=select(_post_time).where(raw_posts.c.id == bindparam("b_post")).scalar_subquery())
# One statement instead of a count then an update: the count is still taken from incident_posts.
_RECOUNT_POSTS = (update(incidents).where(incidents.c.id == bindparam("b_id"))
                  .values(post_count=select(func.count()).select_from(incident_posts)
                          .where(incident_posts.c.incident_id == incidents.c.id).scalar_subquery()))
_DEACTIVATE_ASSIGNMENTS = (update(assignments).where(assignments.c.incident_id == bindparam("b_id"))
                           .values(active=False))
_INSERT_ASSIGNMENT = assignments.insert()

# The detection pass asks for grouping candidates and velocity once per post (bench/alerts.py).
# Column expressions stay on the left of each comparison (lower-case names keep ruff's SIM300 from
# flipping them): an untyped bindparam takes its type, UtcDateTime, from there.
_last_activity = type_coerce(func.coalesce(incidents.c.last_post_at, incidents.c.opened_at), UtcDateTime())
# What the grouping rule (alerts.grouping.find_match) reads of a candidate; the summary loads only
# these: decoding every JSON and time column of every candidate was most of the detection pass
# once a unit had a few hundred incidents in the window (bench/alerts.py --incidents 20000).
# Only a closed incident's milestones are read (when it closed), and only when the incident last
# had a post, so the rest is not decoded: with a week's window and every unit's triage queue, a
# post is compared with tens of candidates and decoding was most of the pass (bench/alerts.py).
_MATCH_COLUMNS = (incidents.c.id, incidents.c.unit_code, incidents.c.topic, incidents.c.place, incidents.c.state,
                  incidents.c.merged_into, _last_activity.label("last_activity"), incidents.c.updated_at,
                  cast(incidents.c.keywords, Text).label("keywords_text"), incidents.c.public_reply_at,
                  type_coerce(case((incidents.c.state == State.CLOSED.value, incidents.c.milestones), else_=None),
                              incidents.c.milestones.type).label("milestones"))


# The window of a detection transaction's candidates (storage.candidates.CandidatePool): not merged
# away, open with a post since b_active_since or closed since b_closed_since. "Not merged" is
# written so that no index serves it (ids are positive): with "merged_into IS NULL" SQLite read
# the window through the merged_into index, i.e. every incident not merged.
_WINDOW_WHERE = (
    func.coalesce(incidents.c.merged_into, 0) == 0,
    or_(and_(incidents.c.state != State.CLOSED.value, _last_activity >= bindparam("b_active_since")),
        and_(incidents.c.state == State.CLOSED.value, incidents.c.updated_at >= bindparam("b_closed_since"))))
# The window's rows as stored (no column decoded: compared with the pool's, only the changed ones
# are read again through _SUMMARIES), and the summaries of given incidents.
_WINDOW = select(incidents.c.id, *(type_coerce(c, NullType()).label(c.name) for c in _MATCH_COLUMNS[1:])).where(
    *_WINDOW_WHERE).order_by(incidents.c.id)
_SUMMARIES = select(*_MATCH_COLUMNS).where(incidents.c.id.in_(bindparam("b_ids", expanding=True)))
_SUMMARIES_AT_ONCE = 1000  # ids per statement: SQLite's parameter limit is far above, and stays so
_POSTS_IN_INCIDENTS = select(incident_posts.c.post_id).where(
    incident_posts.c.post_id.in_(bindparam("b_ids", expanding=True)))
_GRADES = select(incidents.c.id, incidents.c.grade, incidents.c.unit_code).where(
    incidents.c.id.in_(bindparam("b_ids", expanding=True)))
_WHOLE = select(incidents).where(incidents.c.id.in_(bindparam("b_ids", expanding=True))).order_by(incidents.c.id)
# A range of ix_incident_posts_incident_posted: reading the posts themselves (a join per linked
# post) grew with the incident, and was counted again for every report joining it.
_POSTS_BETWEEN = select(func.count()).select_from(incident_posts).where(
    incident_posts.c.incident_id == bindparam("b_id"), incident_posts.c.posted_at >= bindparam("b_since"),
    incident_posts.c.posted_at <= bindparam("b_until"))



def _event_payload(incident: Incident) -> dict[str, Any]:
    return {"title": incident.title, "grade": incident.grade.value, "state": incident.state.value,
            "unit": incident.unit, "topic": incident.topic}


# A reply's thread: the incident holding the post it answers (by that post's URL fingerprint).
_THREAD_INCIDENT = (select(incident_posts.c.incident_id)
                    .join(raw_posts, raw_posts.c.id == incident_posts.c.post_id)
                    .where(raw_posts.c.fingerprint == bindparam("b_fp")))

# The incident of a writer's latest linked post since a time (Tx.author_incident).
_AUTHOR_INCIDENT = (select(incident_posts.c.incident_id)
                    .join(raw_posts, raw_posts.c.id == incident_posts.c.post_id)
                    .where(raw_posts.c.source == bindparam("b_source"), raw_posts.c.author == bindparam("b_author"),
                           incident_posts.c.posted_at >= bindparam("b_since", type_=UtcDateTime()))
                    .order_by(incident_posts.c.posted_at.desc(), incident_posts.c.post_id.desc())
                    .limit(1))


class IncidentsTx(EventsTx):
    """Incident operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's
    connection. Built on :class:`storage.events.EventsTx` for the lines it writes."""

    conn: Connection

    def insert_incident(self, incident: Incident) -> int:
        """Store a new incident; returns its id."""
        new_id = inserted_id(self.conn.execute(_INSERT_INCIDENT, self._incident_values(incident)))
        incident.id = new_id
        # The live feed's journal entry is written in the same transaction as the incident.
        self.add_event("incident_new", incident.id, incident.unit_code, _event_payload(incident),
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
            self.add_event("grade_raised", incident.id, incident.unit_code,
                           {**_event_payload(incident), "from_grade": old}, incident.updated_at)
        self.conn.execute(_UPDATE_INCIDENT, {"b_id": incident.id, **self._incident_values(incident)})

    def attach_post(self, incident_id: int, post_id: int, now: dt.datetime,
                    role: PostRole = PostRole.REPORT) -> bool:
        """Link a post to an incident as a report or a follow-up; False if the post already
        belongs to one."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(_INSERT_INCIDENT_POST, {"incident_id": incident_id, "post_id": post_id,
                                                          "b_post": post_id, "added_at": now, "role": role.value})
        except IntegrityError:
            return False
        self.conn.execute(_RECOUNT_POSTS, {"b_id": incident_id})
        return True

    def thread_incident(self, reply_to: str) -> Incident | None:
        """The incident the post at ``reply_to`` (a URL) ended in, after merges (并单), or None
        when that post is not stored or in no incident: where a reply to it belongs."""
        return self._after_merges(self.conn.execute(_THREAD_INCIDENT, {"b_fp": url_fingerprint(reply_to)}).scalar())

    def _after_merges(self, found: int | None) -> Incident | None:
        """The incident ``found`` ended in, following 并单 (``merged_into``); None for None."""
        seen: set[int] = set()
        while found is not None and found not in seen:
            seen.add(found)
            incident = self.get_incident(found)
            if incident is None or incident.merged_into is None:
                return incident
            found = incident.merged_into
        return None

    def author_incident(self, source: str, author: str, since: dt.datetime) -> Incident | None:
        """The incident (after merges) of the latest post by ``author`` on ``source`` published
        since ``since`` that is in one, or None: the matter a resident's follow-up speaks of
        (``alerts.followups.writes_back``)."""
        return self._after_merges(self.conn.execute(
            _AUTHOR_INCIDENT, {"b_source": source, "b_author": author, "b_since": since}).scalar())

    def get_incident(self, incident_id: int) -> Incident | None:
        """One incident, or None."""
        row = self.conn.execute(_INCIDENT_BY_ID, {"b_id": incident_id}).first()
        return row_to_incident(row) if row else None

    def get_incident_for_update(self, incident_id: int) -> Incident | None:
        """One incident, or None, locked until the transaction ends: what an action reads before
        it writes, so a concurrent action (a reassign to another unit) waits and is not overwritten
        by this one's stale copy, nor this one checked against a unit that has meanwhile changed."""
        row = self.conn.execute(_INCIDENT_FOR_UPDATE, {"b_id": incident_id}).first()
        return row_to_incident(row) if row else None

    def get_incidents_for_update(self, incident_ids: Iterable[int]) -> dict[int, Incident]:
        """Several incidents by id, locked as :meth:`get_incident_for_update` locks one, in one
        statement. PostgreSQL locks the rows as the sorted scan returns them, so in id order: the
        order a merge locks its pair in, so a job locking many and an action locking two cannot
        deadlock. Ids no longer stored are absent."""
        ids = sorted(set(incident_ids))
        if not ids:
            return {}
        query = select(incidents).where(incidents.c.id.in_(ids)).order_by(incidents.c.id).with_for_update()
        return {int(row.id): row_to_incident(row) for row in self.conn.execute(query)}

    def list_incidents(self, *, unit_code: str | None = None, states: Sequence[str] | None = None,
                       limit: int = 100, offset: int = 0) -> list[Incident]:
        """Incidents, newest first, optionally filtered."""
        query = select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        if unit_code:
            query = query.where(incidents.c.unit_code == unit_code)
        if states:
            query = query.where(incidents.c.state.in_(list(states)))
        return [row_to_incident(r) for r in self.conn.execute(query.limit(limit).offset(offset))]

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
        return [row_to_audit(r) for r in self.conn.execute(_AUDIT_FOR, {"b_id": incident_id})]

    def grouping_candidates(self, unit_code: str | None, topic: str, active_since: dt.datetime,
                            closed_since: dt.datetime, *, summary: bool = False,
                            probes: Sequence[str] = (), place: str | None = None) -> list[Incident]:
        """Incidents a post of this unit and topic may join or follow up: open ones with a post
        since ``active_since``, closed ones closed since ``closed_since`` (to reopen or follow
        up); of the unit and unplaced ones, or of every unit for an unplaced post; of the same
        topic or "other" (every topic for a post of topic "other").

        ``summary``: load only what the grouping rule reads (id, unit, topic, place, state,
        merged_into, last activity, updated time, keywords, a closed one's milestones, public
        reply); every other field is a placeholder (empty title, grade blue, no deadlines or
        reach). For choosing among many: read the chosen one again with ``get_incident`` before
        using or writing it. ``probes`` (with ``summary``): only incidents whose keywords contain
        one of these strings (the post's salient character pairs, alerts.grouping.probes): one
        sharing none of them cannot be the post's event. ``place`` (with ``probes``): also the
        incidents at that named place. The conditions are :class:`CandidatePool`'s, over the
        window :meth:`candidate_pool` reads (the detection pass keeps one pool per transaction).
        """
        pool = self.candidate_pool(active_since, closed_since)
        chosen = pool.candidates(unit_code, topic, active_since, closed_since, probes=probes if summary else (),
                             place=place)
        if summary or not chosen:
            return chosen
        return [row_to_incident(r) for r in self.conn.execute(_WHOLE, {"b_ids": [c.id for c in chosen]})]

    def candidate_pool(self, active_since: dt.datetime, closed_since: dt.datetime,
                       pool: CandidatePool | None = None) -> CandidatePool:
        """Every incident a post may join or follow up within the window (open with a post since
        ``active_since``, closed since ``closed_since``, not merged away), as summaries (see
        :meth:`grouping_candidates`), in one statement: the detection pass reads it once per
        transaction and chooses each post's candidates from it in memory. ``pool``: the pool of an
        earlier transaction, refreshed (only what changed is decoded again)."""
        pool = pool if pool is not None else CandidatePool()
        pool.refresh(self.conn.execute(_WINDOW, {"b_active_since": active_since, "b_closed_since": closed_since}),
                     self._summaries)
        return pool

    def _summaries(self, ids: list[int]) -> list[Incident]:
        """The grouping summaries (:meth:`grouping_candidates`) of these incidents."""
        return [row_to_summary(r) for start in range(0, len(ids), _SUMMARIES_AT_ONCE)
                for r in self.conn.execute(_SUMMARIES, {"b_ids": ids[start:start + _SUMMARIES_AT_ONCE]})]

    def posts_in_incidents(self, post_ids: Sequence[int]) -> set[int]:
        """Which of these posts already belong to an incident (one statement)."""
        if not post_ids:
            return set()
        return set(self.conn.execute(_POSTS_IN_INCIDENTS, {"b_ids": list(post_ids)}).scalars())

    def attach_posts(self, links: Sequence[tuple[int, int, dt.datetime, PostRole]]) -> None:
        """Link many posts to incidents, (incident id, post id, when, role) each, and recount the
        incidents' posts: three statements however many. Unlike :meth:`attach_post` a post that
        already belongs to an incident is an error (the whole transaction fails): the caller
        leaves out what :meth:`posts_in_incidents` found."""
        if not links:
            return
        with facets_kept_at_once(self.conn) as touched:  # the links' facet rows kept in a few statements
            touched.extend(p for _, p, _, _ in links)
            self.conn.execute(_INSERT_INCIDENT_POST, [{"incident_id": i, "post_id": p, "b_post": p, "added_at": at,
                                                       "role": r.value} for i, p, at, r in links])
        self.conn.execute(_RECOUNT_POSTS, [{"b_id": i} for i in sorted({i for i, _, _, _ in links})])

    def update_incidents(self, changed: Sequence[Incident]) -> None:
        """:meth:`update_incident` for many incidents: their stored grades and units read in one
        statement, every field written back in one more (each raised grade still writes its feed
        line). The unit is written only where it changed: setting it, even to the same value, fires
        the search facets' trigger, which rewrites the facet row of every post of the incident (an
        incident of 88,000 posts in bench/burst.py)."""
        if not changed:
            return
        ids = [i.id for i in changed]
        if None in ids:
            raise StoreError("update_incidents needs incidents with ids")
        stored = {int(r.id): r for r in self.conn.execute(_GRADES, {"b_ids": ids})}
        same_unit, moved = [], []
        for incident in changed:
            assert incident.id is not None
            old = stored.get(incident.id)
            if old is not None and Grade(old.grade).rank < incident.grade.rank:
                self.add_event("grade_raised", incident.id, incident.unit_code,
                               {**_event_payload(incident), "from_grade": old.grade}, incident.updated_at)
            values = {"b_id": incident.id, **self._incident_values(incident)}
            if old is not None and old.unit_code == incident.unit_code:
                del values["unit_code"]
                same_unit.append(values)
            else:
                moved.append(values)
        for rows in (same_unit, moved):
            if rows:
                self.conn.execute(_UPDATE_INCIDENT, rows)

    def incident_post_count_between(self, incident_id: int, since: dt.datetime, until: dt.datetime) -> int:
        """Posts of an incident published (or fetched, when undated) in [since, until]: velocity."""
        params = {"b_id": incident_id, "b_since": since, "b_until": until}
        return int(self.conn.execute(_POSTS_BETWEEN, params).scalar_one())

    def active_incidents(self) -> list[Incident]:
        """Every incident not closed and not merged away: what the escalation job looks at."""
        query = select(incidents).where(incidents.c.state != State.CLOSED.value, incidents.c.merged_into.is_(None))
        return [row_to_incident(r) for r in self.conn.execute(query.order_by(incidents.c.id))]

    def move_posts(self, from_id: int, to_id: int) -> int:
        """Move every post of one incident to another (并单); returns how many moved."""
        moved = self.conn.execute(update(incident_posts).where(incident_posts.c.incident_id == from_id)
                                  .values(incident_id=to_id)).rowcount
        for iid in (from_id, to_id):
            count = self.conn.execute(select(func.count()).select_from(incident_posts)
                                      .where(incident_posts.c.incident_id == iid)).scalar_one()
            self.conn.execute(update(incidents).where(incidents.c.id == iid).values(post_count=count))
        return int(moved)
