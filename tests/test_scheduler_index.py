"""The scheduler's index job keeps SQLite full-text search and the Elasticsearch copy current."""

from __future__ import annotations

from core.models import Analysis, Polarity, RawPost
from ecowatch.scheduler import Pipeline


def test_index_job_feeds_fts_and_elasticsearch(settings, store, es_target, analyzer):
    from elasticsearch import Elasticsearch

    from storage.es_posts import EsPostIndex

    url, options = es_target
    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text="石马河污水直排又黑又臭", url="http://i/1")])
        tx.save_analysis(1, Analysis(True, "石马河街道", "500105003000", 1.0, ["water"], Polarity.NEG, 0.1),
                         tx.get_post(1).fetched_at)
    pipeline = Pipeline(settings.model_copy(update={"es_url": url}), store, [])
    pipeline._analyzer = analyzer
    pipeline._es = EsPostIndex(Elasticsearch(url, **options), prefix="schedjob")
    pipeline._es.ensure_template()
    pipeline.index()
    pipeline.index()  # a second run adds nothing and doubles nothing
    pipeline._es.refresh()
    assert pipeline._es.search([("污水", ["污水"])]).total == 1
    from indexing.search_index import SearchIndexer
    from storage.search import SearchFilters

    indexer = SearchIndexer(analyzer.jurisdiction)
    with store.read() as tx:
        found = tx.search_posts(indexer.query_terms(indexer.query_tokens("污水")), SearchFilters())
    assert [h.post_id for h in found.hits] == [1]


def test_a_search_does_not_wait_for_a_writer(settings, store, analyzer):
    """Reads never write: a search while another process holds the write lock answers at once
    (it once ran CREATE … IF NOT EXISTS, which waits for that lock, and failed after 30 s)."""
    import sqlite3
    import time

    from indexing.search_index import SearchIndexer
    from storage.search import SearchFilters

    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text="石马河污水直排又黑又臭", url="http://i/1")])
        tx.ensure_index()
    indexer = SearchIndexer(analyzer.jurisdiction)
    writer = sqlite3.connect(store.engine.url.database, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        started = time.monotonic()
        with store.read() as tx:
            found = tx.search_posts(indexer.query_terms(indexer.query_tokens("污水")), SearchFilters())
        assert time.monotonic() - started < 10
        assert found.total >= 0
    finally:
        writer.rollback()
        writer.close()
