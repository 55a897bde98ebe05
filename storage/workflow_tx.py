"""Store operations of the incident workflow: grouping candidates, escalation state, the
notification outbox and the in-app feed (stored in :mod:`storage.events`, the one live-feed
table). Mixed into :class:`storage.sql.Tx`."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Text, and_, bindparam, case, cast, func, or_, select, type_coerce, update

from core.models import Grade, Incident, State, Topic
from storage import events as journal
from storage.schema import UtcDateTime, escalations, incident_posts, incidents, outbox, raw_posts

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
_GROUP_KEY = (outbox.c.incident_id == bindparam("b_incident_id"), outbox.c.channel == bindparam("b_channel"),
              outbox.c.address == bindparam("b_address"))


# A pending message may take more lines only while no delivery holds its lease: the sender sends
# the lines it read when it claimed the message and then marks it sent, so a line joined after
# the claim would be marked sent without ever being delivered.
_JOIN_NOW = bindparam("b_join_now", type_=outbox.c.locked_until.type)
_JOINABLE = (outbox.c.status == "pending", or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < _JOIN_NOW))
_LEASED = (outbox.c.status == "pending", outbox.c.locked_until >= _JOIN_NOW)


def _of_pending(column: Any) -> Any:
    return (select(column).where(*_GROUP_KEY, *_JOINABLE).order_by(outbox.c.id.desc()).limit(1)
            .scalar_subquery().label(column.name))


# The group's pending message (all NULL when none) and its last sending, in ONE statement that
# always returns one row: one round trip per recipient instead of two (escalation pass,
# bench/alerts.py). Every subquery reads the same snapshot, so they describe the same message.
_MESSAGE_GROUP = select(*(_of_pending(c) for c in (outbox.c.id, outbox.c.lines, outbox.c.events, outbox.c.grade,
                                                   outbox.c.not_before)),
                        select(func.max(outbox.c.sent_at)).where(*_GROUP_KEY, outbox.c.status == "sent")
                        .scalar_subquery().label("last_sent"),
                        select(func.count()).where(*_GROUP_KEY, *_LEASED).scalar_subquery().label("leased"))
_UPDATE_PENDING = (update(outbox).where(outbox.c.id == bindparam("b_id"), *_JOINABLE)
                   .values(lines=bindparam("lines"), events=bindparam("events"), subject=bindparam("subject"),
                           grade=bindparam("grade"), not_before=bindparam("not_before")))
_INSERT_MESSAGE = outbox.insert()
# The delivery job (alerts.jobs.deliver) runs these once per message: built per call they cost
# more than the in-app feed's own insert (bench/alerts.py, outbox delivery).
_now = bindparam("b_now", type_=outbox.c.locked_until.type)
_FREE = or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < _now)
_DUE_MESSAGES = (select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= _now,
                                      outbox.c.not_before <= _now, _FREE)
                 .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(bindparam("b_limit")))
_LEASE_MESSAGE = (update(outbox).where(outbox.c.id == bindparam("b_id"), outbox.c.status == "pending", _FREE)
                  .values(locked_until=bindparam("locked_until")))
_MESSAGE_SENT = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                 .values(status="sent", sent_at=bindparam("sent_at"), locked_until=None,
                         attempts=outbox.c.attempts + 1))
_MESSAGE_RETRY = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                  .values(last_error=bindparam("last_error"), locked_until=None, attempts=outbox.c.attempts + 1,
                          next_attempt_at=bindparam("next_attempt_at")))
_MESSAGE_FAILED = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                   .values(last_error=bindparam("last_error"), locked_until=None, attempts=outbox.c.attempts + 1,
                           status="failed"))
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


def _candidates(*columns: Any, unit: bool, topic: bool) -> Select[Any]:
    query = select(*columns).where(
        incidents.c.merged_into.is_(None),
        or_(and_(incidents.c.state != State.CLOSED.value, _last_activity >= bindparam("b_active_since")),
            and_(incidents.c.state == State.CLOSED.value, incidents.c.updated_at >= bindparam("b_closed_since"))))
    if unit:  # a placed post may join its unit's incidents and the unplaced ones in triage
        query = query.where(or_(incidents.c.unit_code == bindparam("b_unit"), incidents.c.unit_code.is_(None)))
    if topic:  # the grouping rule's topic family (alerts.grouping.topics_compatible)
        query = query.where(incidents.c.topic.in_([bindparam("b_topic"), Topic.OTHER.value]))
    return query.order_by(incidents.c.id)


# (summary, of a unit, of a topic family) -> statement
_CANDIDATES = {(summary, unit, topic): _candidates(*(_MATCH_COLUMNS if summary else (incidents,)), unit=unit,
                                                   topic=topic)
               for summary in (False, True) for unit in (False, True) for topic in (False, True)}
_post_time = func.coalesce(raw_posts.c.published_at, raw_posts.c.fetched_at)
_POSTS_BETWEEN = (select(func.count()).select_from(incident_posts.join(raw_posts,
                                                                      raw_posts.c.id == incident_posts.c.post_id))
                  .where(incident_posts.c.incident_id == bindparam("b_id"), _post_time >= bindparam("b_since"),
                         _post_time <= bindparam("b_until")))


def _incident(row: Any) -> Incident:
    from storage.sql import _row_to_incident

    return _row_to_incident(row)


def _summary(row: Any) -> Incident:
    # Only what the rule reads is real (see grouping_candidates): the last activity stands for
    # both the opening and the last post, milestones are a closed incident's only.
    return Incident(
        title="", unit=None, unit_code=row.unit_code, topic=row.topic, grade=Grade.BLUE, state=State(row.state),
        opened_at=row.last_activity, updated_at=row.updated_at, place=row.place, id=row.id,
        keywords=list(json.loads(row.keywords_text or "null") or []), merged_into=row.merged_into,
        last_post_at=row.last_activity,
        milestones={k: dt.datetime.fromisoformat(v) for k, v in (row.milestones or {}).items()},
        public_reply_at=row.public_reply_at,
    )


class WorkflowTx:
    """Workflow operations; ``self.conn`` is the transaction's connection."""

    conn: Connection

    # -- incidents -----------------------------------------------------------------------------

    def grouping_candidates(self, unit_code: str | None, topic: str, active_since: dt.datetime,
                            closed_since: dt.datetime, *, summary: bool = False,
                            probes: Sequence[str] = ()) -> list[Incident]:
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
        sharing none of them cannot be the post's event, and not decoding it is what keeps a
        week's window cheap (the keywords' JSON text is searched as stored).
        """
        params = {"b_active_since": active_since, "b_closed_since": closed_since}
        if unit_code is not None:
            params["b_unit"] = unit_code
        by_topic = topic != Topic.OTHER.value
        if by_topic:
            params["b_topic"] = topic
        rows = self.conn.execute(_CANDIDATES[summary, unit_code is not None, by_topic], params)
        if not summary:
            return [_incident(r) for r in rows]
        if not probes:
            return [_summary(r) for r in rows]
        # The keywords' JSON text as stored holds non-ASCII as \uXXXX escapes (SQLAlchemy's
        # serializer); look for both forms, and decode only the rows that hold one.
        wanted = re.compile("|".join(re.escape(w) for p in probes for w in {p, json.dumps(p)[1:-1]}))
        return [_summary(r) for r in rows if r.keywords_text and wanted.search(r.keywords_text)]

    def incident_post_count_between(self, incident_id: int, since: dt.datetime, until: dt.datetime) -> int:
        """Posts of an incident published (or fetched, when undated) in [since, until]: velocity."""
        params = {"b_id": incident_id, "b_since": since, "b_until": until}
        return int(self.conn.execute(_POSTS_BETWEEN, params).scalar_one())

    def active_incidents(self) -> list[Incident]:
        """Every incident not closed and not merged away: what the escalation job looks at."""
        query = select(incidents).where(incidents.c.state != State.CLOSED.value, incidents.c.merged_into.is_(None))
        return [_incident(r) for r in self.conn.execute(query.order_by(incidents.c.id))]

    def move_posts(self, from_id: int, to_id: int) -> int:
        """Move every post of one incident to another (并单); returns how many moved."""
        moved = self.conn.execute(update(incident_posts).where(incident_posts.c.incident_id == from_id)
                                  .values(incident_id=to_id)).rowcount
        for iid in (from_id, to_id):
            count = self.conn.execute(select(func.count()).select_from(incident_posts)
                                      .where(incident_posts.c.incident_id == iid)).scalar_one()
            self.conn.execute(update(incidents).where(incidents.c.id == iid).values(post_count=count))
        return int(moved)

    # -- escalations ---------------------------------------------------------------------------

    def active_escalations(self, incident_ids: Iterable[int] | None = None) -> dict[tuple[int, str], Any]:
        """Active escalation rows keyed by (incident id, step)."""
        query = select(escalations).where(escalations.c.active.is_(True))
        if incident_ids is not None:
            query = query.where(escalations.c.incident_id.in_(list(incident_ids)))
        return {(r.incident_id, r.step): r for r in self.conn.execute(query)}

    def escalations_of(self, incident_id: int) -> list[dict[str, Any]]:
        """Every escalation row of an incident (active and ended), for display."""
        rows = self.conn.execute(select(escalations).where(escalations.c.incident_id == incident_id)
                                 .order_by(escalations.c.id))
        return [dict(r._mapping) for r in rows]

    def save_escalation(self, incident_id: int, step: str, state: Any) -> None:
        """Insert or update the escalation state of one step (re-activating an ended one).

        ``state`` is an ``alerts.escalation.EscalationState`` (not imported: storage sits below alerts).
        """
        values = {f: getattr(state, f) for f in _ESC_FIELDS}
        done = self.conn.execute(_UPDATE_ESCALATION, {"b_incident_id": incident_id, "b_step": step, **values})
        if done.rowcount == 0:
            self.conn.execute(_INSERT_ESCALATION, {"incident_id": incident_id, "step": step, "active": True,
                                                   "ended_at": None, **values})

    def save_escalations(self, states: Sequence[tuple[int, str, Any]]) -> None:
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

    # -- outbox --------------------------------------------------------------------------------

    def enqueue_message(self, *, incident_id: int | None, channel: str, recipient: str, address: str,
                        grade: str | None, subject: str, line: str, event: str, now: dt.datetime,
                        not_before: dt.datetime, group: dt.timedelta) -> int:
        """Queue a line for one recipient on one channel, grouped: while a message for the same
        incident and address is pending the line joins it; after one was sent, the next waits
        until ``group`` has passed. Returns the outbox id."""
        if incident_id is None:  # messages about no incident (rare) are not grouped by incident
            key = (outbox.c.incident_id.is_(None), outbox.c.channel == channel, outbox.c.address == address)
            free = {"b_join_now": now}
            pending = self.conn.execute(select(outbox).where(*key, *_JOINABLE)
                                        .order_by(outbox.c.id.desc()).limit(1), free).first()
            last_sent = self.conn.execute(select(func.max(outbox.c.sent_at))
                                          .where(*key, outbox.c.status == "sent")).scalar_one()
            leased = self.conn.execute(select(func.count()).where(*key, *_LEASED), free).scalar_one()
        else:
            params = {"b_incident_id": incident_id, "b_channel": channel, "b_address": address, "b_join_now": now}
            found = self.conn.execute(_MESSAGE_GROUP, params).one()
            pending = found if found.id is not None else None
            last_sent, leased = found.last_sent, found.leased
        if pending is not None:
            lines = list(pending.lines)
            if line not in lines:
                lines.append(line)
            events = list(pending.events) + ([event] if event not in pending.events else [])
            ranks = [Grade(g).rank for g in (pending.grade, grade) if g]
            top = list(Grade)[max(ranks)].value if ranks else None
            joined = self.conn.execute(_UPDATE_PENDING, {"b_id": pending.id, "lines": lines, "events": events,
                                                         "subject": subject, "grade": top, "b_join_now": now,
                                                         "not_before": min(pending.not_before, not_before)})
            if joined.rowcount == 1:
                return int(pending.id)
            leased = 1  # claimed by a delivery between our read and our update (PostgreSQL)
        if leased:
            last_sent = max(last_sent, now) if last_sent is not None else now  # being sent right now
        if last_sent is not None:
            not_before = max(not_before, last_sent + group)
        new_id = self.conn.execute(_INSERT_MESSAGE, {
            "incident_id": incident_id, "channel": channel, "recipient": recipient, "address": address,
            "grade": grade, "subject": subject, "lines": [line], "events": [event], "created_at": now,
            "not_before": not_before, "next_attempt_at": not_before, "attempts": 0, "status": "pending",
            "locked_until": None, "sent_at": None, "last_error": None}).inserted_primary_key[0]
        return int(new_id)

    def claim_outbox(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[dict[str, Any]]:
        """Take up to ``limit`` due messages for delivery; a lease keeps another worker off them
        (and frees them again if this one dies mid-send)."""
        rows = self.conn.execute(_DUE_MESSAGES, {"b_now": now, "b_limit": limit}).all()
        claimed = []
        for row in rows:
            got = self.conn.execute(_LEASE_MESSAGE, {"b_id": row.id, "b_now": now, "locked_until": now + lease})
            if got.rowcount == 1:
                claimed.append(dict(row._mapping))
        return claimed

    def outbox_sent(self, message_id: int, at: dt.datetime) -> None:
        """Mark a message delivered."""
        self.conn.execute(_MESSAGE_SENT, {"b_id": message_id, "sent_at": at})

    def outbox_failed(self, message_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt: retried at ``retry_at``, or given up (status failed) if None."""
        if retry_at is None:
            self.conn.execute(_MESSAGE_FAILED, {"b_id": message_id, "last_error": error[:2000]})
        else:
            self.conn.execute(_MESSAGE_RETRY, {"b_id": message_id, "last_error": error[:2000],
                                               "next_attempt_at": retry_at})

    def list_outbox(self, status: str | None = None, incident_id: int | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
        """Outbox messages, newest first: failures are visible here (status failed, last_error)."""
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox.c.status == status)
        if incident_id is not None:
            query = query.where(outbox.c.incident_id == incident_id)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    # -- in-app feed ---------------------------------------------------------------------------

    def add_feed_event(self, *, at: dt.datetime, incident_id: int | None, recipient: str, grade: str | None,
                       subject: str, body: str, events: Sequence[str]) -> int:
        """Append an in-app notification for ``recipient`` to the live feed (``storage.events``),
        inside this transaction."""
        return journal.add_notification(self, at=at, incident_id=incident_id, recipient=recipient,
                                        grade=grade, subject=subject, body=body, events=events)

    def feed_since(self, after_id: int = 0, recipient: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """In-app notifications after ``after_id`` (one recipient's when given), oldest first."""
        return journal.notifications_after(self, after_id, recipient, limit)
