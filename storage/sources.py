"""The sources aggregate: each collection run (a source's health history) and the validators
remembered for conditional GET."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from storage.schema import source_runs, source_state


class SourcesTx:
    """Source operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def record_source_run(self, source: str, started_at: dt.datetime, finished_at: dt.datetime, ok: bool,
                          items: int, new_items: int, error: str | None = None) -> None:
        """Record one collection run of a source (its health history)."""
        self.conn.execute(source_runs.insert().values(source=source, started_at=started_at,
                                                      finished_at=finished_at, ok=ok, items=items,
                                                      new_items=new_items, error=error))

    def source_runs(self, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent collection runs, newest first."""
        query = select(source_runs).order_by(source_runs.c.id.desc()).limit(limit)
        if source:
            query = query.where(source_runs.c.source == source)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def get_source_state(self, source: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) remembered for conditional GET."""
        row = self.conn.execute(select(source_state).where(source_state.c.source == source)).first()
        return (row.etag, row.last_modified) if row else (None, None)

    def set_source_state(self, source: str, etag: str | None, last_modified: str | None) -> None:
        """Remember validators for the next conditional GET."""
        self.conn.execute(source_state.delete().where(source_state.c.source == source))
        self.conn.execute(source_state.insert().values(source=source, etag=etag, last_modified=last_modified))
