"""The statistics page shows the duty desk's corrections and the analysis' accuracy against them,
in a real browser (Debian's chromium, headless), in Chinese."""

from __future__ import annotations

import datetime as dt

import httpx

from core.timeutil import utcnow
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET
from tests.test_browser import _click, _login, _text, _wait, browser, pytestmark  # noqa: F401
from tests.test_desk_learning import three_incidents


def test_statistics_page_shows_correction_counts(browser, store, api_server):  # noqa: F811
    from selenium.webdriver.common.by import By

    seed_users(store)
    base, duty = api_server, token_headers("duty1", TEST_SECRET)
    opened = utcnow() - dt.timedelta(days=1)  # inside the page's default 30 days
    ids = three_incidents(store, opened)
    moved, elsewhere, mixed, noise = ids["moved"], ids["elsewhere"], ids["mixed"], ids["noise"]
    add_incident(store, title="石马河又有黑水", text="石马河排污口又在冒黑水", unit_code=UNIT_A, unit="石马河街道",
                 opened_at=opened)  # let stand: right on every field
    for path, body in ((f"{moved}/reassign", {"unit_code": UNIT_B, "reason": "北城天街属观音桥街道"}),
                       (f"{elsewhere}/dismiss", {"scope": "jurisdiction", "reason": "宁波市江北区"}),
                       (f"{mixed}/split", {"post_ids": [noise], "reason": "工地噪声另案"}),
                       (f"{mixed}/grade", {"grade": "yellow", "reason": "多人反映"})):
        assert httpx.post(f"{base}/api/incidents/{path}", headers=duty, json=body).status_code == 200

    d = browser
    _login(d, base, "duty1")
    _click(d, 'nav button[data-view="overview"]')
    _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, '#ov-corrections tr[data-kind="split"]'))

    def count(kind):
        return _text(d, f'#ov-corrections tr[data-kind="{kind}"] td.num')

    kinds = ("wrong_unit", "not_relevant", "split", "regraded", "merged")
    assert [count(k) for k in kinds] == ["1", "1", "1", "1", "0"]
    assert "属地错误" in _text(d, "#ov-corrections") and "误报/不相关" in _text(d, "#ov-corrections")
    summary = _text(d, "#ov-corrected")
    # 5 posts of the period's incidents; the desk said otherwise on 2 (the unit of one, the relevance of another).
    assert "是否相关 80%" in summary and "属地 80%" in summary and "wrong_unit" not in summary
    units = _text(d, "#ov-acc-unit")
    assert "观音桥街道" in units and "石马河街道" in units
    assert "水环境" in _text(d, "#ov-acc-topic")
