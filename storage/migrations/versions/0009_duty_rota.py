"""duty rota, pages, hand-overs and the duty log (值班排班 / 呼叫 / 交接班 / 值班日志)

Four new tables of the duty aggregate (storage.rota); nothing existing changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations has them already from create_all (see
    # storage.migrations.upgrade_to_head), which then runs this revision.
    if "duty_shifts" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty_date", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("primary_name", sa.String(length=100), nullable=True),
        sa.Column("primary_phone", sa.String(length=20), nullable=True),
        sa.Column("backup_name", sa.String(length=100), nullable=True),
        sa.Column("backup_phone", sa.String(length=20), nullable=True),
        sa.Column("leader_name", sa.String(length=100), nullable=True),
        sa.Column("leader_phone", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("duty_date", "kind", name="uq_duty_shifts_date_kind"),
    )
    op.create_index("ix_duty_shifts_starts_at", "duty_shifts", ["starts_at"])
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=True),
        sa.Column("person", sa.String(length=100), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("paged_at", UtcDateTime(), nullable=False),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
        sa.Column("acked_by", sa.String(length=100), nullable=True),
        sa.Column("ack_via", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id"),
    )
    op.create_index("ix_pages_state", "pages", ["state"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_shift_id", sa.Integer(), nullable=False),
        sa.Column("from_shift_id", sa.Integer(), nullable=True),
        sa.Column("from_name", sa.String(length=100), nullable=True),
        sa.Column("to_name", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("accepted_by", sa.String(length=100), nullable=True),
        sa.Column("late_paged_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["from_shift_id"], ["duty_shifts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["to_shift_id"], ["duty_shifts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("to_shift_id"),
    )
    op.create_table(
        "duty_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_log_at", "duty_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_duty_log_at", table_name="duty_log")
    op.drop_table("duty_log")
    op.drop_table("handovers")
    op.drop_index("ix_pages_state", table_name="pages")
    op.drop_table("pages")
    op.drop_index("ix_duty_shifts_starts_at", table_name="duty_shifts")
    op.drop_table("duty_shifts")
