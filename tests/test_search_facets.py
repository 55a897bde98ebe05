"""SQLite search answers (total, page order, every facet) equal a plain-SQL reference, on real SQLite.

The search pass counts the day facet by UTC hour and maps hours to Shanghai days afterwards, and
picks the page with a heap: this checks both against date() per row and ORDER BY, around Shanghai
midnight, with posts lacking analyses or a publication time, for each filter and sort."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from core.errors import StoreError
from core.jurisdiction import load_jurisdiction
from core.models import Analysis, Polarity, RawPost
from dashboard_api import create_app
from indexing.search_index import SearchIndexer
from storage import search, search_counts
from storage.search import FACETS, SearchFilters, match_expression
from storage.sql import Tx
from tests.api_seed import UNIT_A, seed_users, token_headers
from tests.conftest import TEST_SECRET, serving

T0 = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai: posts straddle midnight
UNITS = ["500105003000", "500105004000", None]
WORDS = ["污水", "油烟", "噪音", "黑臭"]


@pytest.fixture
def filled(store):
    rng = random.Random(3)
    posts = []
    for i in range(400):
        words = rng.sample(WORDS, 2)
        at = T0 + dt.timedelta(minutes=7 * i) if i % 9 else None  # some without a publication time
        posts.append(RawPost(source=rng.choice(["weibo", "news", "forum"]),
                             text=f"江北区{words[0]}问题，{words[1]}也有（{i}）" + "又" * rng.randrange(4),
                             url=f"http://f/{i}", published_at=at))
    with store.begin() as tx:
        tx.add_posts(posts, T0)
        for pid in range(1, 401):
            if pid % 11:  # some posts are not analysed yet: their facet value is ""
                tx.save_analysis(pid, Analysis(True, None, rng.choice(UNITS), 1.0, [rng.choice(["water", "air"])],
                                               rng.choice(list(Polarity)), 0.2), T0)
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    assert indexer.catch_up(store) == 400
    return store, indexer


def reference(tx, terms, f: SearchFilters, sort: str) -> tuple[int, list[int], dict[str, dict[str, int]]]:
    """The straightforward answer: every match with date() per row, sorted by SQL."""
    where, params = ["post_fts MATCH :q"], {"q": match_expression(terms)}
    for name, col in (("unit_code", "a.unit_code"), ("topic", "a.topic"), ("polarity", "a.polarity"),
                      ("source", "r.source")):
        if getattr(f, name) is not None:
            where.append(f"{col} = :{name}")
            params[name] = getattr(f, name)
    for name, op in (("since", ">="), ("until", "<")):
        if getattr(f, name) is not None:
            where.append(f"coalesce(r.published_at, r.fetched_at) {op} :{name}")
            params[name] = getattr(f, name).astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    at = "coalesce(r.published_at, r.fetched_at)"
    order = "post_fts.rank, r.id DESC" if sort == "relevance" else f"{at} DESC, r.id DESC"
    rows = tx.conn.execute(text(
        "SELECT r.id, a.unit_code, a.topic, r.source, a.polarity, "
        f"date({at}, '+8 hours') FROM post_fts JOIN raw_posts r ON r.id = post_fts.rowid "
        f"LEFT JOIN analyses a ON a.post_id = r.id WHERE {' AND '.join(where)} ORDER BY {order}"), params).all()
    facets = {name: {("" if v is None else str(v)): n for v, n in Counter(r[i] for r in rows).most_common(50)}
              for i, name in enumerate(FACETS, start=1)}
    return len(rows), [r[0] for r in rows], facets


FILTERS = [SearchFilters(), SearchFilters(unit_code="500105003000"), SearchFilters(topic="water", polarity="neg"),
           SearchFilters(source="news"), SearchFilters(since=T0 + dt.timedelta(hours=8, minutes=30)),
           SearchFilters(until=dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))]


def test_search_matches_the_plain_sql_reference(filled):
    store, indexer = filled
    for query in ["污水", "江北", "油烟 噪音", "又"]:
        terms = indexer.query_terms(indexer.query_tokens(query))
        for sort in ("relevance", "newest"):
            for filters in FILTERS:
                case = (query, sort, filters)
                with store.read() as tx:
                    total, order, facets = reference(tx, terms, filters, sort)
                    pages = [tx.search_posts(terms, filters, limit=25, offset=off, sort=sort) for off in (0, 25, 390)]
                assert pages[0].total == total and pages[0].facets == facets, case
                assert [h.post_id for p in pages[:2] for h in p.hits] == order[:50], case
                assert [h.post_id for h in pages[2].hits] == order[390:415], case


def test_the_reference_is_not_vacuous(filled):
    """The cases above include many matches, several days and empty facet values."""
    store, indexer = filled
    with store.read() as tx:
        total, _order, facets = reference(tx, indexer.query_terms(["江北"]), SearchFilters(), "relevance")
    assert total == 400 and facets["unit_code"].get("", 0) > 36
    assert set(facets["day"]) == {"2026-03-01", "2026-03-02", "2026-03-03"}  # 23:30 Shanghai onwards
    assert len(set(facets["source"])) == 3


def test_counts_over_the_index_and_tallies_after_deletes_and_moves(filled):
    """Every post matching (江北) is counted from the maintained tallies and the index alone, and
    newest first walks the posts by time: still the reference's answer after posts are deleted
    (their index rows go with them) and moved to another unit, scoped or not."""
    store, indexer = filled
    with store.begin() as tx:
        tx.conn.execute(text("DELETE FROM raw_posts WHERE id IN (3, 50, 400)"))
        tx.conn.execute(text("UPDATE analyses SET unit_code = '500105003000' WHERE post_id IN (4, 5, 6)"))
        assert tx.conn.execute(text("SELECT count(*) FROM post_fts")).scalar_one() == 397
    terms = indexer.query_terms(["江北"])
    for filters in FILTERS[:2]:
        for sort in ("relevance", "newest"):
            with store.read() as tx:
                total, order, facets = reference(tx, terms, filters, sort)
                found = tx.search_posts(terms, filters, limit=25, offset=0, sort=sort)
            assert (found.total, found.facets) == (total, facets) and [h.post_id for h in found.hits] == order[:25]
    assert total > 100  # the unit's posts: all of them match


def test_the_tallies_are_what_an_all_matching_search_counts(filled):
    """The all-matching search reads ``facet_tallies`` (a hand-edited tally shows in its answer),
    and a search not every post matches does not."""
    store, indexer = filled
    with store.begin() as tx:
        tx.conn.execute(text("UPDATE facet_tallies SET n = n + 1000 "
                             "WHERE facet = 'topic' AND value = 'water' AND unit_code = ''"))
    with store.read() as tx:
        everything = tx.search_posts(indexer.query_terms(["江北"]), SearchFilters())
        some = tx.search_posts(indexer.query_terms(["污水"]), SearchFilters())
        water = tx.conn.execute(text("SELECT count(*) FROM analyses WHERE topic = 'water'")).scalar_one()
    assert everything.total == 400 and everything.facets["topic"]["water"] == water + 1000
    assert some.facets["topic"]["water"] < water


def test_newest_first_when_the_newest_posts_do_not_match(store):
    """Most posts match, but none of the newest: the walk by time gives up and the matches are
    sorted, with the reference's answer (and the walk's, where the newest do match)."""
    with store.begin() as tx:
        tx.add_posts([RawPost(source="weibo", text=f"江北区{'污水' if i < 300 else '油烟'}问题（{i}）", url=f"http://w/{i}",
                              published_at=T0 + dt.timedelta(minutes=i)) for i in range(400)], T0)
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    assert indexer.catch_up(store) == 400
    for word in ("污水", "江北"):
        terms = indexer.query_terms([word])
        for limit, offset in ((1, 0), (5, 0), (5, 3)):
            with store.read() as tx:
                total, order, _facets = reference(tx, terms, SearchFilters(), "newest")
                found = tx.search_posts(terms, SearchFilters(), limit=limit, offset=offset, sort="newest")
            assert found.total == total and [h.post_id for h in found.hits] == order[offset:offset + limit]
    assert total == 400 and order[0] == 400


def test_past_the_bound_the_newest_matches_are_ranked_and_everything_is_counted(filled, monkeypatch):
    """More matches than RANKED_MATCHES: the page is the best-scored of the newest that many
    matches (by post id), in the reference's relative order; total and facets are still every
    match's; a unit's search ranks its own newest matches and shows nothing of another unit; the
    answer says so. At or under the bound, and newest first, nothing changes."""
    store, indexer = filled
    monkeypatch.setattr(search, "RANKED_MATCHES", 30)
    cases = [("江北", SearchFilters()), ("污水", SearchFilters()), ("江北", SearchFilters(unit_code="500105003000")),
             ("油烟", SearchFilters(source="news")), ("又", SearchFilters(topic="water"))]
    for query, filters in cases:
        terms = indexer.query_terms(indexer.query_tokens(query))
        with store.read() as tx:
            total, order, facets = reference(tx, terms, filters, "relevance")
            pages = [tx.search_posts(terms, filters, limit=10, offset=off, sort="relevance") for off in (0, 10, 20)]
            past = tx.search_posts(terms, filters, limit=10, offset=28, sort="relevance")  # beyond 30: ranks 38
            newest = tx.search_posts(terms, filters, limit=10, offset=0, sort="newest")
        case = (query, filters)
        assert total > 30, case  # past the bound
        for page in (*pages, past):
            assert (page.total, page.facets, page.ranking) == (total, facets, "relevance_of_newest"), case
        assert [p.ranked for p in (*pages, past)] == [30, 30, 30, 38], case
        best_of = {n: [pid for pid in order if pid in set(sorted(order, reverse=True)[:n])] for n in (30, 38)}
        assert [h.post_id for p in pages for h in p.hits] == best_of[30], case
        assert [h.post_id for h in past.hits] == best_of[38][28:38], case
        assert best_of[30] != order[:30], case  # not vacuous: the older best are left out
        assert (newest.ranking, newest.ranked, newest.total) == ("newest", total, total), case
        if filters.unit_code:
            assert {h.unit_code for p in pages for h in p.hits} == {filters.unit_code}
    monkeypatch.setattr(search, "RANKED_MATCHES", 10_000)
    with store.read() as tx:
        exact = tx.search_posts(indexer.query_terms(["江北"]), SearchFilters(), limit=5, sort="relevance")
        total, order, _facets = reference(tx, indexer.query_terms(["江北"]), SearchFilters(), "relevance")
    assert (exact.ranking, exact.ranked, [h.post_id for h in exact.hits]) == ("relevance", total, order[:5])


def test_the_search_answer_says_how_it_was_ranked(filled, monkeypatch):
    """GET /api/search gives ``ranking`` and ``ranked`` next to ``backend``, for a unit user too."""
    store, _indexer = filled
    seed_users(store)
    monkeypatch.setattr(search, "RANKED_MATCHES", 30)
    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET)) as base:
        def ask(user: str, **params: str) -> dict:
            reply = httpx.get(f"{base}/api/search", params={"q": "江北"} | params,
                              headers=token_headers(user, TEST_SECRET), timeout=60)
            assert reply.status_code == 200, reply.text
            return reply.json()

        broad, by_time, small = ask("duty1"), ask("duty1", sort="newest"), ask("duty1", q="污水", topic="water",
                                                                           source="news", polarity="neg")
        own = ask("unit_a")
    assert (broad["backend"], broad["ranking"], broad["ranked"], broad["total"]) == (
        "sqlite", "relevance_of_newest", 30, 400)
    assert (by_time["ranking"], by_time["ranked"]) == ("newest", 400)
    assert small["ranking"] == "relevance" and 0 < small["ranked"] == small["total"] <= 30
    assert own["total"] and {h["unit_code"] for h in own["hits"]} == {UNIT_A}
    assert own["ranked"] == min(30, own["total"])


def test_counts_stay_exact_as_posts_and_facet_values_change_between_searches(filled):
    """An unfiltered or unit-scoped search counts over the store's in-memory copies of every post's
    key and of ``facet_keys`` (storage.search_counts): searches before and after other connections
    store posts with values no key had (a new source, unit, day), move a post to another unit,
    delete one, and roll back a write; and a search whose snapshot is older than the copies: each
    answer is the reference's in its own snapshot, and the copies took in only what changed."""
    store, indexer = filled
    terms = {q: indexer.query_terms(indexer.query_tokens(q)) for q in ("污水", "油烟 噪音")}

    def same_as_reference(conn) -> None:
        tx = Tx(conn, None)
        for query, query_terms in terms.items():
            for filters in (SearchFilters(), SearchFilters(unit_code="500105003000"),
                            SearchFilters(unit_code="500105009000")):
                total, order, facets = reference(tx, query_terms, filters, "relevance")
                found = tx.search_posts(query_terms, filters)
                assert (found.total, found.facets, [h.post_id for h in found.hits]) == (total, facets, order[:20]), (
                    query, filters)

    with store.engine.connect() as reader, reader.begin():
        same_as_reference(reader)
    copies = search_counts._COPIES[store.engine]
    keys, seen = copies[0].upto, copies[1].seen
    new = [RawPost(source="wechat", text=f"江北区污水问题，油烟也有噪音（新{i}）", url=f"http://new/{i}",
                   published_at=T0 + dt.timedelta(days=5 + i)) for i in range(3)]
    with store.engine.connect() as old, old.begin():
        same_as_reference(old)  # its snapshot starts here, before the writes below
        with store.begin() as tx:
            tx.add_posts(new, T0)
            tx.save_analysis(401, Analysis(True, None, "500105009000", 1.0, ["noise"], Polarity.POS, 0.9), T0)
        with store.begin() as tx:
            tx.conn.execute(text("UPDATE analyses SET unit_code = '500105009000' WHERE post_id = 1"))
            tx.conn.execute(text("DELETE FROM raw_posts WHERE id = 2"))
        with pytest.raises(RuntimeError), store.begin() as tx:  # rolled back: its stamps are taken again
            tx.conn.execute(text("UPDATE analyses SET unit_code = '500105004000' WHERE post_id = 5"))
            raise RuntimeError
        assert indexer.catch_up(store) == 3
        with store.engine.connect() as reader, reader.begin():
            same_as_reference(reader)
        assert copies[1].seen > seen and copies[0].upto > keys  # the copies moved on
        same_as_reference(old)  # older than the copy: counted through the rows
    with store.read() as tx:
        facets = reference(tx, terms["污水"], SearchFilters(), "relevance")[2]
    assert {"wechat", "500105009000", "2026-03-06", "noise"} <= {v for f in facets.values() for v in f}
    with store.begin() as tx:
        tx.conn.execute(text("UPDATE analyses SET unit_code = '500105004000' WHERE post_id = 5"))
    with store.engine.connect() as reader, reader.begin():
        same_as_reference(reader)
    assert search_counts._COPIES[store.engine] is copies  # updated, never re-made


def test_facet_keys_are_never_changed_or_deleted(filled):
    """What keeps the in-memory copies exact: a key's row, once written, stays (a refused change
    changes nothing)."""
    store, _indexer = filled
    for statement in ("UPDATE facet_keys SET day = '1999-01-01' WHERE id = 1", "DELETE FROM facet_keys WHERE id = 1"):
        with pytest.raises(StoreError, match="never changed or deleted"), store.begin() as tx:
            tx.conn.execute(text(statement))
    with store.read() as tx:
        assert tx.conn.execute(text("SELECT day != '1999-01-01' FROM facet_keys WHERE id = 1")).scalar_one() == 1
