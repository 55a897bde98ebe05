"""post_facets.seq and facet_changes: which posts' facet keys changed since a search's copy of them

The facet-key triggers are re-made to stamp the rows they key with a counter (facet_changes.n)
they take up by one per statement, so a copy of every post's key in memory
(storage.search._PostKeys) reads only what changed since. Existing rows keep seq NULL: a copy's
first read takes every row. SQLite only for the triggers; the column, index and table are
declared on both databases (the schema is one).

Revision ID: 0019_s1m4
Revises: 0018_api4
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.search import FACET_TRIGGERS, facet_triggers, install_search_tables

revision = "0019_s1m4"
down_revision = "0018_api4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "facet_changes" not in set(inspector.get_table_names()):  # create_all may have made it
        op.create_table("facet_changes", sa.Column("id", sa.Integer(), primary_key=True),
                        sa.Column("n", sa.Integer(), nullable=False))
    if "seq" not in {c["name"] for c in inspector.get_columns("post_facets")}:
        op.add_column("post_facets", sa.Column("seq", sa.Integer()))  # ADD COLUMN: the table is not copied
    op.create_index("ix_post_facets_seq", "post_facets", ["seq"], if_not_exists=True)
    if bind.dialect.name == "sqlite":
        for name in FACET_TRIGGERS:  # their bodies now stamp seq
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        install_search_tables(bind)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in FACET_TRIGGERS:  # they stamp seq
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_post_facets_seq", "post_facets")
    if sqlite:  # in place (SQLite 3.35+): a batch copy of the table would drop its tally triggers
        op.execute("ALTER TABLE post_facets DROP COLUMN seq")
    else:
        op.drop_column("post_facets", "seq")
    op.drop_table("facet_changes")
    if sqlite:
        for name, body in facet_triggers(stamped=False).items():
            op.execute(f"CREATE TRIGGER {name} {body}")
