"""Full-text search over posts, with facets, on SQLite FTS5.

FTS5's unicode61 tokenizer does not split Chinese and its trigram tokenizer cannot match
two-character words (污水), so the index holds, per post, two space-joined columns the caller
computes: ``tokens`` (jieba search-mode words) and ``grams`` (the character bigrams of each run of
Chinese, in order). A query word matches a post that has it as a jieba word OR contains it
literally (the phrase of its bigrams): jieba alone splits 也黑臭 as 也/黑/臭 but 污水黑臭 as
污水/黑臭, so the bigram phrase keeps recall while the words keep ranking sensible.
Storage does not segment text (it may not import nlp): the caller passes tokens in.

On another database (PostgreSQL) the same functions fall back to substring matching; the
Elasticsearch backend is the answer at scale there.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

FACETS = ("unit_code", "topic", "source", "polarity", "day")


@dataclass(slots=True)
class SearchFilters:
    """Restrictions on a search; None = any."""

    unit_code: str | None = None
    topic: str | None = None
    source: str | None = None
    polarity: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(slots=True)
class SearchHit:
    """One matching post (title/text are untrusted crawled text)."""

    post_id: int
    source: str
    url: str | None
    title: str
    text: str
    published_at: dt.datetime | None
    unit_code: str | None
    topic: str | None
    polarity: str | None
    incident_id: int | None


@dataclass(slots=True)
class SearchResult:
    """A page of hits, the total, and counts per facet value over every match."""

    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(terms: Iterable[tuple[str, Sequence[str]]]) -> str:
    """An FTS5 query requiring every term, given as (word, its bigrams); each part is quoted, so
    user input is never FTS syntax."""
    parts = []
    for word, grams in terms:
        if not word.strip() or not any(ch.isalnum() for ch in word):
            continue
        alternatives = [f"tokens : {_quote(word)}"]
        if grams:
            alternatives.append(f"grams : {_quote(' '.join(grams))}")
        parts.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(parts)


# The unit a post belongs to for unit-scoped search and its facet: once the post is in an incident,
# the incident's current unit (the duty desk may reassign it; the old unit must stop finding the post
# and the new one start), else the unit its analysis placed it in.
def current_unit_sql(column: str = "unit_code") -> str:
    """SQL for the post's current unit ``column`` (unit_code or unit) over the aliases r, a, ip, i
    of ``JOINS``; the Elasticsearch copy is written with the same rule (storage.search_sync)."""
    return f"CASE WHEN ip.incident_id IS NULL THEN a.{column} ELSE i.{column} END"


_UNIT = current_unit_sql()
JOINS = ("LEFT JOIN analyses a ON a.post_id = r.id LEFT JOIN incident_posts ip ON ip.post_id = r.id "
          "LEFT JOIN incidents i ON i.id = ip.incident_id")


def _sqlite_matches(conn: Connection, base: str, params: dict[str, Any], *, limit: int, offset: int,
                    sort: str) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    """Total, facet counts and the page's post ids from one pass over every match (SQLite).

    At 100,000 matches the per-row costs decide: the pass runs on the driver's cursor (plain
    tuples, no result-row objects), and the day is grouped by its UTC hour text (a substring)
    rather than calling date() per row; the few distinct hours are turned into Shanghai days
    afterwards, by SQLite's own date(), so the day values are exactly what date() per row gave.
    The page is picked with a heap, not by sorting every match."""
    order = "m.rank" if sort == "relevance" else "coalesce(r.published_at, r.fetched_at)"
    sql = (f"SELECT r.id, {_UNIT}, a.topic, r.source, a.polarity, "
           f"substr(coalesce(r.published_at, r.fetched_at), 1, 13), {order} {base}")
    raw = conn.connection.driver_connection
    assert raw is not None
    compiled = conn.dialect.statement_compiler(conn.dialect, text(sql))  # :name -> ? in bound order
    args = [_driver_value(params[name]) for name in compiled.positiontup or []]
    rows = raw.execute(compiled.string, args).fetchall()
    if not rows:
        return 0, {f: {} for f in FACETS}, []
    ids, units, topics, sources, polarities, hours, keys = zip(*rows, strict=True)
    by_hour = Counter(hours)
    day_of = _shanghai_days(conn, list(by_hour))
    days: Counter[str | None] = Counter()
    for hour, n in by_hour.items():
        days[day_of[hour]] += n
    facets = {name: {("" if v is None else str(v)): n for v, n in counter.most_common(50)}
              for name, counter in zip(FACETS, (Counter(units), Counter(topics), Counter(sources),
                                                Counter(polarities), days), strict=True)}
    want = offset + limit
    if sort == "relevance":  # best bm25 first (lower is better), newer id first on ties
        best = heapq.nsmallest(want, zip(keys, (-i for i in ids), strict=True))
        page = [-neg for _k, neg in best[offset:]]
    else:  # newest first, higher id first on ties
        best = heapq.nlargest(want, zip((str(k or "") for k in keys), ids, strict=True))
        page = [i for _k, i in best[offset:]]
    return len(rows), facets, page


def _driver_value(value: Any) -> Any:
    # The driver gets what SQLAlchemy would bind: naive UTC datetimes as its text form.
    return value.isoformat(" ") if isinstance(value, dt.datetime) else value


def _shanghai_days(conn: Connection, hours: list[str | None]) -> dict[str | None, str | None]:
    """Asia/Shanghai day of each 'YYYY-MM-DD HH' UTC hour prefix, by SQLite's date() (one statement)."""
    out: dict[str | None, str | None] = {None: None}
    keys = [h for h in hours if h is not None]
    if keys:
        rows = conn.execute(text(
            "SELECT value, date(CASE WHEN length(value) = 13 THEN value || ':00:00' ELSE value END, '+8 hours') "
            "FROM json_each(:keys)"), {"keys": json.dumps(keys)})
        out.update((r[0], r[1]) for r in rows)
    return out


