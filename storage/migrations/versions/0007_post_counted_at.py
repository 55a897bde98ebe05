"""raw_posts.counted_at: the moment a post counts in briefings (a backfill in its published period)

An imported post (a backfill from another collector's export) is counted in the period it was
published in; a live-collected one when it was collected. Existing posts count when they were
collected, as before (counted_at = fetched_at).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations may have it already from create_all (see
    # storage.migrations.upgrade_to_head), which then runs this revision.
    if "counted_at" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("raw_posts")}:
        with op.batch_alter_table("raw_posts", schema=None) as batch_op:
            batch_op.add_column(sa.Column("counted_at", storage.schema.UtcDateTime(timezone=True), nullable=True))
            batch_op.create_index(batch_op.f("ix_raw_posts_counted_at"), ["counted_at"], unique=False)
    op.execute("UPDATE raw_posts SET counted_at = fetched_at WHERE counted_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_posts_counted_at"))
        batch_op.drop_column("counted_at")
