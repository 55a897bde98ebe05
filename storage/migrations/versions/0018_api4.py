"""incidents indexed by (unit_code, opened_at): a unit's incident list, newest first, reads the
page in order instead of reading and sorting every incident of the unit (bench/api.py, the
unit + state filtered list).

Revision ID: 0018_api4
Revises: 0017_s1m2
Create Date: 2026-12-05 06:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0018_api4"
down_revision = "0017_s1m2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_unit_opened", "incidents", ["unit_code", "opened_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_incidents_unit_opened", "incidents")
