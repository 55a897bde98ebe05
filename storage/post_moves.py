"""Moving single posts between incidents, or out of every incident: the store side of the duty
desk's corrections 拆分 (split), 移帖 (move) and a post's 误报 (alerts.corrections). Whole-incident
moves (并单) are ``IncidentsTx.move_posts``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, select, update

from storage.schema import incident_posts, incidents


class PostMovesTx:
    """Post-move operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def _recount(self, *incident_ids: int) -> None:
        for iid in incident_ids:
            count = self.conn.execute(select(func.count()).select_from(incident_posts)
                                      .where(incident_posts.c.incident_id == iid)).scalar_one()
            self.conn.execute(update(incidents).where(incidents.c.id == iid).values(post_count=count))

    def move_post_ids(self, from_id: int, to_id: int, post_ids: Sequence[int]) -> int:
        """Move these posts of one incident to another; returns how many moved."""
        moved = self.conn.execute(update(incident_posts).where(incident_posts.c.incident_id == from_id,
                                                               incident_posts.c.post_id.in_(list(post_ids)))
                                  .values(incident_id=to_id)).rowcount
        self._recount(from_id, to_id)
        return int(moved)

    def detach_posts(self, incident_id: int, post_ids: Sequence[int]) -> int:
        """Take these posts out of the incident (they then belong to none); returns how many."""
        gone = self.conn.execute(delete(incident_posts).where(incident_posts.c.incident_id == incident_id,
                                                              incident_posts.c.post_id.in_(list(post_ids)))).rowcount
        self._recount(incident_id)
        return int(gone)
