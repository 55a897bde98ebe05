"""Quiet or blind: the pure health reading and GET /api/sources."""

from __future__ import annotations

import datetime as dt

import httpx

from core.source_health import assess

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def run(hours_ago: float, ok: bool = True, items: int = 1, error: str | None = None) -> dict:
    at = NOW - dt.timedelta(hours=hours_ago)
    return {"started_at": at, "finished_at": at, "ok": ok, "items": items, "error": error}


def test_healthy_quiet_and_blind():
    healthy = assess("gov", [run(1), run(2, items=3)], 24, NOW)
    assert not healthy.blind and healthy.items_per_run == 2.0 and healthy.last_item_at == NOW - dt.timedelta(hours=1)
    quiet_too_long = assess("gov", [run(1, items=0), run(30, items=2)], 24, NOW)
    assert quiet_too_long.blind and "no item for more than 24 h" in quiet_too_long.blind_reason
    quiet_ok = assess("gov", [run(1, items=0), run(20, items=2)], 24, NOW)
    assert not quiet_ok.blind


def test_blocked_and_failed_and_never_run():
    blocked = assess("微博 | 江北 污染", [run(0.1, ok=False, items=0, error="login expired: Weibo says '请先登录'")],
                     12, NOW)
    assert blocked.blind and blocked.blind_reason.startswith("blocked: login expired")
    assert (blocked.group, blocked.keyword) == ("微博", "江北 污染")
    teapot = assess("wb", [run(0.1, ok=False, items=0, error="blocked by the site: HTTP 418 rate-limited")], 12, NOW)
    assert teapot.blind_reason.startswith("blocked:")
    failed = assess("gov", [run(0.1, ok=False, items=0, error="HTTP 500 from x"), run(1)], 24, NOW)
    assert failed.blind_reason == "last run failed: HTTP 500 from x" and failed.last_success_at is not None
    never = assess("new", [], 24, NOW)
    assert never.blind and never.blind_reason == "never collected"


def test_api_sources_per_keyword(api_server, store):
    now = dt.datetime.now(dt.UTC)
    with store.begin() as tx:
        tx.record_source_run("微博搜索 | 江北 污染", now, now, True, 5, 5)
        tx.record_source_run("微博搜索 | 江北 臭", now, now, False, 0, 0, "login expired: renew the cookie")
    from tests.api_seed import seed_users, token_headers
    from tests.conftest import TEST_SECRET

    seed_users(store)
    assert httpx.get(api_server + "/api/sources", timeout=5).status_code == 401  # health is not public
    sources = {s["source"]: s for s in httpx.get(api_server + "/api/sources", timeout=5,
                                                 headers=token_headers("duty1", TEST_SECRET)).json()}
    ok, bad = sources["微博搜索 | 江北 污染"], sources["微博搜索 | 江北 臭"]
    assert (ok["group"], ok["keyword"], ok["blind"], ok["items_per_run"]) == ("微博搜索", "江北 污染", False, 5.0)
    assert bad["blind"] and bad["blind_reason"].startswith("blocked: login expired")
    assert bad["last_error"] == "login expired: renew the cookie"
