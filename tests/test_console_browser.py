"""What a user reads in the console, in a real browser (Debian's chromium, headless).

The browser runs in another time zone than Shanghai: times must still be shown in Asia/Shanghai.
Codes (actions, states, signals) reach the page in Chinese, and so do errors: a unit returning an
incident without a reason is stopped in Chinese before anything is sent, and another unit's
incident is refused in Chinese.
"""

from __future__ import annotations

import datetime as dt
import os

import httpx
import pytest

from core.models import State
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET
from tests.test_browser import _click, _login, _state_is, _text, _wait, pytestmark, start_chromium  # noqa: F401

OPENED = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai, 19:30 the day before in New York


@pytest.fixture
def browser_ny():
    driver = start_chromium(dict(os.environ, TZ="America/New_York"))
    yield driver
    driver.quit()


def test_unit_reads_chinese_times_and_errors(browser_ny, store, api_server):
    from selenium.webdriver.common.by import By

    seed_users(store)
    base, d = api_server, browser_ny
    iid = add_incident(store, title="石马河又黑又臭", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道",
                       state=State.ASSIGNED, opened_at=OPENED)
    other = add_incident(store, title="观音桥油烟", text="观音桥油烟扰民", unit_code=UNIT_B, unit="观音桥街道",
                         state=State.ASSIGNED, opened_at=OPENED)
    assert d.execute_script("return new Date('2026-03-01T00:30:00Z').getHours()") == 19, "browser is not in New York"

    _login(d, base, "unit_a")
    _click(d, f'#inbox-assigned tr[data-id="{iid}"]')
    _state_is(d, "已交办")
    page = _text(d, "#detail")
    assert "立案：2026/03/01 08:30" in page  # Asia/Shanghai, whatever the browser's zone
    assert "2026/02/28" not in page
    assert "情感：负面" in page and "neg" not in page
    audit = _text(d, "#audit")
    assert "系统" in audit and "立案" in audit and "system" not in audit and "open" not in audit

    # Returning without a reason is stopped by the page, in Chinese; nothing reaches the server.
    _click(d, 'form[data-action="return"] button')
    reason = d.find_element(By.CSS_SELECTOR, 'form[data-action="return"] input[name="reason"]')
    assert reason.get_attribute("validationMessage") == "请填写退单理由"
    headers = token_headers("duty1", TEST_SECRET)
    assert httpx.get(f"{base}/api/incidents/{iid}", headers=headers).json()["state"] == "assigned"

    reason.send_keys("该点位属观音桥街道")
    _click(d, 'form[data-action="return"] button')
    _state_is(d, "已退单")
    _wait(d, lambda d: "理由：该点位属观音桥街道" in d.find_element(By.ID, "audit").text)
    assert "退单" in _text(d, "#audit")

    # Another unit's incident: refused (404 to a unit) and said so in Chinese.
    d.execute_script(f"openIncident({other})")
    _wait(d, lambda d: "无法打开事件" in d.find_element(By.ID, "detail").text)
    assert "不存在" in _text(d, "#detail") and "not found" not in _text(d, "#detail")
