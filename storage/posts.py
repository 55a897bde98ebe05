"""The posts aggregate: raw posts (deduplicated by URL, or by author and text), their snapshots
on disk, their analyses and the official replies to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from core.models import Analysis, RawPost, content_fingerprint, url_fingerprint
from core.timeutil import utcnow
from storage.rows import inserted_id, row_to_analysis, row_to_post
from storage.schema import analyses, post_replies, raw_posts
from storage.search import facets_kept_at_once

_ORIGINAL_WRITERS = 4  # threads writing a batch's originals, each a share of them
_ORIGINAL_SUFFIX = ".txt"


def _keep_originals(items: Sequence[tuple[str, str]]) -> None:
    """Write posts' originals (their snapshots) once: at first sight, through a temporary file so
    a crash never leaves half of one. Their folders exist already (made once per batch).

    On ``os`` calls and path strings: the same steps through ``pathlib`` (``exists``,
    ``with_suffix``, ``write_text``, ``replace``) cost twice the CPU of the files' own system
    calls, 0.4 against 0.2 CPU s for 5,000 files (a fifth of an import's ``add_posts``)."""
    for path, content in items:
        if os.path.exists(path):
            continue
        tmp = path[:-len(_ORIGINAL_SUFFIX)] + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # the umask applies, as for open()
        try:
            data = memoryview(content.encode("utf-8"))
            while data:  # a regular file takes it all in one write but for a full disk or a signal
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.replace(tmp, path)


@dataclass(slots=True)
class AddResult:
    """What storing a batch of posts did."""

    new: int = 0
    updated: int = 0  # seen before; engagement figures refreshed
    duplicate: int = 0  # seen before, nothing to change
    new_ids: list[int] | None = None


def counted_at(published_at: dt.datetime | None, collected_at: dt.datetime, backfill: bool) -> dt.datetime:
    """When briefings count a post (the one rule; README "Briefing periods"): a backfill (an
    import of another collector's export) in the period it was published, a live-collected post
    when it was collected. A backfill without a publish time, or dated after its collection,
    counts when collected. Pure."""
    if backfill and published_at is not None:
        return min(published_at, collected_at)
    return collected_at


def _content_hash(post: RawPost) -> str:
    # The same text by the same author at two addresses is one post; by two authors it is two
    # voices, and reach counts both.
    return hashlib.sha1(f"{post.author or ''}\x00{content_fingerprint(post.title, post.text)}".encode()).hexdigest()


_INSERT_POST = raw_posts.insert()
_IDS_BY_FINGERPRINT = select(raw_posts.c.id, raw_posts.c.fingerprint).where(
    raw_posts.c.fingerprint.in_(bindparam("b_keys", expanding=True)))
# A batch's stored twins, looked up by its URL keys and by its content keys: two statements a batch.
_POSTS_BY = {kind: select(raw_posts.c.id, raw_posts.c.engagement, column)
             .where(column.in_(bindparam("b_keys", expanding=True)))
             for kind, column in (("fp", raw_posts.c.fingerprint), ("ch", raw_posts.c.content_hash))}
_LOOKUP_CHUNK = 500  # keys per lookup query, well under every database's parameter limit
# The per-post detection path (alerts.detection.process_pending) runs these once or more per post:
# built once with bound parameters, since building a statement with ``.values()`` per call cost
# more than SQLite's own work (profile in bench/alerts.py's README section).
_CLAIM_POST = (update(raw_posts).where(raw_posts.c.id == bindparam("b_id"), raw_posts.c.processed_at.is_(None))
               .values(processed_at=bindparam("processed_at"), process_error=bindparam("process_error")))
_CLAIM_POSTS = (update(raw_posts).where(raw_posts.c.id.in_(bindparam("b_ids", expanding=True)),
                                        raw_posts.c.processed_at.is_(None))
                .values(processed_at=bindparam("processed_at")).returning(raw_posts.c.id))
_DELETE_ANALYSES = analyses.delete().where(analyses.c.post_id.in_(bindparam("b_ids", expanding=True)))
_INSERT_ANALYSIS = analyses.insert()


class PostsTx:
    """Post operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection
    and ``self.snapshot_dir`` where originals are kept (None: not kept)."""

    conn: Connection
    snapshot_dir: Path | None

    def add_posts(self, posts: Iterable[RawPost], now: dt.datetime | None = None,
                  backfill: bool = False) -> AddResult:
        """Store posts; one seen before (same URL, or same author and text) is not stored again,
        but its engagement figures are refreshed. ``backfill``: the posts come from an import and
        count in briefings when they were published (:func:`counted_at`). The original of each new
        post is kept on disk (its snapshot) before the transaction commits."""
        now = now or utcnow()
        new_ids: list[int] = []
        result = AddResult(new_ids=new_ids)
        batch = [(post, post.fingerprint, _content_hash(post)) for post in posts]
        # The stored posts the batch may repeat, found in two queries for the whole batch (two per
        # post cost more than the insert: bench/pipeline.py); each as [id, engagement], shared by
        # its URL and content keys, and kept current as the batch goes. A new post's entry holds
        # its row to insert (id None) until the batch's rows are inserted together.
        known: dict[tuple[str, str], list[Any]] = {}
        for kind, column, values in (("fp", raw_posts.c.fingerprint, {fp for _, fp, _ in batch}),
                                     ("ch", raw_posts.c.content_hash, {ch for _, _, ch in batch})):
            ordered = sorted(values)
            for start in range(0, len(ordered), _LOOKUP_CHUNK):
                rows = self.conn.execute(_POSTS_BY[kind], {"b_keys": ordered[start:start + _LOOKUP_CHUNK]})
                for row in rows:
                    known.setdefault((kind, getattr(row, column.name)), [row.id, row.engagement, None])
        fresh: list[dict[str, Any]] = []
        originals: list[tuple[str, str]] = []
        # Originals are kept one folder a month (None: not kept), worked out once a batch.
        folder = os.path.join(self.snapshot_dir, now.strftime("%Y-%m")) if self.snapshot_dir is not None else None
        for post, fp, chash in batch:
            found = known.get(("fp", fp)) or known.get(("ch", chash))
            if found is not None:
                merged = dict(found[1] or {})
                for key, value in post.engagement.items():
                    merged[key] = max(int(value), int(merged.get(key, 0)))
                if merged != (found[1] or {}):
                    if found[2] is None:
                        self.conn.execute(update(raw_posts).where(raw_posts.c.id == found[0])
                                          .values(engagement=merged))
                    else:  # a twin earlier in this batch, not inserted yet
                        found[2]["engagement"] = merged
                    found[1] = merged
                    result.updated += 1
                else:
                    result.duplicate += 1
                continue
            # By the fingerprint as the caller has it: working it out again (a URL parsed and
            # rebuilt) was a tenth of an import.
            snapshot = (os.path.join(folder, hashlib.sha1(fp.encode()).hexdigest() + _ORIGINAL_SUFFIX)
                        if folder is not None else None)
            if snapshot is not None:
                body = post.raw if post.raw is not None else f"{post.title}\n\n{post.text}"
                originals.append((snapshot, f"{post.url or ''}\n{now.isoformat()}\n\n{body}"))
            new_row: dict[str, Any] = {
                "fingerprint": fp, "content_hash": chash, "source": post.source, "url": post.url,
                "title": post.title or "", "text": post.text, "author": post.author,
                "published_at": post.published_at, "fetched_at": post.fetched_at or now,
                "counted_at": counted_at(post.published_at, post.fetched_at or now, backfill),
                "engagement": dict(post.engagement), "snapshot": snapshot,
                "processed_at": None, "process_error": None, "reply_to": post.reply_to}
            fresh.append(new_row)
            record = [None, new_row["engagement"], new_row]
            known.setdefault(("fp", fp), record)
            known.setdefault(("ch", chash), record)
        # The originals are written by a few threads while the rows are inserted (creating
        # thousands of small files was half an import: bench/pipeline.py), all before the commit;
        # each thread writes a share in a loop (a task per file cost more CPU than the files).
        if folder is not None and originals:
            os.makedirs(folder, exist_ok=True)
        with ThreadPoolExecutor(max_workers=_ORIGINAL_WRITERS) as pool:
            written = pool.map(_keep_originals, [originals[i::_ORIGINAL_WRITERS] for i in range(_ORIGINAL_WRITERS)])
            ids = self._insert_posts(fresh)
            list(written)  # raises what a write raised
        stored = [i for i in ids if i is not None]
        result.new += len(stored)
        result.duplicate += len(ids) - len(stored)
        new_ids.extend(stored)
        return result

    def _insert_posts(self, rows: list[dict[str, Any]]) -> list[int | None]:
        """Insert new posts' rows; each one's id, or None for one another writer stored meanwhile
        (PostgreSQL: the batch is then inserted one row at a time, each under a savepoint). The
        rows go in one executemany and their ids are read back by fingerprint (unique): SQLite's
        RETURNING gives no order, so SQLAlchemy sent an ordered RETURNING insert row by row."""
        if not rows:
            return []
        keys = [row["fingerprint"] for row in rows]
        try:
            with self.conn.begin_nested(), facets_kept_at_once(self.conn) as touched:
                self.conn.execute(_INSERT_POST, rows)
                by_key: dict[str, int] = {}
                for start in range(0, len(keys), _LOOKUP_CHUNK):
                    found = self.conn.execute(_IDS_BY_FINGERPRINT, {"b_keys": keys[start:start + _LOOKUP_CHUNK]})
                    by_key.update((r.fingerprint, int(r.id)) for r in found)
                touched.extend(by_key.values())
        except IntegrityError:
            ids: list[int | None] = []
            for row in rows:
                try:
                    with self.conn.begin_nested():
                        ids.append(inserted_id(self.conn.execute(_INSERT_POST, row)))
                except IntegrityError:
                    ids.append(None)
            return ids
        return [by_key[key] for key in keys]

    def sweep_snapshots(self, now: dt.datetime, min_age: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Delete snapshot files no stored post refers to, older than ``min_age``; how many.

        A snapshot is written before its post's transaction commits, so a killed import (or
        collection) leaves the files of its last, uncommitted batch behind; ``ecowatch import``
        sweeps them at start. Younger files may belong to a transaction still running elsewhere."""
        if self.snapshot_dir is None or not self.snapshot_dir.exists():
            return 0
        # By file name (the SHA-1 of the post's fingerprint): the stored path may have been written
        # under another spelling of the data folder.
        kept = {Path(p).name for (p,) in self.conn.execute(select(raw_posts.c.snapshot)
                                                           .where(raw_posts.c.snapshot.is_not(None)))}
        cutoff = (now - min_age).timestamp()
        swept = 0
        for path in self.snapshot_dir.rglob("*"):
            if path.suffix in (".txt", ".tmp") and path.name not in kept and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                swept += 1
        return swept

    def count_pending(self) -> int:
        """How many stored posts are not yet processed (the progress of ``ecowatch process``)."""
        return int(self.conn.execute(select(func.count()).select_from(raw_posts)
                                     .where(raw_posts.c.processed_at.is_(None))).scalar_one())

    def known_urls(self, source: str) -> set[str]:
        """Normalised URLs already stored for ``source`` (incremental crawling skips them)."""
        rows = self.conn.execute(select(raw_posts.c.fingerprint).where(raw_posts.c.source == source,
                                                                      raw_posts.c.fingerprint.like("url:%")))
        return {r.fingerprint[4:] for r in rows}

    def set_reply(self, post: RawPost, text: str, replied_at: dt.datetime | None, replied_by: str | None,
                  now: dt.datetime | None = None) -> bool:
        """Record (or update) the official reply to a stored post; False if the post is unknown."""
        row = self.conn.execute(select(raw_posts.c.id).where((raw_posts.c.fingerprint == post.fingerprint)
                                                             | (raw_posts.c.content_hash == _content_hash(post)))
                                .limit(1)).first()
        if row is None:
            return False
        self.conn.execute(post_replies.delete().where(post_replies.c.post_id == row.id))
        self.conn.execute(post_replies.insert().values(post_id=row.id, text=text, replied_at=replied_at,
                                                       replied_by=replied_by, seen_at=now or utcnow()))
        return True

    def unprocessed_posts(self, limit: int = 500) -> list[RawPost]:
        """Posts stored but not yet analysed, oldest first."""
        rows = self.conn.execute(
            select(raw_posts).where(raw_posts.c.processed_at.is_(None)).order_by(raw_posts.c.id).limit(limit)
        )
        return [row_to_post(r) for r in rows]

    def thread_parent(self, url: str) -> str | None:
        """The ``reply_to`` of the stored post at ``url`` (the post it answers), or None: a thread
        is walked up through comments that joined no incident (alerts.detection)."""
        return self.conn.execute(select(raw_posts.c.reply_to).where(
            raw_posts.c.fingerprint == url_fingerprint(url))).scalar()

    def get_post(self, post_id: int) -> RawPost | None:
        """One stored post, or None."""
        row = self.conn.execute(select(raw_posts).where(raw_posts.c.id == post_id)).first()
        return row_to_post(row) if row else None

    def count_posts(self) -> int:
        """How many posts are stored."""
        return int(self.conn.execute(select(func.count()).select_from(raw_posts)).scalar_one())

    def claim_post(self, post_id: int, now: dt.datetime, error: str | None = None) -> bool:
        """Mark a post processed (with the error, if analysis failed); False if another worker
        already did, in which case the caller must roll back what it did for this post."""
        done = self.conn.execute(_CLAIM_POST, {"b_id": post_id, "processed_at": now, "process_error": error})
        return done.rowcount == 1

    def claim_posts(self, post_ids: Sequence[int], now: dt.datetime) -> set[int]:
        """Mark posts processed in one statement; the ids this call claimed. One missing was
        claimed by another worker already: the caller leaves it to them and writes nothing for it."""
        if not post_ids:
            return set()
        return set(self.conn.execute(_CLAIM_POSTS, {"b_ids": list(post_ids), "processed_at": now}).scalars())

    def save_analysis(self, post_id: int, analysis: Analysis, now: dt.datetime) -> None:
        """Store (or replace) a post's analysis."""
        self.save_analyses([(post_id, analysis)], now)

    def save_analyses(self, items: Sequence[tuple[int, Analysis]], now: dt.datetime) -> None:
        """Store (or replace) the analyses of many posts: two statements however many there are
        (the detection pass writes a group of posts' analyses at once)."""
        if not items:
            return
        ids = [post_id for post_id, _ in items]
        with facets_kept_at_once(self.conn) as touched:  # their facet rows kept in a few statements
            touched.extend(ids)
            self.conn.execute(_DELETE_ANALYSES, {"b_ids": ids})
            self.conn.execute(_INSERT_ANALYSIS, [dict(
                post_id=post_id, relevant=analysis.relevant, unit=analysis.unit, unit_code=analysis.unit_code,
                confidence=analysis.confidence, topics=analysis.topics, topic=analysis.topic,
                polarity=analysis.polarity.value, sentiment=analysis.sentiment,
                evidence=[e.to_dict() for e in analysis.evidence], signals=analysis.signals,
                place=analysis.place, analysed_at=now,
            ) for post_id, analysis in items])

    def get_analysis(self, post_id: int) -> Analysis | None:
        """A post's stored analysis, or None."""
        row = self.conn.execute(select(analyses).where(analyses.c.post_id == post_id)).first()
        return row_to_analysis(row) if row else None
