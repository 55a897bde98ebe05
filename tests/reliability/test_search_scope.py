"""Unit-scoped search follows the incident's current unit (issue 20): after the duty desk reassigns
an incident, its posts are found by the new unit and no longer by the old one, through the real API
on the real SQLite full-text index (and on PostgreSQL's substring search, through the store)."""

from __future__ import annotations

import httpx

from alerts import actions
from alerts.config import alerts_config
from storage.search import SearchFilters
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET


def _found(base: str, user: str) -> list[tuple[int, str | None]]:
    resp = httpx.get(f"{base}/api/search", params={"q": "石马河"}, headers=token_headers(user, TEST_SECRET),
                     timeout=60)
    resp.raise_for_status()
    return [(h["incident_id"], h["unit_code"]) for h in resp.json()["hits"]]


def test_search_follows_a_reassigned_incident_to_its_new_unit(store, api_server, analyzer):
    seed_users(store)
    config = alerts_config(analyzer.jurisdiction)
    incident_id = add_incident(store, title="石马河黑臭", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit=analyzer.jurisdiction.units[UNIT_A].name)
    assert _found(api_server, "unit_a") == [(incident_id, UNIT_A)]
    assert _found(api_server, "unit_b") == []
    actions.assign(store, config, incident_id, UNIT_B, "duty1", reason="属地有误")
    assert _found(api_server, "unit_a") == []
    assert _found(api_server, "unit_b") == [(incident_id, UNIT_B)]
    assert _found(api_server, "duty1") == [(incident_id, UNIT_B)]


def test_the_unit_facet_and_filter_follow_the_incident_on_both_databases(sql_store, analyzer):
    seed_users(sql_store)
    config = alerts_config(analyzer.jurisdiction)
    incident_id = add_incident(sql_store, title="石马河黑臭", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit=analyzer.jurisdiction.units[UNIT_A].name)
    actions.assign(sql_store, config, incident_id, UNIT_B, "duty1", reason="属地有误")
    with sql_store.begin() as tx:  # SQLite: index the post (a no-op on PostgreSQL)
        tx.index_tokens([(pid, ["石马河"], ["石马", "马河"]) for pid, _ in tx.posts_to_index()])
    terms = [("石马河", ["石马", "马河"])]
    with sql_store.read() as tx:
        old = tx.search_posts(terms, SearchFilters(unit_code=UNIT_A))
        new = tx.search_posts(terms, SearchFilters(unit_code=UNIT_B))
        every = tx.search_posts(terms, SearchFilters())
    assert (old.total, new.total) == (0, 1)
    assert [h.unit_code for h in new.hits] == [UNIT_B]
    assert every.facets["unit_code"] == {UNIT_B: 1}
