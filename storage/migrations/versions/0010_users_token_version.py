"""users.token_version: a password change or a disable/enable invalidates the tokens issued before

Each login token carries the user's token version; the API refuses a token whose version is not
the user's current one. Existing users start at 0 (tokens issued before this revision carry no
version and are refused: one new login each).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations gets the table from create_all, with the column already
    # (storage.migrations.upgrade_to_head then runs this revision).
    if "token_version" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}:
        with op.batch_alter_table("users", schema=None) as batch_op:
            batch_op.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
