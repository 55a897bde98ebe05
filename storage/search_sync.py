"""Keeps the Elasticsearch copy in step with the SQL store, durably.

The SQL store is the buffer: a post is marked in ``search_sync`` only after Elasticsearch has
acknowledged it, so an outage (or a kill mid-bulk) leaves the rest unmarked and the next pass
replays them; documents carry the post id as ``_id``, so a replay never doubles one. If the
cluster lost data (a restore, an emulator restart), ``reconcile`` notices the count mismatch and
re-sends everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.errors import StoreError
from core.timeutil import utcnow
from storage.es_posts import EsPostIndex
from storage.schema import analyses, raw_posts, search_sync
from storage.sql import SqlStore

Tokenize = Callable[[str], list[str]]
Grams = Callable[[str], list[str]]


@dataclass(slots=True)
class SyncReport:
    """What one sync pass did."""

    indexed: int = 0
    pending: int = 0  # still waiting (e.g. the cluster went away mid-pass)
    error: str | None = None


def _doc(row: Any, tokenize: Tokenize, grams: Grams | None) -> dict[str, Any]:
    engagement = row.engagement or {}
    body = f"{row.title}\n{row.text}"
    return {
        "post_id": row.id, "source": row.source, "url": row.url, "title": row.title, "text": row.text,
        "tokens": " ".join(tokenize(body)), "grams": " ".join(grams(body)) if grams else "", "author": row.author,
        "published_at": row.published_at, "fetched_at": row.fetched_at,
        "day": row.published_at or row.fetched_at, "relevant": bool(row.relevant),
        "unit_code": row.unit_code, "unit": row.unit, "topic": row.topic, "topics": list(row.topics or []),
        "polarity": row.polarity, "sentiment": row.sentiment,
        **{k: int(engagement.get(k, 0)) for k in ("reposts", "comments", "likes")},
    }


def sync_posts(store: SqlStore, index: EsPostIndex, tokenize: Tokenize, *, batch: int = 500,
               now: dt.datetime | None = None, refresh: bool = False, grams: Grams | None = None) -> SyncReport:
    """Send analysed posts not yet in Elasticsearch, a batch at a time, marking only what it took.

    ``tokenize`` gives the words of a text and ``grams`` its character bigrams (optional), the
    same functions the SQLite index uses (``indexing.search_index``)."""
    search_sync.create(store.engine, checkfirst=True)
    report = SyncReport()
    query = (select(raw_posts, analyses.c.relevant, analyses.c.unit_code, analyses.c.unit, analyses.c.topic,
                    analyses.c.topics, analyses.c.polarity, analyses.c.sentiment)
             .join(analyses, analyses.c.post_id == raw_posts.c.id)
             .outerjoin(search_sync, search_sync.c.post_id == raw_posts.c.id)
             .where(search_sync.c.post_id.is_(None)).order_by(raw_posts.c.id).limit(batch))
    while True:
        with store.read() as tx:
            rows = list(tx.conn.execute(query))
        if not rows:
            break
        try:
            done = index.bulk_index([_doc(r, tokenize, grams) for r in rows], refresh=refresh)
        except StoreError as exc:
            report.error = str(exc)
            break
        if done:
            with store.begin() as tx:
                at = now or utcnow()
                tx.conn.execute(search_sync.insert(), [{"post_id": pid, "indexed_at": at} for pid in done])
        report.indexed += len(done)
        if len(done) < len(rows):
            report.error = f"{len(rows) - len(done)} documents refused; see the log"
            break
    with store.read() as tx:
        analysed = tx.conn.execute(select(func.count()).select_from(analyses)).scalar_one()
        synced = tx.conn.execute(select(func.count()).select_from(search_sync)).scalar_one()
    report.pending = int(analysed) - int(synced)
    return report


def reconcile(store: SqlStore, index: EsPostIndex) -> bool:
    """If the cluster holds fewer posts than recorded as sent, forget the marks so the next sync
    re-sends everything (idempotently). Returns True when a re-send was scheduled."""
    search_sync.create(store.engine, checkfirst=True)
    with store.read() as tx:
        synced = int(tx.conn.execute(select(func.count()).select_from(search_sync)).scalar_one())
    if index.count() >= synced:
        return False
    with store.begin() as tx:
        tx.conn.execute(search_sync.delete())
    return True