def _generic_matches(conn: Connection, base: str, params: dict[str, Any], *, limit: int, offset: int,
                     sort: str) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    """Total, facet counts and the page's post ids on another database (substring search)."""
    day = "CAST(coalesce(r.published_at, r.fetched_at) AS DATE)"
    matches = conn.execute(text(
        f"SELECT r.id, {_UNIT}, a.topic, r.source, a.polarity, {day} AS day, "
        f"coalesce(r.published_at, r.fetched_at) AS at {base}"), params).all()
    matches = list(matches)
    columns = list(zip(*matches, strict=True)) if matches else [()] * 7
    facets = {name: {("" if v is None else str(v)): n for v, n in Counter(columns[i]).most_common(50)}
              for i, name in enumerate(FACETS, start=1)}
    matches.sort(key=lambda r: (str(r[6] or ""), r[0]), reverse=True)  # no ranking without FTS: newest first
    return len(matches), facets, [r[0] for r in matches[offset:offset + limit]]


def as_utc(value: Any) -> dt.datetime | None:
    """A stored time (naive UTC, or its text as SQLite returns it to raw SQL) as an aware UTC datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class SearchTx:
    """Full-text search operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def ensure_index(self) -> None:
        """Create the FTS5 table if missing (SQLite only; a no-op elsewhere)."""
        if _sqlite(self.conn):
            self.conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(tokens, grams)")

    def indexed_up_to(self) -> int:
        """The highest post id in the index (posts are indexed in id order)."""
        if not _sqlite(self.conn):
            return 0
        self.ensure_index()
        row = self.conn.exec_driver_sql("SELECT rowid FROM post_fts ORDER BY rowid DESC LIMIT 1").first()
        return int(row[0]) if row else 0

    def posts_to_index(self, limit: int = 1000) -> list[tuple[int, str]]:
        """(post id, title + text) of the posts not indexed yet, oldest first."""
        if not _sqlite(self.conn):
            return []
        mark = self.indexed_up_to()
        rows = self.conn.execute(text("SELECT id, title, text FROM raw_posts WHERE id > :mark ORDER BY id LIMIT :n"),
                                 {"mark": mark, "n": limit})
        return [(r.id, f"{r.title}\n{r.text}") for r in rows]

    def max_post_id(self) -> int:
        """The highest stored post id (0 when there are none)."""
        return int(self.conn.execute(text("SELECT coalesce(max(id), 0) FROM raw_posts")).scalar_one())

    def count_unindexed(self) -> int:
        """How many stored posts the index does not cover yet."""
        if not _sqlite(self.conn):
            return 0
        mark = self.indexed_up_to()
        query = text("SELECT count(*) FROM raw_posts WHERE id > :mark")
        return int(self.conn.execute(query, {"mark": mark}).scalar_one())

    def index_tokens(self, rows: Iterable[tuple[int, Sequence[str], Sequence[str]]]) -> int:
        """Add posts to the index as (post id, word tokens, bigrams); returns how many were added."""
        if not _sqlite(self.conn):
            return 0
        self.ensure_index()
        params = [{"id": pid, "tokens": " ".join(t.replace('"', " ") for t in tokens),
                   "grams": " ".join(g.replace('"', " ") for g in grams)} for pid, tokens, grams in rows]
        if params:
            self.conn.execute(text("INSERT INTO post_fts(rowid, tokens, grams) VALUES (:id, :tokens, :grams)"), params)
        return len(params)

    def search_posts(self, terms: Sequence[tuple[str, Sequence[str]]], filters: SearchFilters, *, limit: int = 20,
                     offset: int = 0, sort: str = "relevance") -> SearchResult:
        """Posts matching every term (word, bigrams), filtered, with facet counts over all matches."""
        where: list[str] = ["1=1"]
        params: dict[str, Any] = {}
        if filters.unit_code is not None:
            where.append(f"{_UNIT} = :unit_code")
            params["unit_code"] = filters.unit_code
        for name in ("topic", "polarity"):
            value = getattr(filters, name)
            if value is not None:
                where.append(f"a.{name} = :{name}")
                params[name] = value
        if filters.source is not None:
            where.append("r.source = :source")
            params["source"] = filters.source
        # Stored datetimes on SQLite are naive UTC text; compare in the same form.
        for name, op in (("since", ">="), ("until", "<")):
            value = getattr(filters, name)
            if value is not None:
                where.append(f"coalesce(r.published_at, r.fetched_at) {op} :{name}")
                params[name] = value.astimezone(dt.UTC).replace(tzinfo=None) if _sqlite(self.conn) else value
        if _sqlite(self.conn):
            expr = match_expression(terms)
            if not expr:
                return SearchResult(0, [], {f: {} for f in FACETS})
            self.ensure_index()
            params["q"] = expr
            source = ("(SELECT rowid AS pid, rank FROM post_fts WHERE post_fts MATCH :q) m "
                      "JOIN raw_posts r ON r.id = m.pid")
        else:
            words = [w for w, _grams in terms if w.strip()]
            if not words:
                return SearchResult(0, [], {f: {} for f in FACETS})
            for i, word in enumerate(words):
                where.append(f"(r.title || ' ' || r.text) LIKE :w{i}")
                params[f"w{i}"] = "%" + word.replace("%", r"\%").replace("_", r"\_") + "%"
            source = "raw_posts r"
        base = f"FROM {source} {JOINS} WHERE {' AND '.join(where)}"
        if _sqlite(self.conn):
            total, facets, page = _sqlite_matches(self.conn, base, params, limit=limit, offset=offset, sort=sort)
        else:
            total, facets, page = _generic_matches(self.conn, base, params, limit=limit, offset=offset, sort=sort)
        return SearchResult(total, self.search_hits(page), facets)

    def search_hits(self, page: Sequence[int]) -> list[SearchHit]:
        """The hits of these post ids, in this order, read from the record (a post gone since is left out)."""
        if not page:
            return []
        rows = self.conn.execute(text(
            f"SELECT r.id, r.source, r.url, r.title, r.text, r.published_at, {_UNIT} AS unit, a.topic, a.polarity, "
            f"ip.incident_id FROM raw_posts r {JOINS} WHERE r.id IN (" + ",".join(str(int(i)) for i in page) + ")"))
        hits_by_id = {r.id: SearchHit(r.id, r.source, r.url, r.title, r.text, as_utc(r.published_at), r.unit,
                                      r.topic, r.polarity, r.incident_id) for r in rows}
        return [hits_by_id[i] for i in page if i in hits_by_id]
