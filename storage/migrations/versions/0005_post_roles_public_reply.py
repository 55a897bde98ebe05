"""incident_posts.role and incidents.public_reply_at: follow-ups on an incident's timeline

Official replies, progress notes, praise and "still not fixed" posts now attach to the incident
they are about instead of being dropped or opening incidents of their own; each link says what
the post is to the incident, and the incident keeps when the responsible side first answered in
public. Every existing link was a report, hence the server default.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # A database from before migrations may have them already from create_all (see
    # storage.migrations.upgrade_to_head), which then runs this revision.
    if "role" not in _columns("incident_posts"):
        with op.batch_alter_table("incident_posts", schema=None) as batch_op:
            batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="report"))
    if "public_reply_at" not in _columns("incidents"):
        with op.batch_alter_table("incidents", schema=None) as batch_op:
            batch_op.add_column(sa.Column("public_reply_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("public_reply_at")
    with op.batch_alter_table("incident_posts", schema=None) as batch_op:
        batch_op.drop_column("role")
