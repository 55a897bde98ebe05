"""Tokens stop standing for their user at once, over the real server on loopback: an open live-feed
stream ends with a ``closed`` event when its token expires or its user is disabled or has its
password reset, and a password reset or a disable/enable invalidates every token issued before."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import httpx
import pytest

from core.passwords import hash_password
from core.timeutil import utcnow
from dashboard_api.security import create_token
from tests.api_seed import PASSWORD, UNIT_A, add_incident, login, seed_users, token_headers
from tests.conftest import TEST_SECRET


def _read_stream(base: str, headers: dict[str, str], max_seconds: float = 20) -> tuple[list[dict], float]:
    """The frames of one stream from the start (after=0) until the server ends it, and how long it was open."""
    started = time.monotonic()
    frames, block = [], {}
    with httpx.Client(timeout=30) as http, http.stream(
            "GET", f"{base}/api/feed/stream", params={"after": 0, "max_seconds": max_seconds},
            headers=headers) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if not line:
                if block:
                    frames.append(block)
                block = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                block[key] = value
    return frames, time.monotonic() - started


def _later(seconds: float, action) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_open_stream_ends_when_its_token_expires(store, api_server):
    seed_users(store)
    iid = add_incident(store, title="石马河污水", text="石马河污水", unit_code=UNIT_A, unit="石马河街道")
    # Issued 58 s ago for one minute: valid when the stream opens, expired 2 s later.
    token, expires = create_token(TEST_SECRET, "duty1", "duty", None, utcnow() - dt.timedelta(seconds=58), 1)
    frames, open_for = _read_stream(api_server, {"Authorization": f"Bearer {token}"})
    data = [f for f in frames if "data" in f]
    assert json.loads(data[0]["data"])["incident_id"] == iid  # what was there is still delivered
    assert data[-1]["event"] == "closed" and json.loads(data[-1]["data"])["reason"] == "expired"
    assert "id" not in data[-1]  # not an event of the feed: a reconnect resumes after the last real one
    assert open_for < 8, f"the stream stayed open {open_for:.1f} s past a token that expired at {expires}"
    again = httpx.get(f"{api_server}/api/feed/stream", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.status_code == 401


@pytest.mark.parametrize("change", ["disable", "password"])
def test_open_stream_ends_when_its_user_is_disabled_or_reset(store, api_server, change):
    seed_users(store)
    add_incident(store, title="观音桥噪声", text="观音桥噪声", unit_code=UNIT_A, unit="石马河街道")
    headers = token_headers("unit_a", TEST_SECRET)  # valid for an hour

    def act() -> None:
        with store.begin() as tx:
            if change == "disable":
                tx.set_user_active("unit_a", False)
            else:
                tx.set_user_password("unit_a", hash_password("another-long-passphrase"))

    _later(1.5, act)
    frames, open_for = _read_stream(api_server, headers)
    last = frames[-1]
    assert last["event"] == "closed" and json.loads(last["data"]) == {
        "reason": "revoked", "detail": "this account is disabled or has changed: log in again"}
    assert open_for < 8, f"the stream kept delivering {open_for:.1f} s after the user was changed"


def test_password_reset_and_disable_enable_invalidate_old_tokens(store, api_server):
    seed_users(store)
    base = api_server
    admin = login(base, "admin1")
    old = login(base, "duty1")
    assert httpx.get(f"{base}/api/auth/me", headers=old).status_code == 200

    new_password = "a-fresh-passphrase-2026"
    reset = httpx.patch(f"{base}/api/users/duty1", json={"password": new_password}, headers=admin)
    assert reset.status_code == 200
    assert httpx.get(f"{base}/api/auth/me", headers=old).status_code == 401  # the reset ends old sessions
    fresh = login(base, "duty1", new_password)
    assert httpx.get(f"{base}/api/auth/me", headers=fresh).status_code == 200

    assert httpx.patch(f"{base}/api/users/duty1", json={"active": False}, headers=admin).status_code == 200
    assert httpx.patch(f"{base}/api/users/duty1", json={"active": True}, headers=admin).status_code == 200
    revived = httpx.get(f"{base}/api/auth/me", headers=fresh)
    assert revived.status_code == 401, "re-enabling a user revived the token it had before it was disabled"
    assert httpx.get(f"{base}/api/auth/me", headers=login(base, "duty1", new_password)).status_code == 200
    assert httpx.get(f"{base}/api/auth/me", headers=login(base, "unit_a", PASSWORD)).status_code == 200
