"""The duty console in a real browser (Debian's chromium, headless): the desk shows who is on duty
(name, phone, until when, backup, leader on call) and the page nobody has taken; the officer takes
it with one click, the hand-over is accepted, and the month view lists the shifts; the wall screen
shows the same panel. The incident's crawled title stays inert text."""

from __future__ import annotations

import os

import httpx

from tests.api_seed import token_headers
from tests.conftest import TEST_SECRET
from tests.test_browser import EVIL, _click, _login, _text, _wait, browser, pytestmark  # noqa: F401
from tests.test_rota_api import paged_world


def test_desk_shows_who_is_on_duty_and_takes_a_page(browser, store, api_server, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    _, shift, incident = paged_world(store, tmp_path, "化工园区爆炸", EVIL)
    base, d = api_server, browser

    _login(d, base, "duty1")
    _wait(d, lambda d: "duty1 13800000001" in d.find_element(By.ID, "duty-now").text)
    panel = _text(d, "#duty-now")
    assert "当前值班：" in panel and "备班：张伟 13800000002" in panel and "带班领导：leader1 13900000001" in panel
    assert shift.kind.label in panel
    pages = _text(d, "#duty-pages")
    assert f"#{incident} 化工园区爆炸" in pages and "已呼叫值班员 duty1" in pages and "特别重大" in pages
    assert d.execute_script("return window.__pwned") is None

    if os.environ.get("ECOWATCH_SCREENSHOTS"):
        d.save_screenshot(os.environ["ECOWATCH_SCREENSHOTS"] + "/duty-desk.png")
    _click(d, '#duty-pages li[data-page] button')
    _wait(d, lambda d: "已确认接警" in d.find_element(By.ID, "duty-msg").text)
    _wait(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "#duty-pages li"))
    board = httpx.get(f"{base}/api/rota/now", headers=token_headers("leader1", TEST_SECRET)).json()
    assert board["pages"] == []
    with store.read() as tx:
        page, = tx.list_pages()
    assert (page["state"], page["acked_by"], page["ack_via"]) == ("acknowledged", "duty1", "console")

    # The hand-over into this shift: the incoming officer takes it from the panel.
    assert "待接班" in _text(d, "#duty-handover")
    _click(d, "#handover-accept")
    _wait(d, lambda d: "已接班（duty1" in d.find_element(By.ID, "duty-handover").text)

    # The wall screen shows the same panel, larger; the month view lists this shift.
    _click(d, "#wall")
    assert d.find_element(By.ID, "duty-panel").is_displayed()
    _click(d, "#wall")
    _click(d, 'nav button[data-view="rota"]')
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, f'#rota-shifts tr[data-shift="{shift.id}"]'))
    row = _text(d, f'#rota-shifts tr[data-shift="{shift.id}"]')
    assert "duty1" in row and "张伟" in row and "leader1" in row
    if os.environ.get("ECOWATCH_SCREENSHOTS"):
        d.save_screenshot(os.environ["ECOWATCH_SCREENSHOTS"] + "/duty-month.png")
