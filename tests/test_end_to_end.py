"""A feed served over loopback becomes an incident assigned to the right street, via the API."""

from __future__ import annotations

import shutil

import httpx

from alerts.detection import process_pending
from crawlers.collect import collect
from crawlers.sources import Source
from tests.api_seed import login, seed_users
from tests.conftest import FIXTURES


def test_feed_to_assigned_incident_over_http(static_server, settings, store, analyzer, api_server):
    base, root = static_server
    shutil.copy(FIXTURES / "jiangbei_feed.xml", root / "feed.xml")
    source = Source(name="test-feed", kind="rss", url=f"{base}/feed.xml", allow_private=True)

    first = collect(source, store, settings)
    assert first.ok and first.items == 3 and first.new == 3
    report = process_pending(store, analyzer)
    assert report.processed == 3 and report.opened == 1

    seed_users(store)
    auth = login(api_server, "duty1")
    incidents = httpx.get(f"{api_server}/api/incidents", headers=auth).json()
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["unit"] == "石马河街道"
    assert incident["unit_code"] == "500105003000"
    assert incident["state"] == "assigned"
    assert incident["topic"] == "water"
    assert "response" in incident["deadlines"]

    detail = httpx.get(f"{api_server}/api/incidents/{incident['id']}", headers=auth).json()
    assert [p["title"] for p in detail["posts"]] == ["石马河街道鲜花港社区旁边的石马河又黑又臭"]
    assert [a["action"] for a in detail["audit"]] == ["open", "assign"]

    # Reading the same feed again adds nothing.
    second = collect(source, store, settings)
    assert second.ok and second.new == 0
    assert process_pending(store, analyzer).processed == 0
    assert len(httpx.get(f"{api_server}/api/incidents", headers=auth).json()) == 1
    with store.read() as tx:
        assert tx.count_posts() == 3


def test_missing_incident_is_404_json(api_server, store):
    seed_users(store)
    resp = httpx.get(f"{api_server}/api/incidents/999", headers=login(api_server, "duty1"))
    assert resp.status_code == 404
    assert "not found" in resp.json()["detail"]


def test_healthz(api_server):
    assert httpx.get(f"{api_server}/healthz").json()["status"] == "ok"
