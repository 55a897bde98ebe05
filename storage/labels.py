"""The labels the duty desk's corrections produce (从值班台学习): one row per post and correction.

A row holds only what the desk asserted about the post (its ``fields``: relevant, unit, topic,
polarity, event, grade — the ``ecowatch eval`` names), who and when, and the audit entry of the
correction, so undoing it retracts exactly its rows. What the machine said is not copied: it is
the post's stored analysis, read next to the labels (``labelled_posts``). Nothing about users is
kept here but the actor's login name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, Connection, ForeignKey, Integer, String, Table, func, select, update

from core.models import Analysis, Label, PostRole, RawPost
from storage.rows import row_to_analysis, row_to_post
from storage.schema import UtcDateTime, analyses, audit_log, incident_posts, metadata, raw_posts

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("raw_posts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("incident_id", Integer, index=True),  # the incident corrected (None: none, e.g. a lone post)
    Column("kind", String(20), nullable=False),  # core.models.Correction
    Column("fields", JSON, nullable=False),  # what the desk asserted, by ``ecowatch eval`` field name
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("audit_id", Integer, index=True),  # the correction's audit entry (undo retracts by it)
    Column("retracted_at", UtcDateTime()),
)


@dataclass(slots=True)
class LabelledPost:
    """A post with its live labels (oldest first), its stored analysis and where it now is."""

    post: RawPost
    analysis: Analysis | None
    labels: list[Label]
    role: PostRole | None  # in its incident; None when in none


def _label(row: Any) -> Label:
    return Label(post_id=row.post_id, incident_id=row.incident_id, kind=row.kind, fields=dict(row.fields or {}),
                 actor=row.actor, at=row.at, audit_id=row.audit_id, id=row.id)


class LabelsTx:
    """Label operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_labels(self, rows: Sequence[Label]) -> None:
        """Store labels (in the transaction of the correction that made them)."""
        if rows:
            self.conn.execute(labels.insert(), [
                {"post_id": r.post_id, "incident_id": r.incident_id, "kind": r.kind, "fields": r.fields,
                 "actor": r.actor, "at": r.at, "audit_id": r.audit_id} for r in rows])

    def last_audit_id(self, incident_id: int) -> int | None:
        """The id of the incident's latest audit entry (the one just written, in this transaction)."""
        return self.conn.execute(select(func.max(audit_log.c.id)).where(audit_log.c.incident_id == incident_id)
                                 ).scalar()

    def retract_labels(self, audit_id: int, at: dt.datetime) -> int:
        """Retract the labels of one correction (it was undone); returns how many."""
        return int(self.conn.execute(update(labels).where(labels.c.audit_id == audit_id,
                                                          labels.c.retracted_at.is_(None))
                                     .values(retracted_at=at)).rowcount)

    def live_labels(self, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[Label]:
        """Labels not retracted, made in [since, until), oldest first."""
        query = select(labels).where(labels.c.retracted_at.is_(None))
        if since is not None:
            query = query.where(labels.c.at >= since)
        if until is not None:
            query = query.where(labels.c.at < until)
        return [_label(r) for r in self.conn.execute(query.order_by(labels.c.id))]

    def labelled_posts(self, since: dt.datetime | None = None) -> list[LabelledPost]:
        """Every post with a live label (made since ``since``, when given), each with all its live
        labels, its analysis and its role, in the order of its first label."""
        found = self.live_labels()
        if since is not None:
            recent = {lab.post_id for lab in found if lab.at >= since}
            found = [lab for lab in found if lab.post_id in recent]
        by_post: dict[int, list[Label]] = {}
        for lab in found:
            by_post.setdefault(lab.post_id, []).append(lab)
        out: list[LabelledPost] = []
        ids = list(by_post)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            query = (select(raw_posts, incident_posts.c.role.label("ip_role"),
                            *(c.label(f"a_{c.name}") for c in analyses.c))
                     .outerjoin(analyses, analyses.c.post_id == raw_posts.c.id)
                     .outerjoin(incident_posts, incident_posts.c.post_id == raw_posts.c.id)
                     .where(raw_posts.c.id.in_(chunk)))
            for row in self.conn.execute(query):
                analysis = row_to_analysis(row, "a_") if row.a_post_id is not None else None
                out.append(LabelledPost(row_to_post(row), analysis, by_post[row.id],
                                        PostRole(row.ip_role) if row.ip_role else None))
        order = {pid: n for n, pid in enumerate(by_post)}
        out.sort(key=lambda lp: order[lp.post.id or 0])
        return out

    def labels_of(self, post_ids: Sequence[int]) -> dict[int, list[Label]]:
        """The live labels of these posts, by post, oldest first."""
        out: dict[int, list[Label]] = {}
        ids = list(post_ids)
        for start in range(0, len(ids), 500):
            query = select(labels).where(labels.c.retracted_at.is_(None), labels.c.post_id.in_(ids[start:start + 500]))
            for row in self.conn.execute(query.order_by(labels.c.id)):
                out.setdefault(row.post_id, []).append(_label(row))
        return out

    def posts_of_incidents(self, incident_ids: Sequence[int]) -> list[tuple[int, int, Analysis | None]]:
        """(incident, post, its analysis) for every post now in these incidents or labelled as
        taken out of them (a post's 误报 detaches it): what the desk's corrections are measured on."""
        out: list[tuple[int, int, Analysis | None]] = []
        ids = list(incident_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            held = (select(incident_posts.c.incident_id, incident_posts.c.post_id)
                    .where(incident_posts.c.incident_id.in_(chunk)))
            left = (select(labels.c.incident_id, labels.c.post_id)
                    .where(labels.c.incident_id.in_(chunk), labels.c.retracted_at.is_(None))
                    .where(labels.c.post_id.not_in(select(incident_posts.c.post_id))))
            pairs = {(r.post_id, r.incident_id) for q in (held, left) for r in self.conn.execute(q)}
            found = {r.post_id: row_to_analysis(r) for r in self.conn.execute(
                select(analyses).where(analyses.c.post_id.in_([p for p, _i in pairs])))}
            out += [(iid, pid, found.get(pid)) for pid, iid in sorted(pairs)]
        return out
