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
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, Connection, Index, Integer, Table, Text, UniqueConstraint, event, text

from storage.schema import metadata
from storage.search_counts import FACETS as FACETS  # the facets of an answer (defined where they are counted)
from storage.search_counts import facet_counts, keys_of_matches, numbers

# How a page of matches was ordered (the answer's ``ranking``): "relevance", every match ranked by
# its score; "relevance_of_newest", the newest RANKED_MATCHES matches ranked by the same score and
# the older ones left out of the order (totals and facets still count every match); "newest",
# by time (asked for, or no full-text ranking on this database).
Ranking = Literal["relevance", "relevance_of_newest", "newest"]
# FTS5's bm25 costs ~1.5-2 µs per match and an exact top 20 must score every match: 1.7 s at
# 1,000,000 matches (README "Sizing"). A broad word over a big record ranks its newest 10,000
# matches instead (~20 ms): the posts an officer acts on are the recent ones, a page past the
# first few is rarely read, and the order stays exact wherever 10,000 or fewer posts match (every
# export: its cap is 10,000 rows; every small database). Always at least the page asked for.
RANKED_MATCHES = 10_000


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
    """A page of hits, the total, and counts per facet value over every match; how the page was
    ordered (``ranking``) and over how many of the matches (``ranked``: the total, except for
    "relevance_of_newest")."""

    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    ranking: Ranking = "relevance"
    ranked: int = 0


def no_matches(sort: str) -> SearchResult:
    """The answer of a search that finds nothing (or has nothing to look for)."""
    return SearchResult(0, [], {f: {} for f in FACETS}, ranking="relevance" if sort == "relevance" else "newest")


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


