"""Hostile or careless requests against the real server on loopback get a clear 4xx, never a 500
nor a dropped keep-alive connection."""

from __future__ import annotations

import httpx
import pytest

from tests.api_seed import seed_users, token_headers
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize("key", ["9999-W52", "9999-12-31", "0001-01-01", "0001-W01", "1969-12-31"])
def test_briefing_key_out_of_range_is_422_on_a_kept_connection(store, api_server, key):
    seed_users(store)
    with httpx.Client(base_url=api_server, headers=token_headers("duty1", TEST_SECRET), timeout=60) as http:
        bad = http.get(f"/api/briefings/{key}", params={"format": "html"})
        assert bad.status_code == 422 and "out of range" in bad.json()["detail"]
        assert bad.headers.get("connection") != "close"
        for edge in ("1970-W01", "9998-W52", "1970-01-01", "9998-12-31"):  # the first and last that are served
            assert http.get(f"/api/briefings/{edge}", params={"format": "html"}).status_code == 200, edge
