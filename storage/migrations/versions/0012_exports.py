"""event_cursors: how far the outbound webhook has read the live feed

One row per forwarding reader (``webhook``): the id of the last event it queued to the outbox,
moved in the same transaction (storage.cursors).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "event_cursors" not in set(sa.inspect(op.get_bind()).get_table_names()):
        op.create_table(
            "event_cursors",
            sa.Column("name", sa.String(length=50), primary_key=True),
            sa.Column("last_event_id", sa.Integer(), nullable=False),
            sa.Column("updated_at", UtcDateTime(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("event_cursors")
