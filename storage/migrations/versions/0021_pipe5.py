"""facet_changes.bulk: a bulk write (an import's batch, a detection group's analyses and links)
keeps the search facets and tallies in a few statements for all its rows, the per-row triggers
standing aside while it does (storage.search.facets_kept_at_once).

The facet and tally triggers are re-made with a WHEN clause reading the flag. SQLite only for the
triggers; the column is declared on both databases (the schema is one).

Revision ID: 0021_pipe5
Revises: 0020_pipe4
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.search import FACET_TRIGGERS, TALLY_TRIGGERS, UNGATED_TALLY_TRIGGERS, facet_triggers, install_search_tables

revision = "0021_pipe5"
down_revision = "0020_pipe4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # install_search_tables (an earlier revision's, or create_all) may have made it already.
    if "bulk" not in {c["name"] for c in sa.inspect(bind).get_columns("facet_changes")}:
        op.add_column("facet_changes", sa.Column("bulk", sa.Integer(), nullable=False, server_default=sa.text("0")))
    if bind.dialect.name == "sqlite":
        for name in FACET_TRIGGERS | TALLY_TRIGGERS:  # their bodies now read the flag
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        install_search_tables(bind)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in FACET_TRIGGERS | TALLY_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("ALTER TABLE facet_changes DROP COLUMN bulk")  # in place (SQLite 3.35+)
        for name, body in (facet_triggers() | UNGATED_TALLY_TRIGGERS).items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        op.drop_column("facet_changes", "bulk")
