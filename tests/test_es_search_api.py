"""/api/search served by Elasticsearch through the real API: the answer says so, unit users see
only their unit, /healthz reports the copy's lag; a cluster that goes down answers 503 with a clear
message while posts keep being collected and processed, and the copy catches up when it returns."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from elasticsearch import Elasticsearch

from alerts.detection import process_pending
from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from core.timeutil import utcnow
from dashboard_api import create_app
from indexing.search_index import SearchIndexer, bigrams
from storage.es_posts import EsPostIndex
from storage.search_sync import sync_posts
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET, serving


def _search(base: str, user: str, q: str) -> httpx.Response:
    return httpx.get(f"{base}/api/search", params={"q": q, "sort": "newest"},
                     headers=token_headers(user, TEST_SECRET), timeout=60)


def _sync(store, index: EsPostIndex, indexer: SearchIndexer):
    return sync_posts(store, index, lambda t: indexer.document_tokens(t)[0], grams=bigrams, refresh=True)


def test_search_says_elasticsearch_scopes_units_and_healthz_reports_the_lag(store, es_target):
    url, options = es_target
    index = EsPostIndex(Elasticsearch(url, **options), prefix=f"a{uuid.uuid4().hex[:10]}")
    index.ensure_template()
    jurisdiction = load_jurisdiction("jiangbei")
    indexer = SearchIndexer(jurisdiction)
    seed_users(store)
    a = add_incident(store, title="石马河黑臭", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道")
    b = add_incident(store, title="石马河排污", text="观音桥石马河段排污", unit_code=UNIT_B, unit="观音桥街道")
    with serving(create_app(store, jurisdiction, secret_key=TEST_SECRET, search_index=index)) as base:
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        assert health["search_backend"] == "elasticsearch" and health["es_lag_posts"] == 2
        assert health["es_lag_seconds"] >= 0
        assert _search(base, "duty1", "石马河").json()["total"] == 0  # not in the copy yet: Elasticsearch answered
        _sync(store, index, indexer)
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        assert (health["es_lag_posts"], health["es_lag_seconds"]) == (0, 0.0)
        every = _search(base, "duty1", "石马河").json()
        assert every["backend"] == "elasticsearch" and every["unindexed"] == 0
        assert (every["ranking"], every["ranked"]) == ("newest", 2)
        assert [h["incident_id"] for h in every["hits"]] == [b, a]
        assert every["facets"]["unit_code"] == {UNIT_A: 1, UNIT_B: 1}
        assert every["hits"][0]["title_highlights"]  # highlights as on SQLite: spans in the stored text
        own = _search(base, "unit_a", "石马河").json()
        assert [h["incident_id"] for h in own["hits"]] == [a] and own["facets"]["unit_code"] == {UNIT_A: 1}
        assert own["total"] == 1
    with serving(create_app(store, jurisdiction, secret_key=TEST_SECRET)) as base:  # no ECOWATCH_ES_URL
        lite = _search(base, "duty1", "石马河").json()
        assert lite["backend"] == "sqlite" and [h["incident_id"] for h in lite["hits"]] == [b, a]
        assert "search_backend" not in httpx.get(f"{base}/healthz", timeout=10).json()


def test_cluster_down_during_search_then_back_catches_up(store, analyzer):
    from osmem_server import OsmemServer

    from tests.services.elasticsearch import CompatRewritingNode

    seed_users(store)
    indexer = SearchIndexer(analyzer.jurisdiction)
    server = OsmemServer.start()
    address = server.url.removeprefix("http://")
    index = EsPostIndex(Elasticsearch(server.url, node_class=CompatRewritingNode, max_retries=0, request_timeout=20),
                        prefix="down")
    index.ensure_template()
    add_incident(store, title="石马河黑臭", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道")
    _sync(store, index, indexer)
    with serving(create_app(store, analyzer.jurisdiction, secret_key=TEST_SECRET, search_index=index)) as base:
        assert _search(base, "duty1", "石马河").json()["total"] == 1
        server.process.kill()
        server.process.wait()
        down = _search(base, "duty1", "石马河")
        assert down.status_code == 503
        detail = down.json()["detail"]
        assert "Elasticsearch does not answer" in detail and "catches up" in detail
        assert address not in detail and "Traceback" not in detail  # the cluster's address is not shown
        # Meanwhile posts keep arriving and being processed; the copy only falls behind.
        now = utcnow()
        with store.begin() as tx:
            tx.add_posts([RawPost(source="s", text=f"石马河街道石马河污水直排 第{i}次", url=f"http://d/{i}",
                                  published_at=now - dt.timedelta(minutes=i)) for i in range(5)], now)
        assert process_pending(store, analyzer, now).processed == 5
        behind = _sync(store, index, indexer)
        assert behind.indexed == 0 and behind.pending == 5 and "Elasticsearch" in (behind.error or "")
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["es_lag_posts"] == 5
        # The cluster returns (empty, like a restore from nothing) on the same address.
        with OsmemServer.start(addr=address):
            index.ensure_template()
            from storage.search_sync import reconcile

            refill = reconcile(store, index, lambda t: indexer.document_tokens(t)[0], grams=bigrams, refresh=True)
            assert (refill.in_cluster, refill.recorded, refill.refilled, refill.error) == (0, 1, 6, None)
            back = _search(base, "duty1", "石马河").json()
            assert back["backend"] == "elasticsearch" and back["total"] == 6 and back["unindexed"] == 0
            assert httpx.get(f"{base}/healthz", timeout=10).json()["es_lag_posts"] == 0
