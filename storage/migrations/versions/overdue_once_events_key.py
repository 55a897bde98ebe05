"""events: once_key (unique), so the escalation job writes each overdue line exactly once

The ``overdue`` console line used to be written by the API while it served the feed (a read that
wrote, and two API workers could write the same line twice). The escalation job writes it now,
keyed ``overdue:<incident>:<step>:<deadline>`` in a new nullable, unique ``once_key`` column
(NULL on every other line). Lines written before this revision get their key (the first of any
duplicates), so the job does not announce again what the console already showed.

Written alongside revision 0005 (post roles) and chained after it; its id is a name, not a
number, because both were numbered 0005 when written.

Revision ID: overdue_once
Revises: 0005
Create Date: 2026-12-04 17:24:17
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "overdue_once"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ux_events_once_key"
# The table as this revision knows it (not the live metadata, which later revisions change).
_events = sa.table("events", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                   sa.column("incident_id", sa.Integer), sa.column("payload", sa.JSON),
                   sa.column("recipient", sa.String), sa.column("once_key", sa.String))


def _key(incident_id: int, step: str, deadline: str) -> str:
    # The same text as storage.events.overdue_key (copied: a revision must not change with the code).
    return f"overdue:{incident_id}:{step}:{dt.datetime.fromisoformat(deadline).astimezone(dt.UTC).isoformat()}"


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    # A database from before migrations got the column from add_missing_columns already
    # (storage.migrations.upgrade_to_head then runs the revisions after 0003).
    if "once_key" not in {c["name"] for c in inspector.get_columns("events")}:
        with op.batch_alter_table("events") as batch:
            batch.add_column(sa.Column("once_key", sa.String(length=200), nullable=True))
    seen: set[str] = set()
    rows = bind.execute(sa.select(_events.c.id, _events.c.incident_id, _events.c.payload)
                        .where(_events.c.kind == "overdue", _events.c.recipient.is_(None),
                               _events.c.once_key.is_(None))
                        .order_by(_events.c.id)).all()
    for row in rows:
        payload = row.payload or {}
        if row.incident_id is None or not payload.get("step") or not payload.get("deadline"):
            continue
        key = _key(row.incident_id, payload["step"], payload["deadline"])
        if key not in seen:
            seen.add(key)
            bind.execute(sa.update(_events).where(_events.c.id == row.id).values(once_key=key))
    if INDEX not in {i["name"] for i in sa.inspect(bind).get_indexes("events")}:
        op.create_index(INDEX, "events", ["once_key"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("once_key")
