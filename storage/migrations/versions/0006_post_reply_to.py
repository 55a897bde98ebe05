"""raw_posts.reply_to: the post a reply, comment or repost answers (its thread)

A comment that names nothing ("娃娃才好小啊😭") cannot be placed by its words; when the collector
knows which post it answers, the detection pass puts it where that post went. Existing posts
have no known thread (NULL).

Revision ID: 0006
Revises: overdue_once
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "overdue_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations may have it already from create_all (see
    # storage.migrations.upgrade_to_head), which then runs this revision.
    if "reply_to" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("raw_posts")}:
        with op.batch_alter_table("raw_posts", schema=None) as batch_op:
            batch_op.add_column(sa.Column("reply_to", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
