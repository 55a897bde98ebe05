"""The console's 信息报送 panel in a real browser (Debian's chromium, headless): a duty officer writes
a 首报, records it sent by hand, and enters an item handed down by hand; crawled text stays text."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import os

from tests.api_seed import seed_users
from tests.test_browser import _click, _login, _text, _wait, browser, pytestmark  # noqa: F401
from tests.test_special_report import config, jurisdiction, seed_major  # noqa: F401  (fixtures)


def test_duty_writes_and_records_a_report_and_enters_an_item(browser, store, analyzer, config, api_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seed_users(store)
    incident_id, _, _ = seed_major(store, analyzer, config)
    _login(browser, api_server, "duty1")
    _click(browser, 'nav button[data-view="sharing"]')
    browser.find_element(By.ID, "sr-incident").send_keys(str(incident_id))
    _click(browser, "#sr-write")
    _wait(browser, lambda d: "已生成第 1 期（首报）" in d.find_element(By.ID, "sr-msg").text)
    _wait(browser, lambda d: "未报送" in d.find_element(By.ID, "sr-versions").text)
    _click(browser, "#sr-versions td.duty-only button")  # 报送, by hand (the default) to 市生态环境局
    _wait(browser, lambda d: "市生态环境局·手工报送·已报送" in d.find_element(By.ID, "sr-versions").text)

    form = browser.find_element(By.ID, "ib-form")
    form.find_element(By.NAME, "reference").send_keys("渝环舆〔2026〕200号")
    form.find_element(By.NAME, "title").send_keys("<img src=x onerror=window.__pwned=1>鱼塘死鱼")
    form.find_element(By.NAME, "text").send_keys("网民反映鱼嘴镇鱼塘大量死鱼")
    Select(form.find_element(By.NAME, "unit")).select_by_visible_text("鱼嘴镇")
    browser.execute_script("document.querySelector('#ib-form [name=deadline]').value = '2020-01-02T18:00'")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "期限已过" in d.find_element(By.ID, "ib-form-msg").text)
    # The list reloads after the form's answer: wait for the new row, not whatever row was there.
    row = _wait(browser, lambda d: next((r.text for r in d.find_elements(By.CSS_SELECTOR, "#ib-items tr")
                                         if "渝环舆〔2026〕200号" in r.text), None))
    assert "渝环舆〔2026〕200号" in row and "<img src=x onerror=window.__pwned=1>鱼塘死鱼" in row
    assert "到达即超期" in row and "待办结后生成" in row
    assert browser.execute_script("return window.__pwned") is None
    if os.environ.get("ECOWATCH_SCREENSHOTS"):  # to look at it: ECOWATCH_SCREENSHOTS=/some/folder
        browser.save_screenshot(os.path.join(os.environ["ECOWATCH_SCREENSHOTS"], "sharing.png"))


def test_unit_submits_a_brief_and_sees_its_tally(browser, store, api_server):
    from selenium.webdriver.common.by import By

    seed_users(store)
    _login(browser, api_server, "unit_a")
    _click(browser, 'nav button[data-view="briefs"]')
    _wait(browser, lambda d: "石马河街道" in d.find_element(By.ID, "bf-tally").text)
    assert "观音桥街道" not in browser.find_element(By.ID, "bf-tally").text  # only its own row
    form = browser.find_element(By.ID, "bf-form")
    form.find_element(By.NAME, "title").send_keys("<b>石马河</b>巡河简报")
    form.find_element(By.NAME, "text").send_keys("本周巡河三次，未见直排。")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "已报送" in d.find_element(By.ID, "bf-form-msg").text)
    _wait(browser, lambda d: "<b>石马河</b>巡河简报" in d.find_element(By.ID, "bf-list").text)
    _wait(browser, lambda d: _text(d, "#bf-tally tr").split()[-2:] == ["1", "1"])  # submitted 1, behind 1 of 2
    if os.environ.get("ECOWATCH_SCREENSHOTS"):
        browser.save_screenshot(os.path.join(os.environ["ECOWATCH_SCREENSHOTS"], "briefs.png"))


def test_duty_officer_assigns_a_mail_from_the_triage_list(browser, store, api_server):
    import datetime as dt

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from briefing.mail_import import import_mail
    from core.jurisdiction import load_jurisdiction
    from core.timeutil import utcnow
    from tests.api_seed import UNIT_B
    from tests.test_mail_briefs import html_mail

    seed_users(store)
    sent = utcnow() - dt.timedelta(minutes=5)  # this month, as the console shows by default
    raw = html_mail("<img src=x onerror=window.__pwned=1>夜间施工", "someone@qq.example",
                    date=sent.strftime("%a, %d %b %Y %H:%M:%S +0000"))
    got = import_mail(store, load_jurisdiction("jiangbei"), raw, "test.eml", utcnow())
    assert got.state == "triage"
    _login(browser, api_server, "duty1")
    _click(browser, 'nav button[data-view="briefs"]')
    _wait(browser, lambda d: "someone@qq.example" in d.find_element(By.ID, "bf-mails").text)
    assert "<img src=x onerror=window.__pwned=1>夜间施工" in _text(browser, "#bf-mails tr")

    def assign(d):
        row = d.find_element(By.CSS_SELECTOR, "#bf-mails tr")
        Select(row.find_element(By.TAG_NAME, "select")).select_by_value(UNIT_B)
        row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
        row.find_element(By.XPATH, ".//button[text()='指定']").click()
        return True

    _wait(browser, assign)
    _wait(browser, lambda d: "没有待分拣的邮件" in d.find_element(By.ID, "bf-mails").text)
    _wait(browser, lambda d: "<img src=x onerror=window.__pwned=1>夜间施工" in d.find_element(By.ID, "bf-list").text)
    assert browser.execute_script("return window.__pwned") is None
    with store.read() as tx:
        assert tx.brief_senders() == {"someone@qq.example": UNIT_B}
