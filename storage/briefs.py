"""信息简报 submitted by units, bureau units and departments, with their attachments (tables in
:mod:`storage.sharing_schema`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from storage.rows import inserted_id
from storage.sharing_schema import info_brief_files, info_briefs


@dataclass(slots=True, frozen=True)
class StoredBrief:
    """A submitted 信息简报 (its attachments by name and size)."""

    id: int
    submitter: str
    submitter_name: str
    title: str
    text: str
    submitted_at: dt.datetime
    submitted_by: str
    files: list[tuple[int, str, int]]  # (file id, name, size)


class BriefsTx:
    """信息简报 operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_brief(self, *, submitter: str, submitter_name: str, title: str, text: str, at: dt.datetime, by: str,
                  files: Sequence[tuple[str, str, bytes]] = ()) -> int:
        """Keep a submitted brief and its files (name, MIME type, bytes) together."""
        brief_id = inserted_id(self.conn.execute(info_briefs.insert().values(
            submitter=submitter, submitter_name=submitter_name, title=title, text=text, submitted_at=at,
            submitted_by=by)))
        for name, mime, data in files:
            self.conn.execute(info_brief_files.insert().values(brief_id=brief_id, name=name, mime=mime,
                                                               size=len(data), data=data))
        return brief_id

    def brief_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        """Briefs submitted in [start, end), per submitter."""
        rows = self.conn.execute(select(info_briefs.c.submitter, func.count())
                                 .where(info_briefs.c.submitted_at >= start, info_briefs.c.submitted_at < end)
                                 .group_by(info_briefs.c.submitter))
        return {r[0]: int(r[1]) for r in rows}

    def list_briefs(self, start: dt.datetime, end: dt.datetime, submitter: str | None = None) -> list[StoredBrief]:
        """Briefs submitted in [start, end) (one submitter's when given), newest first."""
        query = (select(info_briefs).where(info_briefs.c.submitted_at >= start, info_briefs.c.submitted_at < end)
                 .order_by(info_briefs.c.submitted_at.desc(), info_briefs.c.id.desc()))
        if submitter is not None:
            query = query.where(info_briefs.c.submitter == submitter)
        return self._with_files(list(self.conn.execute(query)))

    def get_brief(self, brief_id: int) -> StoredBrief | None:
        """One brief (None when unknown)."""
        found = self._with_files(list(self.conn.execute(select(info_briefs).where(info_briefs.c.id == brief_id))))
        return found[0] if found else None

    def _with_files(self, briefs: list[Any]) -> list[StoredBrief]:
        files: dict[int, list[tuple[int, str, int]]] = {}
        if briefs:
            for f in self.conn.execute(select(info_brief_files.c.id, info_brief_files.c.brief_id,
                                              info_brief_files.c.name, info_brief_files.c.size)
                                       .where(info_brief_files.c.brief_id.in_([b.id for b in briefs]))
                                       .order_by(info_brief_files.c.id)):
                files.setdefault(f.brief_id, []).append((f.id, f.name, f.size))
        return [StoredBrief(b.id, b.submitter, b.submitter_name, b.title, b.text, b.submitted_at, b.submitted_by,
                            files.get(b.id, [])) for b in briefs]

    def brief_file(self, file_id: int) -> tuple[str, str, bytes, str] | None:
        """An attachment: (name, MIME type, bytes, submitter), or None."""
        row = self.conn.execute(select(info_brief_files.c.name, info_brief_files.c.mime, info_brief_files.c.data,
                                       info_briefs.c.submitter)
                                .join(info_briefs, info_briefs.c.id == info_brief_files.c.brief_id)
                                .where(info_brief_files.c.id == file_id)).first()
        return (row.name, row.mime, bytes(row.data), row.submitter) if row is not None else None
