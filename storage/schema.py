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
    Column("processed_at", UtcDateTime(), index=True),
    Column("process_error", Text),
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
)

incident_posts = Table(
    "incident_posts",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("post_id", Integer, ForeignKey("raw_posts.id", ondelete="CASCADE"), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    UniqueConstraint("post_id", name="uq_incident_posts_post"),  # a post belongs to one incident
    Index("ix_incident_posts_incident", "incident_id"),
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