def find_expression(terms: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The FTS5 query finding the same posts as :func:`match_expression`, cheaper to run: a word
    that is one run of Chinese (its bigrams spell it) is looked up as its bigram phrase only,
    since a post holding it as a jieba word holds it literally too. Ranking still uses both."""
    parts = []
    for word, grams in terms:
        one_run = len(grams) == len(word) - 1 > 0 and all(g == word[i:i + 2] for i, g in enumerate(grams))
        parts.append(f"(grams : {_quote(' '.join(grams))})" if one_run else match_expression([(word, grams)]))
    return " AND ".join(part for part in parts if part)


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


# What search filters, counts and sorts by, one narrow row per stored post (SQLite only): the
# post's current unit (current_unit_sql), topic, polarity, source, its time (publish, else fetch)
# and that time's Asia/Shanghai day. Counting facets over 100,000s of matches through the wide
# raw_posts and analyses rows and two more joins cost most of a broad search (README "Sizing");
# here each match is one lookup of a ~60-byte row, and counting groups by one integer, ``fkey``, the
# row's combination of the five facet values in ``facet_keys`` (grouping five text columns cost
# four times as much). Triggers keep it in the transaction that writes
# any of its sources (a post stored, analysed or re-analysed, joining, leaving or moving between
# incidents, an incident reassigned), whichever module writes; ``facet_drift`` and
# ``rebuild_post_facets`` (``ecowatch search-facets``) check and repair it. A migration that
# rebuilds one of the source tables (Alembic batch mode copies the table) drops its triggers: it
# must call :func:`install_search_tables` again.
def _time(row: str) -> str:
    return f"coalesce({row}.published_at, {row}.fetched_at)"  # the post's time: publish, else fetch


_AT = _time("new")
_DERIVED = f"SELECT {_UNIT}, a.topic, a.polarity FROM raw_posts r {JOINS} WHERE r.id = {{pid}}"


_KEYED = ("unit_code", "topic", "polarity", "source", "day")


def _combo(table: str) -> list[str]:
    return [f"{table}source" if c == "source" else f"coalesce({table}{c}, '')" for c in _KEYED]


def _rekey(where: str, stamped: bool = True) -> str:
    """SQL giving the post_facets rows ``where`` selects the key of their facet values (new or known),
    ``stamped`` with the next facet_changes.n (revision 0019 on)."""
    same = " AND ".join(f"k.{c} = {v}" for c, v in zip(_KEYED, _combo("post_facets."), strict=True))
    stamp = ("UPDATE facet_changes SET n = n + 1; ", ", seq = (SELECT n FROM facet_changes)") if stamped else ("", "")
    return (f"INSERT OR IGNORE INTO facet_keys (unit_code, topic, polarity, source, day) "
            f"SELECT DISTINCT {', '.join(_combo(''))} FROM post_facets WHERE {where}; {stamp[0]}"
            f"UPDATE post_facets SET fkey = (SELECT k.id FROM facet_keys k WHERE {same}){stamp[1]} WHERE {where};")


def _refresh(pid: str, stamped: bool) -> str:
    return (f"UPDATE post_facets SET (unit_code, topic, polarity) = ({_DERIVED.format(pid=pid)}) "
            f"WHERE post_id = {pid}; {_rekey(f'post_id = {pid}', stamped)}")


post_facets = Table(  # filled and used on SQLite only (PostgreSQL searches the record by substring)
    "post_facets",
    metadata,
    Column("post_id", Integer, primary_key=True),
    Column("unit_code", Text),
    Column("topic", Text),
    Column("polarity", Text),
    Column("source", Text, nullable=False),
    Column("at", Text),  # publish, else fetch time, as stored (naive UTC text)
    Column("day", Text),  # that time's Asia/Shanghai date
    Column("fkey", Integer),  # facet_keys.id of (unit_code, topic, polarity, source, day)
    # facet_changes.n when fkey was last written (NULL: before revision 0019): a copy of the keys
    # in memory (storage.search_counts) reads only the rows changed since it last looked.
    Column("seq", Integer),
    # Newest first without sorting the matches: when most posts of the scope match, walking the
    # posts by time (and the index's rowid) and asking FTS5 about each stops after about a page.
    Index("ix_post_facets_at", "at"),
    Index("ix_post_facets_unit_at", "unit_code", "at"),
    Index("ix_post_facets_seq", "seq"),
)
# One row: a counter every statement writing post_facets' keys takes up by one, never down (a
# deleted post takes its seq with it; a counter derived from the rows, max(seq), could go back);
# ``bulk`` is above 0 only inside a write transaction's :func:`facets_kept_at_once` (never committed so).
facet_changes = Table(
    "facet_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("bulk", Integer, nullable=False, server_default=text("0")),
)
facet_keys = Table(  # each combination of facet values some post has had ("" for none)
    "facet_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_code", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("polarity", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("day", Text, nullable=False),
    UniqueConstraint("unit_code", "topic", "polarity", "source", "day", name="uq_facet_keys_values"),
)
_MEMBERS = "SELECT post_id FROM incident_posts WHERE incident_id = new.id"


# The triggers stand aside while a bulk write keeps post_facets and the tallies itself (revision
# 0021 on): per row they cost ~0.15 ms a post stored and again per analysis and link written.
_PER_ROW = "NOT EXISTS (SELECT 1 FROM facet_changes WHERE bulk != 0)"


def _gated(triggers: dict[str, str]) -> dict[str, str]:
    """``triggers`` firing only outside :func:`facets_kept_at_once` (a WHEN clause; ANDed to one
    already there)."""
    gated = {}
    for name, body in triggers.items():
        head, rest = body.split(" BEGIN ", 1)
        when = f"({head.split(' WHEN ', 1)[1]}) AND " if " WHEN " in head else ""
        gated[name] = f"{head.split(' WHEN ', 1)[0]} WHEN {when}{_PER_ROW} BEGIN {rest}"
    return gated


def facet_triggers(stamped: bool = True, gated: bool = False) -> dict[str, str]:
    """The triggers keeping post_facets (name: body); ``stamped=False``: as before revision 0019,
    ``gated``: as from revision 0021 (standing aside in :func:`facets_kept_at_once`)."""
    triggers = {
        "post_facets_post_insert": f"AFTER INSERT ON raw_posts BEGIN INSERT OR REPLACE INTO post_facets (post_id, "
                                   f"source, at, day) VALUES (new.id, new.source, {_AT}, date({_AT}, '+8 hours')); "
                                   f"{_refresh('new.id', stamped)} END",
        "post_facets_post_update": f"AFTER UPDATE OF source, published_at, fetched_at ON raw_posts BEGIN "
                                   f"UPDATE post_facets SET source = new.source, at = {_AT}, "
                                   f"day = date({_AT}, '+8 hours') WHERE post_id = new.id; "
                                   f"{_rekey('post_id = new.id', stamped)} END",
        "post_facets_post_delete": "AFTER DELETE ON raw_posts BEGIN DELETE FROM post_facets WHERE post_id = old.id; "
                                   "END",
        "post_facets_analysis_insert": f"AFTER INSERT ON analyses BEGIN {_refresh('new.post_id', stamped)} "
                                       "END",
        "post_facets_analysis_update": f"AFTER UPDATE ON analyses BEGIN {_refresh('old.post_id', stamped)} "
                                       f"{_refresh('new.post_id', stamped)} END",
        "post_facets_analysis_delete": f"AFTER DELETE ON analyses BEGIN {_refresh('old.post_id', stamped)} END",
        "post_facets_member_insert": f"AFTER INSERT ON incident_posts BEGIN {_refresh('new.post_id', stamped)} END",
        "post_facets_member_update": f"AFTER UPDATE ON incident_posts BEGIN {_refresh('old.post_id', stamped)} "
                                     f"{_refresh('new.post_id', stamped)} END",
        "post_facets_member_delete": f"AFTER DELETE ON incident_posts BEGIN {_refresh('old.post_id', stamped)} END",
        "post_facets_incident_unit": f"AFTER UPDATE OF unit_code ON incidents WHEN old.unit_code IS NOT new.unit_code "
                                     f"BEGIN UPDATE post_facets SET unit_code = "
                                     f"new.unit_code WHERE post_id IN ({_MEMBERS}); "
                                     f"{_rekey(f'post_id IN ({_MEMBERS})', stamped)} END",
    }
    return _gated(triggers) if gated else triggers


FACET_TRIGGERS = facet_triggers(gated=True)
# How many posts have each facet value, per current unit ("" for none), kept from ``fkey`` by the
# triggers below in the same transaction: a query every post in its scope matches (江北 in a
# district's posts; a unit user's broad word) is counted from these few thousand rows instead of
# grouping a million matches, and the total in a scope is one sum. Exact by construction: a
# post's row changes its key, so one tally goes down and another up, whoever wrote the post.
facet_tallies = Table(
    "facet_tallies",
    metadata,
    Column("unit_code", Text, primary_key=True),
    Column("facet", Text, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("n", Integer, nullable=False),
)
_FACET_NAMES = " UNION ALL ".join(f"SELECT {i} AS i, '{name}' AS facet" for i, name in enumerate(FACETS))
_FACET_VALUE = "CASE f.facet " + " ".join(f"WHEN '{name}' THEN k.{name}" for name in FACETS) + " END"


def _tally(key: str, delta: int) -> str:
    """SQL adding ``delta`` to the tallies of the facet values of ``key`` (a facet_keys id; none for NULL)."""
    return (f"INSERT INTO facet_tallies (unit_code, facet, value, n) SELECT k.unit_code, f.facet, {_FACET_VALUE}, "
            f"{delta} FROM facet_keys k JOIN ({_FACET_NAMES}) f WHERE k.id = {key} "
            f"ON CONFLICT (unit_code, facet, value) DO UPDATE SET n = n + excluded.n;")


UNGATED_TALLY_TRIGGERS = {  # as before revision 0021
    "facet_tallies_insert": f"AFTER INSERT ON post_facets WHEN new.fkey IS NOT NULL BEGIN {_tally('new.fkey', 1)} END",
    "facet_tallies_update": f"AFTER UPDATE OF fkey ON post_facets WHEN old.fkey IS NOT new.fkey BEGIN "
                            f"{_tally('old.fkey', -1)} {_tally('new.fkey', 1)} END",
    "facet_tallies_delete": f"AFTER DELETE ON post_facets WHEN old.fkey IS NOT NULL BEGIN {_tally('old.fkey', -1)} END",
}
TALLY_TRIGGERS = _gated(UNGATED_TALLY_TRIGGERS)
_TALLIES = (f"SELECT k.unit_code, f.facet, {_FACET_VALUE} AS value, count(*) AS n FROM post_facets s "
            f"JOIN facet_keys k ON k.id = s.fkey JOIN ({_FACET_NAMES}) f GROUP BY 1, 2, 3")
_FACET_ROWS = (f"SELECT r.id AS post_id, {_UNIT} AS unit_code, a.topic AS topic, a.polarity AS polarity, "
               f"r.source AS source, {_time('r')} AS at, date({_time('r')}, '+8 hours') "
               f"AS day FROM raw_posts r {JOINS}")


# facet_keys rows are fixed once written (a new combination of values gets a new id): a search's
# copy of the table in memory (storage.search_counts) then only ever needs the ids added since.
KEY_TRIGGERS = {f"facet_keys_fixed_{op.lower()}": f"BEFORE {op} ON facet_keys BEGIN SELECT RAISE(ABORT, "
                f"'facet_keys rows are never changed or deleted: a new combination gets a new id'); END"
                for op in ("UPDATE", "DELETE")}


def install_search_tables(conn: Connection) -> None:
    """Create ``post_facets``' triggers where missing and fill the table from the record if it is
    empty while posts exist (SQLite only; idempotent). Migration 0012 and a new database's schema
    creation call it, and start-up (:meth:`SearchTx.ensure_index`)."""
    if not _sqlite(conn):
        return
    post_facets.create(conn, checkfirst=True)
    facet_keys.create(conn, checkfirst=True)
    facet_tallies.create(conn, checkfirst=True)
    facet_changes.create(conn, checkfirst=True)
    # The triggers stamp seq (revision 0019): an older revision's migration installing them
    # (0015, 0017) gets the column first.
    if "seq" not in {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(post_facets)")}:
        conn.exec_driver_sql("ALTER TABLE post_facets ADD COLUMN seq INTEGER")
    # And the triggers read facet_changes.bulk (revision 0021): 0019's table has no such column.
    if "bulk" not in {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(facet_changes)")}:
        conn.exec_driver_sql("ALTER TABLE facet_changes ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_post_facets_seq ON post_facets (seq)")
    conn.exec_driver_sql("INSERT INTO facet_changes (id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM facet_changes)")
    for name, body in (FACET_TRIGGERS | TALLY_TRIGGERS | KEY_TRIGGERS).items():
        conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    if conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM raw_posts) AND NOT EXISTS (SELECT 1 FROM post_facets)"
                            ).scalar_one():
        rebuild_post_facets(conn)
    elif conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM post_facets WHERE fkey IS NOT NULL) "
                              "AND NOT EXISTS (SELECT 1 FROM facet_tallies)").scalar_one():
        _rebuild_tallies(conn)


@event.listens_for(metadata, "after_create")
def _install_on_create(_target: object, connection: Connection, **_kw: Any) -> None:
    # A new database is created from the table definitions and stamped at the newest revision
    # (storage.migrations.upgrade_to_head), so migration 0012 never runs on it: install here.
    install_search_tables(connection)


def ensure_fts(conn: Connection) -> None:
    """Create the full-text index where missing, with the trigger that removes a deleted post's
    row from it, so every indexed row is a stored post's and a count over the index alone is a
    count of posts (SQLite only; idempotent). Searches call it too, so it looks first and writes
    only what is missing: even ``CREATE … IF NOT EXISTS`` waits for the write lock, and a search
    held behind a long write (the demo building its month) failed with "database is locked"."""
    present = {row[0] for row in conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE name IN ('post_fts', 'post_fts_post_delete')")}
    if present == {"post_fts", "post_fts_post_delete"}:
        return
    conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(tokens, grams)")
    conn.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS post_fts_post_delete AFTER DELETE ON raw_posts BEGIN "
                         "DELETE FROM post_fts WHERE rowid = old.id; END")


def rebuild_post_facets(conn: Connection) -> int:
    """Recompute every ``post_facets`` row from the record; how many rows it now holds."""
    conn.exec_driver_sql("DELETE FROM post_facets")
    conn.exec_driver_sql(f"INSERT INTO post_facets (post_id, unit_code, topic, polarity, source, at, day) "
                         f"{_FACET_ROWS}")
    for statement in _rekey("1=1").split("; "):
        conn.exec_driver_sql(statement.rstrip(";"))
    _rebuild_tallies(conn)
    return int(conn.exec_driver_sql("SELECT count(*) FROM post_facets").scalar_one())


_IDS = "(SELECT value FROM json_each(?))"  # the posts of facets_kept_at_once, one JSON array parameter


def _tallies_of(sign: str) -> str:
    """SQL adding (``sign`` "+") or taking away ("-") the facet values of the keyed post_facets
    rows of the posts in _IDS to or from the tallies, one upsert per value."""
    return (f"INSERT INTO facet_tallies (unit_code, facet, value, n) SELECT k.unit_code, f.facet, {_FACET_VALUE}, "
            f"{sign}count(*) FROM post_facets s JOIN facet_keys k ON k.id = s.fkey JOIN ({_FACET_NAMES}) f "
            f"WHERE s.post_id IN {_IDS} GROUP BY 1, 2, 3 "
            f"ON CONFLICT (unit_code, facet, value) DO UPDATE SET n = n + excluded.n")


_KEEP_AT_ONCE = [
    _tallies_of("-"),
    f"INSERT OR REPLACE INTO post_facets (post_id, unit_code, topic, polarity, source, at, day) {_FACET_ROWS} "
    f"WHERE r.id IN {_IDS}",
    *_rekey(f"post_id IN {_IDS}").rstrip(";").split("; "),
    _tallies_of("+"),
]


@contextmanager
def facets_kept_at_once(conn: Connection) -> Iterator[list[int]]:
    """Write many posts, analyses or links with the facet triggers standing aside, then do for
    all of them at once what the triggers would have done row by row: recompute each touched
    post's facet row from the record, key and stamp the rows (one stamp for the lot: a copy in
    memory reads ``seq > seen``, so a shared stamp is as exact), and move the tallies by the rows'
    old and new keys (5,000 posts stored in batches of 500: 0.49 CPU s against 0.67–0.70 per row;
    their analyses saved: 0.32 against 0.45–0.47; docs/analysis.md, "Round 10: pipeline"). The
    block adds the ids of every post whose row it wrote to the list it is given. A savepoint holds it: an error in
    the block undoes its writes and the flag together, so nothing is committed unkept or with the
    triggers off. SQLite only (elsewhere there is nothing to keep: a plain block)."""
    touched: list[int] = []
    if not _sqlite(conn):
        yield touched
        return
    with conn.begin_nested():
        conn.exec_driver_sql("UPDATE facet_changes SET bulk = bulk + 1")  # a count: blocks may nest
        yield touched
        if touched:
            ids = json.dumps(sorted(set(touched)))
            for statement in _KEEP_AT_ONCE:
                conn.exec_driver_sql(statement, (ids,) * statement.count("?"))
        conn.exec_driver_sql("UPDATE facet_changes SET bulk = bulk - 1")


def _rebuild_tallies(conn: Connection) -> None:
    conn.exec_driver_sql("DELETE FROM facet_tallies")
    conn.exec_driver_sql(f"INSERT INTO facet_tallies (unit_code, facet, value, n) {_TALLIES}")


def facet_drift(conn: Connection) -> int:
    """How many posts' ``post_facets`` rows differ from what the record says (missing, extra or
    changed, or keyed to other facet values), plus how many ``facet_tallies`` differ from those
    rows: 0 when the triggers kept both exact."""
    cols = "post_id, unit_code, topic, polarity, source, at, day"
    keyed = (f"SELECT s.post_id, s.unit_code, s.topic, s.polarity, s.source, s.at, s.day FROM post_facets s "
             f"JOIN facet_keys k ON k.id = s.fkey AND ({', '.join(_combo('k.'))}) = ({', '.join(_combo('s.'))})")
    return int(conn.exec_driver_sql(
        f"SELECT count(DISTINCT post_id) FROM (SELECT * FROM ({_FACET_ROWS} EXCEPT {keyed}) "
        f"UNION ALL SELECT * FROM (SELECT {cols} FROM post_facets EXCEPT {_FACET_ROWS}))").scalar_one()) + int(
        conn.exec_driver_sql(f"SELECT count(*) FROM (SELECT unit_code, facet, value FROM (SELECT * FROM ({_TALLIES}) "
                             f"EXCEPT SELECT * FROM facet_tallies WHERE n != 0) UNION SELECT unit_code, facet, value "
                             f"FROM (SELECT * FROM facet_tallies WHERE n != 0 EXCEPT {_TALLIES}))").scalar_one())


# Newest first by walking the scope's posts by time and asking FTS5 about each costs about as much
# per post walked as sorting this many matches (measured at 1,000,000 posts: ~75 µs against
# ~1 µs, the EXISTS parsing the query and seeking each term): the walk is taken when a page is
# expected within the first 1/_WALK_COST as many posts as there are matches, and given up (the
# matches sorted instead) after four times that many, so a skewed walk costs at most ~4 sorts.
_WALK_COST = 75


def _sqlite_matches(conn: Connection, where: list[str], params: dict[str, Any], filters: SearchFilters,
                    *, limit: int, offset: int, sort: str) -> tuple[int, dict[str, dict[str, int]], list[int], int]:
    """Total, facet counts, the page's post ids and how many matches were ranked for its order
    (SQLite) of the posts the FTS5 queries in
    ``params`` match (``q`` to rank, ``find`` the same posts cheaper: :func:`find_expression`)
    that pass ``where`` (over ``post_facets s``, whose values ``params`` binds too).

    Facets are counted in numpy over the matches' facet keys (:mod:`storage.search_counts`): no
    per-match Python, no sort. When the search is scoped by nothing but a unit and
    every post of that scope matches, the maintained ``facet_tallies`` are the counts (same
    numbers, no pass over the matches). The page is SQLite's top-k sort; only it asks FTS5 for
    bm25 (``rank``), which costs more per match than everything else together: past
    :data:`RANKED_MATCHES` matches, only the newest that many (FTS5 walks its index by post id,
    newest first, and stops) are scored. Newest first over dense matches walks the posts by time
    instead (:data:`_WALK_COST`)."""
    raw = conn.connection.driver_connection
    assert raw is not None

    def run(sql: str) -> list[Any]:
        compiled = conn.dialect.statement_compiler(conn.dialect, text(sql))  # :name -> ? in bound order
        rows: list[Any] = raw.execute(compiled.string,
                                      [_driver_value(params[n]) for n in compiled.positiontup or []]).fetchall()
        return rows

    base = (f"FROM post_fts m JOIN post_facets s ON s.post_id = m.rowid WHERE m.post_fts MATCH :find "
            f"AND {' AND '.join(where)}")
    unit = filters.unit_code
    tallied = (filters.topic is None and filters.source is None and filters.polarity is None and filters.since is None
               and filters.until is None and unit != "")
    scope = 0
    counts: list[Any] = []
    # The matches' post ids from the index alone, to be looked up in a copy of every post's facet
    # key (storage.search_counts) instead of each match's row.
    matched = "SELECT group_concat(rowid) FROM post_fts WHERE post_fts MATCH :find"
    keys = None
    if tallied:  # the scope's size is a sum of tallies; all of it matching, its tallies are the facets
        in_unit = "" if unit is None else " AND unit_code = :unit_code"
        scope = int(run(f"SELECT coalesce(sum(n), 0) FROM facet_tallies WHERE facet = 'source'{in_unit}")[0][0])
        # Every indexed row is a stored post's (a deleted post's row goes with it): unscoped, the
        # index alone counts; a unit's matches are the copy's keys of that unit.
        keys = None if unit is None else keys_of_matches(conn, run, matched, unit)
        total = int(keys.size) if keys is not None else int(run(
            "SELECT count(*) FROM post_fts WHERE post_fts MATCH :find" if unit is None
            else f"SELECT count(*) {base}")[0][0])
        if total == 0:
            return 0, {f: {} for f in FACETS}, [], 0
        if total == scope:
            counts = run(f"SELECT f.i, t.value, sum(t.n) FROM facet_tallies t JOIN ({_FACET_NAMES})"
                         f" f ON f.facet = t.facet WHERE t.n != 0{in_unit.replace(' unit_code', ' t.unit_code')} "
                         f"GROUP BY f.i, t.value")
    if counts:
        by_facet: list[list[tuple[str, int]]] = [[] for _ in FACETS]
        for i, value, n in counts:
            by_facet[i].append(("" if value is None else str(value), int(n)))
    else:
        # Unfiltered or one unit's: the copy's keys of the matches (a unit's above); else (other
        # filters, a write transaction, a snapshot older than the copy) each match's key from its
        # row, all in one text SQLite builds (~0.15 µs a match; a Python row ~1 µs).
        if keys is None and tallied and unit is None:
            keys = keys_of_matches(conn, run, matched)
        if keys is None:
            keys = numbers(run(f"SELECT group_concat(coalesce(s.fkey, 0)) {base}")[0][0])
        by_facet = facet_counts(conn, run, keys)
    if not by_facet[0]:
        return 0, {f: {} for f in FACETS}, [], 0
    # Most frequent first, then by value (as Elasticsearch's terms aggregation orders ties).
    facets = {name: dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0]))[:50])
              for name, pairs in zip(FACETS, by_facet, strict=True)}
    total = sum(n for _v, n in by_facet[0])
    window = f"LIMIT {int(limit)} OFFSET {int(offset)}"
    if sort == "relevance":
        # No filter: the index alone (its rows are stored posts'). The newest ``ranked`` matches
        # by post id (all of them up to RANKED_MATCHES), scored, the best first.
        ranked = min(total, max(RANKED_MATCHES, limit + offset))
        matches = ("SELECT m.rowid AS post_id, m.rank AS score FROM post_fts m WHERE m.post_fts MATCH :q"
                   if tallied and unit is None else f"SELECT s.post_id, m.rank AS score {base.replace(':find', ':q')}")
        newest = "" if ranked == total else f" ORDER BY m.rowid DESC LIMIT {ranked}"
        page = run(f"SELECT post_id FROM ({matches}{newest}) ORDER BY score, post_id DESC {window}")
        return total, facets, [row[0] for row in page], ranked
    wanted = min(limit, max(total - offset, 0))
    if tallied and (limit + offset) * scope * _WALK_COST <= total * total:
        index = "ix_post_facets_at" if unit is None else "ix_post_facets_unit_at"
        of_unit = "" if unit is None else "WHERE s.unit_code = :unit_code "
        give_up = 4 * ((limit + offset) * scope // total + 1)
        walked = run(f"SELECT w.post_id FROM (SELECT s.post_id FROM post_facets s INDEXED BY {index} "
                     f"{of_unit}ORDER BY s.at DESC, s.post_id DESC LIMIT {give_up}) w "
                     f"WHERE EXISTS (SELECT 1 FROM post_fts m WHERE m.post_fts MATCH :find AND m.rowid = w.post_id) "
                     f"{window}")
        if len(walked) == wanted:
            return total, facets, [row[0] for row in walked], total
    page = run(f"SELECT s.post_id {base} ORDER BY s.at DESC, s.post_id DESC {window}")
    return total, facets, [row[0] for row in page], total


def _driver_value(value: Any) -> Any:
    # The driver gets what SQLAlchemy would bind: naive UTC datetimes as its text form.
    return value.isoformat(" ") if isinstance(value, dt.datetime) else value


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
        """Create the search tables and triggers where missing (SQLite only; a no-op elsewhere):
        at start-up, so a trigger a migration dropped is back before the first write."""
        self._ensure_fts()
        install_search_tables(self.conn)

    def _ensure_fts(self) -> None:
        if _sqlite(self.conn):
            ensure_fts(self.conn)

    def indexed_up_to(self) -> int:
        """The highest post id in the index (posts are indexed in id order)."""
        if not _sqlite(self.conn):
            return 0
        self._ensure_fts()
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
        self._ensure_fts()
        params = [{"id": pid, "tokens": " ".join(t.replace('"', " ") for t in tokens),
                   "grams": " ".join(g.replace('"', " ") for g in grams)} for pid, tokens, grams in rows]
        if params:
            self.conn.execute(text("INSERT INTO post_fts(rowid, tokens, grams) VALUES (:id, :tokens, :grams)"), params)
        return len(params)

    def search_posts(self, terms: Sequence[tuple[str, Sequence[str]]], filters: SearchFilters, *, limit: int = 20,
                     offset: int = 0, sort: str = "relevance") -> SearchResult:
        """Posts matching every term (word, bigrams), filtered, with facet counts over all matches
        (ordered as ``ranking`` says: :data:`RANKED_MATCHES`)."""
        sqlite = _sqlite(self.conn)
        # On SQLite the filtered values are post_facets columns (s), elsewhere the joined record's;
        # unary + keeps SQLite from walking post_facets' time indexes and asking FTS5 per post
        # (slower than going through the matches, except for the newest-first walk, which says so).
        column = ({"unit_code": "+s.unit_code", "topic": "s.topic", "polarity": "s.polarity", "source": "s.source",
                   "at": "+s.at"} if sqlite else
                  {"unit_code": _UNIT, "topic": "a.topic", "polarity": "a.polarity", "source": "r.source",
                   "at": "coalesce(r.published_at, r.fetched_at)"})
        where: list[str] = ["1=1"]
        params: dict[str, Any] = {}
        for name in ("unit_code", "topic", "polarity", "source"):
            value = getattr(filters, name)
            if value is not None:
                where.append(f"{column[name]} = :{name}")
                params[name] = value
        # Stored datetimes on SQLite are naive UTC text; compare in the same form.
        for name, op in (("since", ">="), ("until", "<")):
            value = getattr(filters, name)
            if value is not None:
                where.append(f"{column['at']} {op} :{name}")
                params[name] = value.astimezone(dt.UTC).replace(tzinfo=None) if sqlite else value
        if sqlite:
            expr = match_expression(terms)
            if not expr:
                return no_matches(sort)
            self._ensure_fts()
            params["q"], params["find"] = expr, find_expression(terms)
            total, facets, page, ranked = _sqlite_matches(self.conn, where, params, filters, limit=limit,
                                                          offset=offset, sort=sort)
            ranking: Ranking = "newest" if sort != "relevance" else (
                "relevance" if ranked == total else "relevance_of_newest")
        else:
            words = [w for w, _grams in terms if w.strip()]
            if not words:
                return no_matches("newest")
            for i, word in enumerate(words):
                where.append(f"(r.title || ' ' || r.text) LIKE :w{i}")
                params[f"w{i}"] = "%" + word.replace("%", r"\%").replace("_", r"\_") + "%"
            base = f"FROM raw_posts r {JOINS} WHERE {' AND '.join(where)}"
            total, facets, page = _generic_matches(self.conn, base, params, limit=limit, offset=offset, sort=sort)
            ranking, ranked = "newest", total  # substring matching has no score
        return SearchResult(total, self.search_hits(page), facets, ranking, ranked)

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
