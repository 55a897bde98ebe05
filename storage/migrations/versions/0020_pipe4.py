"""incident_posts.posted_at (the linked post's time, publish else fetch) indexed with the
incident: an incident's velocity (its posts of the last hour, counted as reports join) reads a
range of this index instead of every post of the incident (bench/burst.py, bench/pipeline.py).

Revision ID: 0020_pipe4
Revises: 0019_s1m4
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime
from storage.search import install_search_tables

revision = "0020_pipe4"
down_revision = "0019_s1m4"
branch_labels = None
depends_on = None

_BACKFILL = ("UPDATE incident_posts SET posted_at = (SELECT coalesce(r.published_at, r.fetched_at) "
             "FROM raw_posts r WHERE r.id = incident_posts.post_id)")


def upgrade() -> None:
    bind = op.get_bind()
    # A database from before migrations gets the column from the table definitions (upgrade_to_head).
    if "posted_at" not in {c["name"] for c in sa.inspect(bind).get_columns("incident_posts")}:
        op.add_column("incident_posts", sa.Column("posted_at", UtcDateTime()))
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # The backfill changes no membership: the search facets' trigger on incident_posts would
        # only rewrite every linked post's facet row to what it is. Put back right after.
        op.execute("DROP TRIGGER IF EXISTS post_facets_member_update")
    op.execute(_BACKFILL)
    if sqlite:
        install_search_tables(bind)
    op.create_index("ix_incident_posts_incident_posted", "incident_posts", ["incident_id", "posted_at"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_incident_posts_incident_posted", "incident_posts")
    # In place on both (SQLite >= 3.35): a batch rebuild of the table would trip the search
    # facets' triggers that name it.
    op.execute("ALTER TABLE incident_posts DROP COLUMN posted_at")
