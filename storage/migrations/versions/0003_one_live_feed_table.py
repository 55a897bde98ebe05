"""one live-feed table: feed_events moves into events

The in-app notifications (feed_events, one row per recipient) join the console's lines in
``events``, which gains a nullable ``recipient`` column (NULL on console lines). Every
feed_events row is copied as a ``notification`` event (grade, subject, body and event kinds in
the payload; unit_code from its incident), oldest first, then feed_events is dropped. The
downgrade recreates feed_events and moves the notifications back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHUNK = 1000
UTC = storage.schema.UtcDateTime(timezone=True)

# The tables as this revision knows them (not the live metadata, which later revisions change).
_events = sa.table("events", sa.column("id", sa.Integer), sa.column("at", UTC), sa.column("kind", sa.String),
                   sa.column("incident_id", sa.Integer), sa.column("unit_code", sa.String),
                   sa.column("payload", sa.JSON), sa.column("recipient", sa.String))
_feed_events = sa.table("feed_events", sa.column("id", sa.Integer), sa.column("at", UTC),
                        sa.column("incident_id", sa.Integer), sa.column("recipient", sa.String),
                        sa.column("grade", sa.String), sa.column("subject", sa.Text), sa.column("body", sa.Text),
                        sa.column("events", sa.JSON))
_incidents = sa.table("incidents", sa.column("id", sa.Integer), sa.column("unit_code", sa.String))


def _chunks(conn: sa.Connection, query: sa.Select[Any], key: Any) -> Iterator[list[Any]]:
    """Rows of ``query`` in ``key`` order, CHUNK at a time (keyset paging: big tables fit in memory)."""
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = list(conn.execute(page.order_by(key).limit(CHUNK)))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    # A database from before migrations got the new column and index from create_all already
    # (storage.migrations.upgrade_to_head stamps it 0002 and runs this revision for the copy).
    if "recipient" not in {c["name"] for c in inspector.get_columns("events")}:
        with op.batch_alter_table("events", schema=None) as batch_op:
            batch_op.add_column(sa.Column("recipient", sa.String(length=100), nullable=True))
    if "ix_events_recipient_id" not in {i["name"] for i in inspector.get_indexes("events")}:
        with op.batch_alter_table("events", schema=None) as batch_op:
            batch_op.create_index("ix_events_recipient_id", ["recipient", "id"], unique=False)
    if "feed_events" not in inspector.get_table_names():
        return
    query = (sa.select(*_feed_events.c, _incidents.c.unit_code)
             .select_from(_feed_events.outerjoin(_incidents, _incidents.c.id == _feed_events.c.incident_id)))
    for rows in _chunks(conn, query, _feed_events.c.id):
        conn.execute(_events.insert(), [
            {"at": r.at, "kind": "notification", "incident_id": r.incident_id, "unit_code": r.unit_code,
             "recipient": r.recipient,
             "payload": {"grade": r.grade, "subject": r.subject, "body": r.body, "events": list(r.events or [])}}
            for r in rows])
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_events_recipient"))
        batch_op.drop_index(batch_op.f("ix_feed_events_incident_id"))
    op.drop_table("feed_events")


def downgrade() -> None:
    op.create_table("feed_events",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("at", storage.schema.UtcDateTime(timezone=True), nullable=False),
                    sa.Column("incident_id", sa.Integer(), nullable=True),
                    sa.Column("recipient", sa.String(length=100), nullable=False),
                    sa.Column("grade", sa.String(length=10), nullable=True),
                    sa.Column("subject", sa.Text(), nullable=False),
                    sa.Column("body", sa.Text(), nullable=False),
                    sa.Column("events", sa.JSON(), nullable=False),
                    sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
                    sa.PrimaryKeyConstraint("id"))
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_events_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_events_recipient"), ["recipient"], unique=False)
    conn = op.get_bind()
    notes = (sa.select(_events).where(_events.c.kind == "notification", _events.c.recipient.is_not(None)))
    # feed_events.incident_id references incidents: a notification about a deleted incident has
    # nowhere to go back to (events has no foreign key), so it keeps the text but no incident.
    known = sa.select(_incidents.c.id)
    for rows in _chunks(conn, notes, _events.c.id):
        ids = {r.incident_id for r in rows if r.incident_id is not None}
        present = {i for (i,) in conn.execute(known.where(_incidents.c.id.in_(ids)))} if ids else set()
        conn.execute(_feed_events.insert(), [
            {"at": r.at, "incident_id": r.incident_id if r.incident_id in present else None,
             "recipient": r.recipient, "grade": (r.payload or {}).get("grade"),
             "subject": (r.payload or {}).get("subject", ""), "body": (r.payload or {}).get("body", ""),
             "events": list((r.payload or {}).get("events", []))}
            for r in rows])
    conn.execute(sa.delete(_events).where(_events.c.kind == "notification", _events.c.recipient.is_not(None)))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_recipient_id")
        batch_op.drop_column("recipient")
