"""One search, two backends: SQLite FTS5 and the Elasticsearch copy answer the same queries with the
same hits, in the same order (``sort="newest"``: publish, else fetch, time then post id, descending;
"relevance" scores differ by engine, so there only the set is compared), the same totals and facets,
and the same unit isolation, also after the duty desk reassigns an incident. Elasticsearch is a real
cluster when ES_URL is set, else the osmem-server emulator (tests/conftest.py: ``es_target``,
``index``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from alerts import actions
from alerts.config import alerts_config
from core.jurisdiction import load_jurisdiction
from core.models import Analysis, Polarity, RawPost
from indexing.search_index import SearchIndexer, bigrams
from storage.es_posts import EsPostIndex
from storage.search import SearchFilters
from storage.search_backends import ElasticsearchSearch, SqliteSearch
from storage.search_sync import sync_posts
from storage.sql import SqlStore
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
UNIT_C = "500105007000"
# (text, unit, topic, polarity, source, hours before T0 or None = no publish time)
POSTS = [
    ("石马河街道鲜花港社区旁石马河污水直排，又黑又臭", UNIT_A, "water", "neg", "weibo", 1),
    ("观音桥建北社区烧烤油烟扰民", UNIT_B, "air", "neg", "news", 2),
    ("五里店莺花厢社区餐馆油烟直排居民楼", UNIT_C, "air", "neg", "weibo", 3),
    ("溉澜溪溉塘新村段有管子往河里排污水", "500105005000", "water", "neg", "news", 9),  # 16:00 UTC: Shanghai next day
    ("江北区今年空气优良天数创新高", None, "air", "pos", "weibo", 30),
    ("大石坝东原社区工地夜间施工噪音", "500105004000", "noise", "neg", "news", None),
    ("石马河污水处理厂提标改造完工，河水变清", UNIT_A, "water", "pos", "news", 50),
    ("观音桥步行街油烟味重，社区已约谈商户", UNIT_B, "air", "neu", "weibo", 50),  # same time as the one above
    ("石马河沿岸又现黑臭水体，居民投诉污水", UNIT_A, "water", "neg", "weibo", 400),
    ("五里店工地噪音扰民到深夜", UNIT_C, "noise", "neg", "news", 700),
]
QUERIES = ["污水", "油烟", "石马河", "社区 油烟", "黑臭", "噪音", "排污", "观音桥", "空气", "没有这个词"]


@pytest.fixture
def indexer() -> SearchIndexer:
    return SearchIndexer(load_jurisdiction("jiangbei"))


def sync(store: SqlStore, index: EsPostIndex, indexer: SearchIndexer, now: dt.datetime | None = None) -> int:
    report = sync_posts(store, index, lambda t: indexer.document_tokens(t)[0], grams=bigrams, refresh=True, now=now)
    assert report.error is None and report.pending == 0
    return report.indexed


@pytest.fixture
def backends(store, index, indexer) -> Iterator[tuple[SqliteSearch, ElasticsearchSearch]]:
    """Both backends over the same posts: two of them in incidents (one since reassigned from A to B)."""
    seed_users(store)
    with store.begin() as tx:
        added = tx.add_posts([RawPost(source=src, text=text, url=f"http://p/{i}",
                                      published_at=None if hours is None else T0 - dt.timedelta(hours=hours),
                                      fetched_at=T0)
                              for i, (text, _u, _t, _p, src, hours) in enumerate(POSTS)], T0)
        for pid, (_text, unit, topic, pol, _s, _h) in zip(added.new_ids, POSTS, strict=True):
            tx.save_analysis(pid, Analysis(True, None, unit, 1.0, [topic], Polarity(pol), 0.2), T0)
    kept = add_incident(store, title="石马河黑臭", text="石马河又黑又臭，污水直排", unit_code=UNIT_A, unit="石马河街道")
    moved = add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道")
    actions.assign(store, alerts_config(indexer.jurisdiction), moved, UNIT_B, "duty1", reason="属地有误")
    assert kept and indexer.catch_up(store) == len(POSTS) + 2
    assert sync(store, index, indexer) == len(POSTS) + 2
    yield SqliteSearch(store), ElasticsearchSearch(store, index)


def answers(backend, indexer, query: str, filters: SearchFilters, sort: str = "newest", limit: int = 50):
    return backend.search(indexer.query_terms(indexer.query_tokens(query)), filters, limit=limit, offset=0,
                          sort=sort)


def assert_same(lite, es, label: str) -> None:
    assert [h.post_id for h in es.hits] == [h.post_id for h in lite.hits], label
    assert es.total == lite.total, label
    assert es.facets == lite.facets, label
    assert [h.unit_code for h in es.hits] == [h.unit_code for h in lite.hits], label


FILTERS = [SearchFilters(), SearchFilters(unit_code=UNIT_A), SearchFilters(unit_code=UNIT_B),
           SearchFilters(topic="air"), SearchFilters(source="weibo"), SearchFilters(polarity="neg"),
           SearchFilters(since=T0 - dt.timedelta(hours=10), until=T0)]


def test_same_hits_order_totals_and_facets(backends, indexer):
    lite_backend, es_backend = backends
    found = 0
    for query in QUERIES:
        for filters in FILTERS:
            lite = answers(lite_backend, indexer, query, filters)
            es = answers(es_backend, indexer, query, filters)
            assert_same(lite, es, f"{query} {filters}")
            found += lite.total
            rel_lite = answers(lite_backend, indexer, query, filters, sort="relevance")
            rel_es = answers(es_backend, indexer, query, filters, sort="relevance")
            assert {h.post_id for h in rel_es.hits} == {h.post_id for h in rel_lite.hits}
            assert rel_es.facets == rel_lite.facets
            # Few matches: both rank every one of them, and say so.
            assert (rel_es.ranking, rel_es.ranked) == (rel_lite.ranking, rel_lite.ranked) == ("relevance", lite.total)
            assert (es.ranking, es.ranked) == (lite.ranking, lite.ranked) == ("newest", lite.total)
    assert found > 30  # not vacuous
    # The Shanghai day facet: 16:00 UTC is the next day in Shanghai, on both.
    es = answers(es_backend, indexer, "排污", SearchFilters())
    assert "2026-11-20" in es.facets["day"]
    # A post placed in no unit is counted under "" on both.
    assert answers(es_backend, indexer, "空气", SearchFilters()).facets["unit_code"] == {"": 1}


def test_pages_are_the_same_slices(backends, indexer):
    lite_backend, es_backend = backends
    terms = indexer.query_terms(indexer.query_tokens("社区"))
    for offset in (0, 2, 4):
        lite = lite_backend.search(terms, SearchFilters(), limit=2, offset=offset, sort="newest")
        es = es_backend.search(terms, SearchFilters(), limit=2, offset=offset, sort="newest")
        assert [h.post_id for h in es.hits] == [h.post_id for h in lite.hits] and es.total == lite.total >= 5


def test_unit_isolation_follows_the_incident_on_both(backends, indexer):
    lite_backend, es_backend = backends
    for backend in backends:
        a = answers(backend, indexer, "石马河", SearchFilters(unit_code=UNIT_A))
        b = answers(backend, indexer, "石马河", SearchFilters(unit_code=UNIT_B))
        assert a.total and all(h.unit_code == UNIT_A for h in a.hits), backend.name
        assert all(h.unit_code == UNIT_B for h in b.hits) and b.total == 1, backend.name
        assert "排污口" in b.hits[0].text and b.facets["unit_code"] == {UNIT_B: 1}, backend.name
    assert_same(answers(lite_backend, indexer, "石马河", SearchFilters(unit_code=UNIT_B)),
                answers(es_backend, indexer, "石马河", SearchFilters(unit_code=UNIT_B)), "B")


def test_a_reassignment_after_the_sync_reaches_the_copy_on_the_next_pass(backends, store, index, indexer):
    lite_backend, es_backend = backends
    first = answers(es_backend, indexer, "黑又臭", SearchFilters(unit_code=UNIT_A))
    incident_id = next(h.incident_id for h in first.hits if h.incident_id)
    hour = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    sync(store, index, indexer, now=hour)  # a pass well after the posts joined their incidents
    assert sync(store, index, indexer, now=hour) == 0  # nothing is due any more
    actions.assign(store, alerts_config(indexer.jurisdiction), incident_id, UNIT_C, "duty1", reason="属地有误",
                   now=hour + dt.timedelta(minutes=5))
    assert sync(store, index, indexer, now=hour + dt.timedelta(minutes=6)) == 1  # the moved incident's post
    for unit in (UNIT_A, UNIT_C):
        lite = answers(lite_backend, indexer, "黑又臭", SearchFilters(unit_code=unit))
        es = answers(es_backend, indexer, "黑又臭", SearchFilters(unit_code=unit))
        assert_same(lite, es, unit)
    assert incident_id in {h.incident_id for h in answers(es_backend, indexer, "黑又臭",
                                                          SearchFilters(unit_code=UNIT_C)).hits}
    # Once a pass has run well after the assignment, nothing is sent again.
    later = hour + dt.timedelta(hours=1)
    sync(store, index, indexer, now=later)
    assert sync(store, index, indexer, now=later) == 0


def test_elasticsearch_backend_over_either_database(sql_store, index, indexer):
    """The Elasticsearch backend reads its hits from the record on SQLite and on PostgreSQL alike."""
    seed_users(sql_store)
    moved = add_incident(sql_store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A,
                         unit="石马河街道")
    actions.assign(sql_store, alerts_config(indexer.jurisdiction), moved, UNIT_B, "duty1", reason="属地有误")
    assert sync(sql_store, index, indexer) == 1
    es_backend = ElasticsearchSearch(sql_store, index)
    assert answers(es_backend, indexer, "排污", SearchFilters(unit_code=UNIT_A)).total == 0
    found = answers(es_backend, indexer, "排污", SearchFilters(unit_code=UNIT_B))
    assert [(h.incident_id, h.unit_code) for h in found.hits] == [(moved, UNIT_B)]
    assert found.hits[0].published_at is not None and found.hits[0].published_at.tzinfo is not None
