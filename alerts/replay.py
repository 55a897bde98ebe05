"""Replay labelled posts through the real detection pass, in published-time order, in a
throwaway store: what ``ecowatch eval`` scores the incident layer on.

Why a replay and not a pure call: grouping, follow-ups and grading depend on what is already
stored (open incidents, their keywords and reach, the post velocity), so the only honest measure
is ``import`` + ``process`` as production runs them, each post processed at its own time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alerts.config import alerts_config
from alerts.detection import process_pending
from core.models import RawPost
from core.timeutil import parse_time
from nlp.analyzer import Analyzer
from storage.schema import analyses, incident_posts, incidents
from storage.sql import open_store


@dataclass(slots=True, frozen=True)
class ReplayedPost:
    """What the pipeline made of one labelled line."""

    relevant: bool
    polarity: str | None
    incident: int | None  # the incident it ended in (merges followed), None when in none
    role: str | None  # its role in that incident (report, official, progress, praise, unresolved)


@dataclass(slots=True)
class Replay:
    """Per-line outcome (same order as the input) and per-incident facts."""

    posts: list[ReplayedPost]
    grades: dict[int, str]  # incident → grade
    reasons: dict[int, list[str]]  # incident → the grading rules that fired
    openers: dict[int, int]  # incident → index of the line that opened it


def _post(row: Mapping[str, Any], number: int) -> RawPost:
    when = parse_time(str(row.get("published_at") or ""))
    if when is None:
        raise ValueError(f"line {number}: published_at missing or not a time")
    engagement = {k: int(row.get(k) or 0) for k in ("reposts", "comments", "likes", "followers")}
    return RawPost(source=str(row.get("source") or "eval"), text=str(row["text"]), title=str(row.get("title") or ""),
                   url=str(row.get("url") or f"https://eval.invalid/{row.get('id', number)}"),
                   author=row.get("author"), published_at=when, fetched_at=when, engagement=engagement,
                   reply_to=str(row["reply_to"]) if row.get("reply_to") else None)


def _check_threads(posts: list[RawPost], order: list[int]) -> None:
    """A line's ``reply_to`` must be the ``url`` of a line before it in time (the post it was
    collected under): anything else is that line's error. Why not ignore it: a thread that names
    no line is a typo in the set, and scoring it as "no thread" would quietly measure the
    wrong thing."""
    seen: set[str] = set()
    for i in order:
        parent = posts[i].reply_to
        if parent is not None and parent not in seen:
            raise ValueError(f"line {i + 1}: reply_to {parent!r} is not the url of an earlier line")
        seen.add(str(posts[i].url))  # every replayed line has one (made up from its id when missing)


def replay(rows: Iterable[Mapping[str, Any]], analyzer: Analyzer) -> Replay:
    """Store and process each line at its ``published_at`` (oldest first) in a fresh SQLite
    store; return where every line ended up. Lines keep their URLs apart (one is made up from
    the id when missing) so none is de-duplicated away."""
    rows = list(rows)
    posts = [_post(r, i + 1) for i, r in enumerate(rows)]
    order = sorted(range(len(posts)), key=lambda i: (posts[i].published_at, i))
    _check_threads(posts, order)
    config = alerts_config(analyzer.jurisdiction)
    with tempfile.TemporaryDirectory(prefix="ecowatch-eval-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'eval.db'}")
        try:
            ids: dict[int, int] = {}
            for i in order:
                at = posts[i].published_at
                assert at is not None
                with store.begin() as tx:
                    new = tx.add_posts([posts[i]], now=at).new_ids
                if not new:  # the store took it for an earlier line: same URL, or same author and text
                    raise ValueError(f"line {i + 1}: a copy of an earlier line (same URL, or same author and text)")
                ids[i] = new[0]
                process_pending(store, analyzer, now=at, config=config)
            with store.read() as tx:
                merged = dict(tx.conn.execute(select(incidents.c.id, incidents.c.merged_into)).all())
                graded = tx.conn.execute(select(incidents.c.id, incidents.c.grade, incidents.c.grade_reasons)).all()
                links = {r.post_id: (r.incident_id, r.role, r.added_at) for r in tx.conn.execute(
                    select(incident_posts.c.post_id, incident_posts.c.incident_id, incident_posts.c.role,
                           incident_posts.c.added_at))}
                verdicts = {r.post_id: (bool(r.relevant), r.polarity) for r in tx.conn.execute(
                    select(analyses.c.post_id, analyses.c.relevant, analyses.c.polarity))}
        finally:
            store.dispose()

    def final(incident_id: int) -> int:
        seen = set()
        while merged.get(incident_id) and incident_id not in seen:
            seen.add(incident_id)
            incident_id = int(merged[incident_id])
        return incident_id

    rank = {i: n for n, i in enumerate(order)}
    out: list[ReplayedPost] = []
    first: dict[int, tuple[Any, int]] = {}
    for i in range(len(rows)):
        relevant, polarity = verdicts.get(ids[i], (False, None))
        link = links.get(ids[i])
        incident = final(link[0]) if link else None
        out.append(ReplayedPost(relevant, polarity, incident, link[1] if link else None))
        if link:
            key = (link[2], rank[i])
            if link[0] not in first or key < first[link[0]][0]:
                first[link[0]] = (key, i)
    openers = {incident_id: i for incident_id, (_, i) in first.items()}
    return Replay(out, {int(r.id): str(r.grade) for r in graded},
                  {int(r.id): list(r.grade_reasons or []) for r in graded}, openers)
