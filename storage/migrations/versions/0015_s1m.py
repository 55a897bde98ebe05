"""post_facets: one narrow row per post for search's filters, facet counts and newest-first order;
facet_keys: each combination of facet values, so counting groups by one integer

SQLite only (PostgreSQL searches by substring over the record): the table, the triggers that keep
it in the transaction that writes a post, its analysis, its incident membership or its
incident's unit, and a backfill from the record (storage.search.install_search_tables). The
table is declared on both databases (the schema is one), filled on SQLite.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.search import FACET_TRIGGERS, install_search_tables

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # create_all may have made them
    if "post_facets" not in existing:
        op.create_table(
            "post_facets",
            sa.Column("post_id", sa.Integer(), primary_key=True),
            sa.Column("unit_code", sa.Text()),
            sa.Column("topic", sa.Text()),
            sa.Column("polarity", sa.Text()),
            sa.Column("source", sa.Text(), nullable=False),
            sa.Column("at", sa.Text()),
            sa.Column("day", sa.Text()),
            sa.Column("fkey", sa.Integer()),
        )
    if "facet_keys" not in existing:
        op.create_table(
            "facet_keys",
            sa.Column("id", sa.Integer(), primary_key=True),
            *(sa.Column(name, sa.Text(), nullable=False) for name in ("unit_code", "topic", "polarity", "source",
                                                                      "day")),
            sa.UniqueConstraint("unit_code", "topic", "polarity", "source", "day", name="uq_facet_keys_values"),
        )
    install_search_tables(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FACET_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("post_facets")
    op.drop_table("facet_keys")
