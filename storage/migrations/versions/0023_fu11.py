"""raw_posts indexed by (source, author): a resident's follow-up ("终于不臭了", "说好的整改呢")
finds the incident its writer's earlier post is in (``Tx.author_incident``) without reading every
post of the source.

Revision ID: 0023_fu11
Revises: 0022_api6
Create Date: 2026-12-05 14:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0023_fu11"
down_revision = "0022_api6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_raw_posts_source_author", "raw_posts", ["source", "author"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_raw_posts_source_author", "raw_posts")
