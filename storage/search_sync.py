"""Keeps the Elasticsearch copy in step with the SQL store, durably.

The SQL store is the buffer: a post is marked in ``search_sync`` only after Elasticsearch has
acknowledged it, so an outage (or a kill mid-bulk) leaves the rest unmarked and the next pass
replays them; documents carry the post id as ``_id``, so a replay never doubles one. If the
cluster lost data (a restore, an emulator restart), ``reconcile`` notices the count mismatch and
re-sends everything.

Unit-scoped search finds a post in an incident by the incident's CURRENT unit
(``storage.search.current_unit_sql``), so each document carries that unit, and a post is sent
again when its incident was (re)assigned or it joined an incident after it was sent: the filter
then stays in the Elasticsearch query, and a reassigned incident moves within one sync pass.
Its ``indexed_at`` is the time the pass read the row less ``RESEND_MARGIN``, so an assignment
committed while the pass ran is never missed (it costs at most one extra re-send).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from core.errors import StoreError
from core.timeutil import utcnow
from storage.es_posts import EsPostIndex
from storage.schema import search_sync
from storage.search import JOINS, as_utc, current_unit_sql
from storage.sql import SqlStore

Tokenize = Callable[[str], list[str]]
Grams = Callable[[str], list[str]]
# Far longer than an assignment's transaction (milliseconds), short enough that a post attached to an
# incident just before a pass is rarely sent twice.
RESEND_MARGIN = dt.timedelta(seconds=10)


@dataclass(slots=True)
class SyncReport:
    """What one sync pass did."""

    indexed: int = 0
    pending: int = 0  # still waiting (e.g. the cluster went away mid-pass)
    error: str | None = None


def _doc(row: Any, tokenize: Tokenize, grams: Grams | None) -> dict[str, Any]:
    engagement = _json(row.engagement) or {}
    body = f"{row.title}\n{row.text}"
    return {
        "post_id": row.id, "source": row.source, "url": row.url, "title": row.title, "text": row.text,
        "tokens": " ".join(tokenize(body)), "grams": " ".join(grams(body)) if grams else "", "author": row.author,
        "published_at": as_utc(row.published_at), "fetched_at": as_utc(row.fetched_at),
        "day": as_utc(row.published_at or row.fetched_at), "relevant": bool(row.relevant),
        "unit_code": row.unit_code, "unit": row.unit, "incident_id": row.incident_id, "topic": row.topic,
        "topics": list(_json(row.topics) or []), "polarity": row.polarity, "sentiment": row.sentiment,
        **{k: int(engagement.get(k, 0)) for k in ("reposts", "comments", "likes")},
    }


def _json(value: Any) -> Any:
    # Read with text SQL, a JSON column comes back as its text on SQLite.
    return json.loads(value) if isinstance(value, str) else value


# Posts the copy lacks or holds with a stale unit: never sent, or in an incident they joined or that
# was (re)assigned since they were sent. Paged by post id so one pass sends each at most once.
_DUE = (f"SELECT r.id, r.source, r.url, r.title, r.text, r.author, r.published_at, r.fetched_at, r.engagement, "
        f"a.relevant, a.topic, a.topics, a.polarity, a.sentiment, ip.incident_id, "
        f"{current_unit_sql()} AS unit_code, {current_unit_sql('unit')} AS unit "
        f"FROM raw_posts r {JOINS} LEFT JOIN search_sync s ON s.post_id = r.id "
        "WHERE a.post_id IS NOT NULL AND r.id > :after AND (s.post_id IS NULL OR ip.added_at > s.indexed_at "
        "OR EXISTS (SELECT 1 FROM assignments g WHERE g.incident_id = ip.incident_id "
        "AND g.assigned_at > s.indexed_at)) ORDER BY r.id LIMIT :n")


def sync_posts(store: SqlStore, index: EsPostIndex, tokenize: Tokenize, *, batch: int = 500,
               now: dt.datetime | None = None, refresh: bool = False, grams: Grams | None = None) -> SyncReport:
    """Send analysed posts not yet in Elasticsearch (or whose unit changed), a batch at a time,
    marking only what it took.

    ``tokenize`` gives the words of a text and ``grams`` its character bigrams (optional), the
    same functions the SQLite index uses (``indexing.search_index``)."""
    report = SyncReport()
    after = 0
    while True:
        read_at = (now or utcnow()) - RESEND_MARGIN
        with store.read() as tx:
            rows = list(tx.conn.execute(text(_DUE), {"after": after, "n": batch}))
        if not rows:
            break
        after = rows[-1].id
        try:
            done = index.bulk_index([_doc(r, tokenize, grams) for r in rows], refresh=refresh)
        except StoreError as exc:
            report.error = str(exc)
            break
        if done:
            with store.begin() as tx:
                tx.conn.execute(search_sync.delete().where(search_sync.c.post_id.in_(done)))
                tx.conn.execute(search_sync.insert(), [{"post_id": pid, "indexed_at": read_at} for pid in done])
        report.indexed += len(done)
        if len(done) < len(rows):
            report.error = f"{len(rows) - len(done)} documents refused; see the log"
            break
    with store.read() as tx:
        report.pending = lag(tx.conn, now or utcnow()).posts
    return report


@dataclass(slots=True)
class SyncLag:
    """How far the copy is behind the record: analysed posts not acknowledged, and the age of the oldest."""

    posts: int
    oldest_seconds: float | None


def lag(conn: Connection, now: dt.datetime) -> SyncLag:
    """The copy's lag, from the SQL store alone (cheap enough for /healthz; never asks the cluster)."""
    row = conn.execute(text("SELECT count(*), min(a.analysed_at) FROM analyses a "
                            "LEFT JOIN search_sync s ON s.post_id = a.post_id WHERE s.post_id IS NULL")).one()
    oldest = as_utc(row[1])
    return SyncLag(int(row[0]), None if oldest is None else max(0.0, (now - oldest).total_seconds()))


@dataclass(slots=True)
class ReconcileReport:
    """What one reconcile pass found and refilled."""

    in_cluster: int = 0
    recorded: int = 0  # posts the store had marked as acknowledged
    refilled: int = 0  # posts sent again because the cluster had lost them
    error: str | None = None


def reconcile(store: SqlStore, index: EsPostIndex, tokenize: Tokenize, *, grams: Grams | None = None,
              refresh: bool = False, now: dt.datetime | None = None) -> ReconcileReport:
    """If the cluster holds fewer posts than recorded as sent (a restore, a lost node), forget the
    marks and re-send everything (idempotently: documents are keyed by post id)."""
    report = ReconcileReport()
    with store.read() as tx:
        report.recorded = int(tx.conn.execute(text("SELECT count(*) FROM search_sync")).scalar_one())
    try:
        report.in_cluster = index.count()
    except StoreError as exc:
        report.error = str(exc)
        return report
    if report.in_cluster >= report.recorded:
        return report
    with store.begin() as tx:
        tx.conn.execute(search_sync.delete())
    sync = sync_posts(store, index, tokenize, grams=grams, refresh=refresh, now=now)
    report.refilled, report.error = sync.indexed, sync.error
    return report
