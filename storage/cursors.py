"""How far a forwarding job has read the live feed: one row per reader (the outbound webhook's is
``webhook``), holding the id of the last event it passed on.

The cursor moves in the transaction that queues what it read (the outbox), so a crash leaves both
or neither: nothing is forwarded twice or skipped. It moves only from the position the job read
(compare and set), so two jobs running at once cannot both queue the same events: the second's
transaction is refused and rolls back. Declared on :data:`storage.schema.metadata` (listed in
``storage.tables.TABLE_MODULES``) next to its operations.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Connection, Integer, String, Table, insert, select, update

from core.errors import StoreError
from storage.schema import UtcDateTime, metadata

event_cursors = Table(
    "event_cursors",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


class CursorMoved(StoreError):
    """Another job moved the cursor since it was read: this pass's work is rolled back."""


class EventCursorsTx:
    """Cursor operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def event_cursor(self, name: str) -> int | None:
        """The id of the last event ``name`` passed on, or None before its first pass."""
        return self.conn.execute(select(event_cursors.c.last_event_id)
                                 .where(event_cursors.c.name == name)).scalar_one_or_none()

    def move_event_cursor(self, name: str, read: int | None, to: int, at: dt.datetime) -> None:
        """Move ``name`` from ``read`` (what this pass read; None: it had none) to ``to``; raise
        :class:`CursorMoved` when another pass moved it meanwhile (the caller's transaction then
        rolls back, with whatever it queued)."""
        if read is None:
            existing = self.event_cursor(name)
            if existing is not None:
                raise CursorMoved(f"event cursor {name} was started by another pass")
            self.conn.execute(insert(event_cursors).values(name=name, last_event_id=to, updated_at=at))
            return
        moved = self.conn.execute(update(event_cursors)
                                  .where(event_cursors.c.name == name, event_cursors.c.last_event_id == read)
                                  .values(last_event_id=to, updated_at=at))
        if moved.rowcount != 1:
            raise CursorMoved(f"event cursor {name} moved since this pass read it")
