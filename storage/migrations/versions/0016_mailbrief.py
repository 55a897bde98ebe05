"""信息简报 by email: the mails the import read (brief_mails) and known sender addresses (brief_senders)

``brief_mails`` keeps every mail read (as received), what became of it (a brief, or the triage list
until an officer assigns or dismisses it), unique by Message-ID and by content hash so a mail read
twice is one row; ``brief_senders`` maps a sender address to the unit or department it reports for.

Revision ID: 0016_mailbrief
Revises: 0015
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0016_mailbrief"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # create_all may have made them
    if "brief_senders" not in existing:
        op.create_table(
            "brief_senders",
            sa.Column("address", sa.String(length=200), primary_key=True),
            sa.Column("submitter", sa.String(length=100), nullable=False),
            sa.Column("set_at", UtcDateTime(), nullable=False),
            sa.Column("set_by", sa.String(length=100), nullable=False),
        )
    if "brief_mails" not in existing:
        op.create_table(
            "brief_mails",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("message_id", sa.String(length=300), unique=True),
            sa.Column("content_hash", sa.String(length=64), nullable=False, unique=True),
            sa.Column("origin", sa.String(length=300), nullable=False),
            sa.Column("sender", sa.String(length=200), nullable=False),
            sa.Column("sender_name", sa.String(length=100), nullable=False),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("sent_at", UtcDateTime()),
            sa.Column("received_at", UtcDateTime(), nullable=False),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("reason", sa.Text()),
            sa.Column("brief_id", sa.Integer(), sa.ForeignKey("info_briefs.id", ondelete="SET NULL")),
            sa.Column("decided_at", UtcDateTime()),
            sa.Column("decided_by", sa.String(length=100)),
            sa.Column("raw", sa.LargeBinary(), nullable=False),
        )
        op.create_index("ix_brief_mails_state", "brief_mails", ["state"])


def downgrade() -> None:
    op.drop_table("brief_mails")
    op.drop_table("brief_senders")
