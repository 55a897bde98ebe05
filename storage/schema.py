"""Tables of the SQL store (SQLAlchemy Core), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData()

raw_posts = Table(
    "raw_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", String(200), nullable=False, unique=True),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("source", String(200), nullable=False, index=True),
    Column("url", Text),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("author", String(200)),
    Column("published_at", UtcDateTime()),
    Column("fetched_at", UtcDateTime(), nullable=False),
    Column("engagement", JSON, nullable=False, default=dict),
    Column("snapshot", Text),  # path of the original text/HTML kept at first sight
    Column("reply_to", Text),  # URL of the post this one answers (its thread), revision 0006
    # When briefings count it: a backfill (import) when published, a live post when collected (revision 0007).
    Column("counted_at", UtcDateTime(), index=True),
    Column("processed_at", UtcDateTime(), index=True),
    Column("process_error", Text),
    # A resident's follow-up finds the matter its writer posted about (Tx.author_incident), revision 0023.
    Index("ix_raw_posts_source_author", "source", "author"),
)

analyses = Table(
    "analyses",
    metadata,
    Column("post_id", Integer, ForeignKey("raw_posts.id", ondelete="CASCADE"), primary_key=True),
    Column("relevant", Boolean, nullable=False, index=True),
    Column("unit", String(100)),
    Column("unit_code", String(20), index=True),
    Column("confidence", Float, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("topic", String(20), nullable=False, index=True),
    Column("polarity", String(8), nullable=False),
    Column("sentiment", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("signals", JSON, nullable=False),
    Column("place", String(200)),
    Column("analysed_at", UtcDateTime(), nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("unit", String(100)),
    Column("unit_code", String(20), index=True),
    Column("department", String(100)),
    Column("topic", String(20), nullable=False),
    Column("place", String(200)),
    Column("grade", String(10), nullable=False),
    Column("grade_reasons", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("opened_at", UtcDateTime(), nullable=False, index=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("deadlines", JSON, nullable=False),  # {"sign_off": iso, "response": iso, ...}
    Column("post_count", Integer, nullable=False, default=0),
    # Added by the workflow (nullable so storage.migrate can add them to older files).
    Column("reach", JSON),  # aggregated reach of merged posts (alerts.grading.Reach)
    Column("keywords", JSON),  # tokens for the similarity check
    Column("milestones", JSON),  # step → iso time it was done (sign_off, response, closure, closed...)
    Column("returns", Integer),
    Column("complex", Boolean),
    Column("grade_override", JSON),
    Column("merged_into", Integer, index=True),
    Column("parent_id", Integer),
    Column("last_post_at", UtcDateTime(), index=True),
    Column("reopened", Integer),
    # When the responsible side first answered in public (an official follow-up post attached,
    # revision 0005): the inbox and the briefing show it without reading every post.
    Column("public_reply_at", UtcDateTime()),
    # Grouping candidates are looked up by unit and topic for every post (revision 0004): with the
    # unit index alone each lookup read every incident the unit ever had.
    Index("ix_incidents_unit_topic", "unit_code", "topic"),
    # A unit's incident list, newest first, reads in this order and stops at the page (revision
    # 0018_api4): with the unit index alone it read and sorted every incident the unit ever had.
    Index("ix_incidents_unit_opened", "unit_code", "opened_at"),
    # The unit + state list's count reads this index alone (revision 0022_api6): with the two above
    # it looked up every incident of the unit for its state.
    Index("ix_incidents_unit_state", "unit_code", "state"),
)

incident_posts = Table(
    "incident_posts",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("post_id", Integer, ForeignKey("raw_posts.id", ondelete="CASCADE"), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    # What the post is to the incident (core.models.PostRole): a report, or a follow-up (official
    # reply, progress, praise, still-not-fixed) on its public-response timeline (revision 0005).
    Column("role", String(16), nullable=False, server_default="report"),
    # The post's time (publish, else fetch) copied here when it is linked (revision 0020_pipe4):
    # an incident's velocity, its posts of the last hour, counted for every report that joins it,
    # is then a range of the index below instead of a read of every post of the incident (an
    # incident of 88,000 posts in bench/burst.py). A post's times are never changed once stored.
    Column("posted_at", UtcDateTime()),
    UniqueConstraint("post_id", name="uq_incident_posts_post"),  # a post belongs to one incident
    Index("ix_incident_posts_incident", "incident_id"),
    Index("ix_incident_posts_incident_posted", "incident_id", "posted_at"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("unit_code", String(20)),
    Column("unit", String(100)),
    Column("department", String(100)),
    Column("assigned_at", UtcDateTime(), nullable=False),
    Column("assigned_by", String(100), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("detail", JSON, nullable=False),
)

source_runs = Table(
    "source_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(200), nullable=False, index=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("ok", Boolean, nullable=False),
    Column("items", Integer, nullable=False, default=0),
    Column("new_items", Integer, nullable=False, default=0),
    Column("error", Text),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(20), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("rung", Integer, nullable=False, default=-1),
    Column("last_notified_at", UtcDateTime()),
    Column("notify_count", Integer, nullable=False, default=0),
    Column("acknowledged_rung", Integer, nullable=False, default=-1),
    Column("acknowledged_at", UtcDateTime()),
    Column("acknowledged_by", String(100)),
    Column("active", Boolean, nullable=False, default=True, index=True),
    Column("ended_at", UtcDateTime()),
    UniqueConstraint("incident_id", "step", name="uq_escalations_incident_step"),
)

# Messages waiting to go out on a push channel (email, WeCom, DingTalk, the in-app feed): written in
# the transaction of the action that caused them, delivered by a job, so a slow or broken channel
# never blocks the pipeline and a failure is retried and stays visible.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), index=True),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(100), nullable=False),  # contact name
    Column("address", Text, nullable=False),  # email address, webhook URL, feed name
    Column("grade", String(10)),
    Column("subject", Text, nullable=False),
    Column("lines", JSON, nullable=False),  # the events grouped into this message
    Column("events", JSON, nullable=False),  # their kinds
    Column("created_at", UtcDateTime(), nullable=False),
    Column("not_before", UtcDateTime(), nullable=False),  # grouping interval / quiet hours
    Column("next_attempt_at", UtcDateTime(), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(10), nullable=False, index=True),  # pending | sent | failed
    Column("sent_at", UtcDateTime()),
    Column("last_error", Text),
    Column("locked_until", UtcDateTime()),
    Index("ix_outbox_group", "incident_id", "channel", "address", "status"),
)


# The official answer to a message-board post (网络问政), kept apart from the post's own text so
# analysis reads what the citizen said. A new table rather than new columns: create_all adds it
# to existing databases.
post_replies = Table(
    "post_replies",
    metadata,
    Column("post_id", Integer, ForeignKey("raw_posts.id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("replied_at", UtcDateTime()),
    Column("replied_by", String(200)),
    Column("seen_at", UtcDateTime(), nullable=False),
)

# The one live-feed table (storage.events): console lines (new incident, grade raised, overdue,
# state changes) and, since revision 0003 moved feed_events here, the in-app notifications
# addressed to one recipient (``recipient`` set, kind ``notification``).
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("incident_id", Integer, index=True),
    Column("unit_code", String(20)),
    Column("payload", JSON, nullable=False, default=dict),
    # Added in revision 0003 (the in-app feed moved here from feed_events): NULL for console lines.
    Column("recipient", String(100)),
    # A line that must exist at most once names itself here (an ``overdue`` line: incident, step
    # and deadline); NULL for every other line. Unique, so two escalation jobs running at once
    # (two API processes on PostgreSQL) cannot both write it.
    Column("once_key", String(200)),
    Index("ix_events_unit_id", "unit_code", "id"),
    Index("ix_events_recipient_id", "recipient", "id"),
    Index("ux_events_once_key", "once_key", unique=True),
)

# Console users (storage.users): the password hash is computed by the caller; storage only keeps it.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(20)),
    # The department (pack [[departments]] code) a department user is bound to: it sees only the
    # incidents copied to that department (storage.copies).
    Column("department_code", String(20)),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # Written into each login token; a password change or a disable/enable raises it, so every
    # token issued before stops working (storage.users, dashboard_api.deps).
    Column("token_version", Integer, nullable=False, default=0, server_default="0"),
)

# Failed logins in the limiter's window (storage.logins, dashboard_api.security.LoginLimiter): in
# the database so every worker process of ``ecowatch serve --workers`` counts the same attempts.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("address", String(100), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
)

# Which posts the Elasticsearch copy has acknowledged (storage.search_sync): marked only after the
# cluster took them, so an outage leaves the rest to replay.
search_sync = Table(
    "search_sync",
    metadata,
    Column("post_id", Integer, primary_key=True),
    Column("indexed_at", UtcDateTime(), nullable=False),
)
