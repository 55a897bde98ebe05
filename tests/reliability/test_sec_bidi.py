"""Crawled text is inert where it is shown: a title carrying U+202E (RIGHT-TO-LEFT OVERRIDE) or other
invisible bidi/zero-width characters is shown without them, in the console (a real browser) and
in the briefing's HTML (over HTTP); what is stored is unchanged."""

from __future__ import annotations

import datetime as dt

import httpx

from briefing.period import week_of
from tests.api_seed import UNIT_A, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET
from tests.test_browser import pytestmark as browser_available

HOSTILE = "\u202e告报测监\u202c石马\u200b河\u2066排污\u2069\ufeff"
CONTROLS = ("\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\ufeff")
SHOWN = "告报测监石马河排污"


def test_briefing_html_shows_titles_without_bidi_controls(store, api_server):
    seed_users(store)
    opened = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    iid = add_incident(store, title=HOSTILE, text=HOSTILE + "，石马河街道", unit_code=UNIT_A, unit="石马河街道",
                       opened_at=opened)
    key = week_of(opened).key
    page = httpx.get(f"{api_server}/api/briefings/{key}", params={"format": "html"},
                     headers=token_headers("duty1", TEST_SECRET), timeout=60)
    assert page.status_code == 200 and SHOWN in page.text
    assert not [c for c in CONTROLS if c in page.text], "a bidi or invisible control reached the briefing"
    with store.read() as tx:
        assert tx.get_incident(iid).title == HOSTILE  # stored as collected


@browser_available
def test_console_shows_titles_without_bidi_controls(store, api_server):
    from tests.test_browser import _login, _wait, start_chromium

    seed_users(store)
    add_incident(store, title=HOSTILE, text=HOSTILE + "，石马河街道", unit_code=UNIT_A, unit="石马河街道")
    driver = start_chromium()
    try:
        _login(driver, api_server, "duty1")
        _wait(driver, lambda d: SHOWN in d.execute_script("return document.body.innerText"))
        text = driver.execute_script("return document.body.textContent")
        assert not [c for c in CONTROLS if c in text], "a bidi or invisible control reached the console"
    finally:
        driver.quit()
