"""labels: what the duty desk's corrections say about each post (从值班台学习)

One row per post and correction (改派, 误报, 并单, 拆分, 移帖, 调整等级, 修正): the fields the desk
asserted, who, when, and the audit entry of the correction (undo retracts its rows). Existing
databases start with no labels: corrections made before this revision taught nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations may have it from create_all (storage.migrations.upgrade_to_head).
    if "labels" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("raw_posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("incident_id", sa.Integer()),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("audit_id", sa.Integer()),
        sa.Column("retracted_at", UtcDateTime()),
    )
    op.create_index("ix_labels_post_id", "labels", ["post_id"])
    op.create_index("ix_labels_incident_id", "labels", ["incident_id"])
    op.create_index("ix_labels_at", "labels", ["at"])
    op.create_index("ix_labels_audit_id", "labels", ["audit_id"])


def downgrade() -> None:
    op.drop_table("labels")
