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

from sqlalchemy import Column, Connection, Integer, String, Table, func, insert, select, text, update

from core.errors import StoreError
from storage.schema import UtcDateTime, events, metadata

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

    def settled_event_id(self) -> int:
        """The highest event id below which no line can appear any more (call it in a short
        transaction: on PostgreSQL it holds a lock until that ends). The outbound webhook moves
        its cursor by it; the live feed serves no line above it (dashboard_api.feed).

        On PostgreSQL ids come from a sequence when a line is inserted, not when it commits: a
        reader can see line 11 while line 10, of a transaction still open, is not yet visible; a
        cursor moved past 11 would skip 10 for ever. ``LOCK TABLE … IN SHARE MODE`` waits for
        every transaction that is inserting lines to end (and holds new ones off for the moment
        this transaction lasts), so every id up to the maximum read then is committed or gone.
        SQLite has one writer at a time: its ids are in commit order already."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("LOCK TABLE events IN SHARE MODE"))
        return int(self.conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())

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
