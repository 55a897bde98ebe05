"""incidents: index on (unit_code, topic) for grouping candidates

The detection pass looks up the incidents a post may join by unit and topic, once per post
(``Tx.grouping_candidates``). With only the unit index each lookup read every incident the unit
ever had: ~6 ms a post at 20,000 incidents (bench/alerts.py), growing as closed ones accumulate.
An index only: no rows change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:30:24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "ix_incidents_unit_topic"


def upgrade() -> None:
    # A database from before migrations may have it already from create_all (see
    # storage.migrations.upgrade_to_head), which then runs this revision.
    if INDEX not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("incidents")}:
        op.create_index(INDEX, "incidents", ["unit_code", "topic"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="incidents")
