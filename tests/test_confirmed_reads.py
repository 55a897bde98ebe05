"""The incident list, its export and the incident page check the token's user in the read view
they answer from: one connection and one transaction per request (the user's own read view was
as costly as the list's query, bench/api.py), and still 401 the moment the user changes."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import event

from core.passwords import hash_password
from storage.sql import SqlStore
from tests.api_seed import UNIT_A, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET


@pytest.fixture
def world(store: SqlStore, api_server: str) -> tuple[str, list[str]]:
    seed_users(store)
    incident_id = add_incident(store, title="石马河污水", text="石马河污水直排", unit_code=UNIT_A, unit="石马河街道")
    return api_server, ["/api/incidents?limit=50", f"/api/incidents/{incident_id}", "/api/exports/incidents.csv"]


def test_one_read_view_per_request(store: SqlStore, world: tuple[str, list[str]]) -> None:
    base, paths = world
    checkouts: list[object] = []
    event.listen(store.engine, "checkout", lambda *args: checkouts.append(args))
    for user in ("duty1", "unit_a"):
        for path in paths:
            checkouts.clear()
            resp = httpx.get(base + path, headers=token_headers(user, TEST_SECRET))
            assert resp.status_code == 200, (user, path, resp.text)
            assert len(checkouts) == 1, (user, path)


@pytest.mark.parametrize("change", ["disabled", "password reset", "moved to another unit"])
def test_a_changed_user_is_refused_by_the_same_read(store: SqlStore, world: tuple[str, list[str]], change: str) -> None:
    base, paths = world
    headers = token_headers("unit_a", TEST_SECRET)
    assert all(httpx.get(base + p, headers=headers).status_code == 200 for p in paths)
    with store.begin() as tx:
        if change == "disabled":
            tx.set_user_active("unit_a", False)
        elif change == "password reset":
            tx.set_user_password("unit_a", hash_password("another-password-123"))
        else:
            tx.conn.exec_driver_sql("UPDATE users SET unit_code = '500105006000' WHERE name = 'unit_a'")
    for path in paths:
        resp = httpx.get(base + path, headers=headers)
        assert resp.status_code == 401, (path, resp.status_code)
        assert resp.headers["www-authenticate"] == "Bearer" and "incident" not in resp.text
