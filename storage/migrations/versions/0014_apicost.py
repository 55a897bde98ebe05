"""login_failures: the login limiter's failed attempts, shared by every worker process

``ecowatch serve --workers N`` runs N processes; a limiter counting in memory would let each of
them take its own five guesses. The window's failures are rows instead (dashboard_api.security).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "login_failures" not in set(sa.inspect(op.get_bind()).get_table_names()):
        op.create_table(
            "login_failures",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("address", sa.String(length=100), nullable=False),
            sa.Column("at", UtcDateTime(), nullable=False),
        )
        op.create_index("ix_login_failures_address", "login_failures", ["address"])
        op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_table("login_failures")
