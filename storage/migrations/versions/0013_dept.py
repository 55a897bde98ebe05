"""copies of incidents to departments (会办 / 抄送) and department users

``incident_copies`` (storage.copies): which department an incident was copied to, by whom and when,
how many 会办意见 it answered with, and its withdrawal; ``users.department_code``: the department a
department user is bound to (it sees only the incidents copied there).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # A database from before migrations gets both from create_all (storage.migrations.upgrade_to_head).
    if "department_code" not in {c["name"] for c in inspector.get_columns("users")}:
        with op.batch_alter_table("users", schema=None) as batch_op:
            batch_op.add_column(sa.Column("department_code", sa.String(length=20)))
    if "incident_copies" not in set(inspector.get_table_names()):
        op.create_table(
            "incident_copies",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
            sa.Column("department_code", sa.String(length=20), nullable=False),
            sa.Column("copied_at", UtcDateTime(), nullable=False),
            sa.Column("copied_by", sa.String(length=100), nullable=False),
            sa.Column("note", sa.Text()),
            sa.Column("replies", sa.Integer(), nullable=False),
            sa.Column("replied_at", UtcDateTime()),
            sa.Column("withdrawn_at", UtcDateTime()),
            sa.Column("withdrawn_by", sa.String(length=100)),
        )
        op.create_index("ix_incident_copies_incident_id", "incident_copies", ["incident_id"])
        op.create_index("ix_incident_copies_department", "incident_copies", ["department_code", "withdrawn_at"])


def downgrade() -> None:
    op.drop_table("incident_copies")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("department_code")
