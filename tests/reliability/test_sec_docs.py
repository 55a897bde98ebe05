"""The API's documentation works offline: /docs and /redoc load their scripts from this server
(nothing from a CDN), in a real browser with no network; /openapi.json is public by default and
for logged-in users only when ECOWATCH_PUBLIC_API_SCHEMA=false."""

from __future__ import annotations

import re

import httpx

from core.jurisdiction import load_jurisdiction
from tests.api_seed import seed_users, token_headers
from tests.conftest import TEST_SECRET, serving
from tests.test_browser import pytestmark as browser_available


def test_docs_pages_load_nothing_from_elsewhere(api_server):
    for page in ("/docs", "/redoc"):
        resp = httpx.get(api_server + page)
        assert resp.status_code == 200 and "default-src 'self'" in resp.headers["content-security-policy"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', resp.text)
        assert sources and all(s.startswith("/") for s in sources), sources  # same server only
        for src in sources:
            if src.startswith("/docs/assets/"):
                asset = httpx.get(api_server + src)
                assert asset.status_code == 200 and len(asset.content) > 1000, src
    assert httpx.get(api_server + "/docs/assets/..%2Fdocs.py").status_code == 404
    assert httpx.get(api_server + "/docs/assets/index.html").status_code == 404
    assert httpx.get(api_server + "/openapi.json").json()["info"]["title"] == "ecowatch"  # public by default


def test_schema_for_logged_in_users_only_when_configured(store):
    from dashboard_api import create_app

    seed_users(store)
    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET,
                            public_api_schema=False)) as base:
        anonymous = httpx.get(base + "/openapi.json")
        assert anonymous.status_code == 401 and "paths" not in anonymous.text
        for user in ("unit_a", "duty1"):
            schema = httpx.get(base + "/openapi.json", headers=token_headers(user, TEST_SECRET)).json()
            assert "/api/incidents" in schema["paths"]


@browser_available
def test_swagger_ui_renders_offline_in_a_browser(store, api_server):
    from tests.test_browser import _login, _wait, start_chromium

    seed_users(store)
    driver = start_chromium()
    try:
        _login(driver, api_server, "duty1")  # the docs page uses the console's session
        driver.get(api_server + "/docs")
        title = _wait(driver, lambda d: d.execute_script(
            "const t = document.querySelector('.swagger-ui .info .title'); return t && t.textContent"))
        assert title.startswith("ecowatch")
        assert _wait(driver, lambda d: d.execute_script("return document.querySelectorAll('.opblock').length")) > 20
        external = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                         ".filter(n => !n.startsWith(location.origin))")
        assert external == []
    finally:
        driver.quit()
