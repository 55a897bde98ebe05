"""information sharing: special reports and their versions, sendings up, items handed down

Tables of storage.sharing_schema: ``special_reports`` (each version of an incident's 舆情专报, its
document and figures), ``report_sends`` (every sending of a report or an item's feedback to an
upper body: channel, state, tries, errors, when and by whom), ``inbound_items`` (上级交办: their
reference, unique per body, text, link and deadline, and the incident it became), ``info_briefs`` and
``info_brief_files`` (信息简报 submitted, counted per month against each submitter's quota).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "special_reports" not in existing:
        op.create_table(
            "special_reports",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
            sa.Column("kind", sa.String(length=10), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("created_at", UtcDateTime(), nullable=False),
            sa.Column("created_by", sa.String(length=100), nullable=False),
            sa.Column("figures", sa.JSON(), nullable=False),
            sa.Column("docx", sa.LargeBinary(), nullable=False),
            sa.Column("html", sa.Text(), nullable=False),
            sa.UniqueConstraint("incident_id", "seq", name="uq_special_reports_incident_seq"),
        )
        op.create_index("ix_special_reports_incident_id", "special_reports", ["incident_id"])
    if "inbound_items" not in existing:
        op.create_table(
            "inbound_items",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("origin", sa.String(length=20), nullable=False),
            sa.Column("reference", sa.String(length=200), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("link", sa.Text()),
            sa.Column("deadline", UtcDateTime(), nullable=False),
            sa.Column("unit_given", sa.String(length=100)),
            sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
            sa.Column("received_at", UtcDateTime(), nullable=False),
            sa.Column("received_by", sa.String(length=100), nullable=False),
            sa.Column("late_on_arrival", sa.Boolean(), nullable=False),
            sa.Column("reply_channel", sa.String(length=10)),
            sa.Column("reply_address", sa.Text()),
            sa.Column("feedback", sa.Text()),
            sa.Column("feedback_at", UtcDateTime()),
            sa.UniqueConstraint("origin", "reference", name="uq_inbound_items_reference"),
        )
        op.create_index("ix_inbound_items_incident_id", "inbound_items", ["incident_id"])
    if "report_sends" not in existing:
        op.create_table(
            "report_sends",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("report_id", sa.Integer(), sa.ForeignKey("special_reports.id", ondelete="CASCADE")),
            sa.Column("inbound_id", sa.Integer(), sa.ForeignKey("inbound_items.id", ondelete="CASCADE")),
            sa.Column("recipient", sa.String(length=100), nullable=False),
            sa.Column("channel", sa.String(length=10), nullable=False),
            sa.Column("address", sa.Text()),
            sa.Column("status", sa.String(length=10), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", UtcDateTime()),
            sa.Column("last_error", sa.Text()),
            sa.Column("created_at", UtcDateTime(), nullable=False),
            sa.Column("created_by", sa.String(length=100), nullable=False),
            sa.Column("sent_at", UtcDateTime()),
            sa.Column("sent_by", sa.String(length=100)),
            sa.Column("note", sa.Text()),
        )
        for column in ("report_id", "inbound_id", "status"):
            op.create_index(f"ix_report_sends_{column}", "report_sends", [column])
    if "info_briefs" not in existing:
        op.create_table(
            "info_briefs",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("submitter", sa.String(length=100), nullable=False),
            sa.Column("submitter_name", sa.String(length=100), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("submitted_at", UtcDateTime(), nullable=False),
            sa.Column("submitted_by", sa.String(length=100), nullable=False),
        )
        op.create_index("ix_info_briefs_submitter_at", "info_briefs", ["submitter", "submitted_at"])
    if "info_brief_files" not in existing:
        op.create_table(
            "info_brief_files",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("brief_id", sa.Integer(), sa.ForeignKey("info_briefs.id", ondelete="CASCADE"), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("mime", sa.String(length=100), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
        )
        op.create_index("ix_info_brief_files_brief_id", "info_brief_files", ["brief_id"])


def downgrade() -> None:
    op.drop_table("info_brief_files")
    op.drop_table("info_briefs")
    op.drop_table("report_sends")
    op.drop_table("inbound_items")
    op.drop_table("special_reports")
