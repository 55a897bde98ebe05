"""会办 in a real browser: the duty officer copies an incident to 区住房城乡建委 from its page; the
department logs in to its inbox (会办), sees only that incident, opens it and answers with its
handling note; the duty officer sees the copy, the answer and the withdrawal in the audit log."""

from __future__ import annotations

import httpx

from core.models import Grade
from tests.api_seed import PASSWORD, UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET
from tests.test_browser import _click, _login, _state_is, _text, _wait, browser, pytestmark  # noqa: F401


def _login_department(driver, base: str, name: str) -> None:
    """A department's login ends on its inbox (会办), not on the duty desk's views."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    _wait(driver, lambda d: d.find_element(By.ID, "login-user").is_displayed())
    driver.find_element(By.ID, "login-user").send_keys(name)
    driver.find_element(By.ID, "login-pass").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-btn").click()
    _wait(driver, lambda d: "on" in d.find_element(By.ID, "v-copies").get_attribute("class"))


def _fill(driver, css: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    def attempt(d):
        field = d.find_element(By.CSS_SELECTOR, css)
        field.clear()
        field.send_keys(text)
        return field.get_attribute("value") == text

    _wait(driver, attempt)


def test_department_inbox_and_reply(browser, store, api_server):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seed_users(store)
    base, d = api_server, browser
    noise = add_incident(store, title="建新北路工地夜间打桩", text="石马河街道建新北路工地夜间打桩扰民",
                         unit_code=UNIT_A, unit="石马河街道", topic="noise", grade=Grade.ORANGE)
    other = add_incident(store, title="观音桥河道黑臭", text="观音桥街道河道黑臭", unit_code=UNIT_B, unit="观音桥街道")

    # The duty officer copies it to 住建 from the incident page.
    _login(d, base, "duty1")
    _click(d, f'#incidents tr[data-id="{noise}"]')
    _wait(d, lambda d: Select(d.find_element(By.CSS_SELECTOR, 'form[data-action="copy"] select[name="department"]'))
          .select_by_value("zj") or True)
    _fill(d, 'form[data-action="copy"] input[name="note"]', "请核查夜间施工许可")
    _click(d, 'form[data-action="copy"] button')
    _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, '#copy-list tr[data-department="zj"]').text)
    assert "待会办" in _text(d, '#copy-list tr[data-department="zj"]')
    _state_is(d, "已交办")  # the lead unit's state is untouched
    d.find_element(By.ID, "logout").click()

    # The department's inbox holds that incident alone; it opens it and answers.
    _login_department(d, base, "dept_zj")
    assert "dept_zj · 部门 · 区住房城乡建委" in _text(d, "#who")
    assert [b.text for b in d.find_elements(By.CSS_SELECTOR, "#nav button")] == ["会办", "信息简报"]
    _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, f'#copies tr[data-id="{noise}"]'))
    assert not d.find_elements(By.CSS_SELECTOR, f'#copies tr[data-id="{other}"]')
    row = _text(d, f'#copies tr[data-id="{noise}"]')
    assert "建新北路工地夜间打桩" in row and "待会办" in row and "请核查夜间施工许可" in row
    _click(d, f'#copies tr[data-id="{noise}"]')
    _wait(d, lambda d: "建新北路工地夜间打桩" in d.find_element(By.ID, "detail-title").text)
    assert not d.find_elements(By.CSS_SELECTOR, 'form[data-action="sign"], form[data-action="copy"]')
    _fill(d, 'form[data-action="reply"] textarea[name="opinion"]', "该工地未办理夜间施工许可，已责令停止夜间打桩")
    _click(d, 'form[data-action="reply"] button')
    _wait(d, lambda d: "已完成" in d.find_element(By.ID, "action-msg").text)
    _wait(d, lambda d: "部门会办意见" in d.find_element(By.ID, "audit").text)
    assert "会办意见：该工地未办理夜间施工许可" in _text(d, "#audit")
    _click(d, "#detail button.act")  # back to the inbox: the copy is answered now
    _wait(d, lambda d: "已回复" in d.find_element(By.CSS_SELECTOR, f'#copies tr[data-id="{noise}"]').text)
    d.find_element(By.ID, "logout").click()

    # The duty officer withdraws the copy; every step is in the audit log, labelled in Chinese.
    _login(d, base, "duty1")
    _click(d, f'#incidents tr[data-id="{noise}"]')
    _click(d, 'form[data-action="withdraw_copy"] button')
    _wait(d, lambda d: "已撤回" in d.find_element(By.CSS_SELECTOR, '#copy-list tr[data-department="zj"]').text)
    audit = _text(d, "#audit")
    assert all(label in audit for label in ("抄送部门", "部门会办意见", "撤回抄送", "部门 区住房城乡建委"))
    gone = httpx.get(f"{base}/api/incidents/{noise}", headers=token_headers("dept_zj", TEST_SECRET))
    assert gone.status_code == 404


def test_admin_adds_a_department_user_in_the_console(browser, store, api_server):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seed_users(store)
    base, d = api_server, browser
    _login(d, base, "admin1")
    _fill(d, '#user-form input[name="name"]', "linye")
    _wait(d, lambda d: Select(d.find_element(By.CSS_SELECTOR, '#user-form select[name="role"]'))
          .select_by_value("department") or True)
    _wait(d, lambda d: Select(d.find_element(By.ID, "user-department")).select_by_visible_text("区林业局") or True)
    _fill(d, '#user-form input[name="password"]', "a-forest-passphrase")
    _click(d, '#user-form button[type="submit"]')
    _wait(d, lambda d: d.find_element(By.ID, "user-msg").text == "已新增")
    _wait(d, lambda d: any("linye" in r.text and "区林业局" in r.text and "部门" in r.text
                           for r in d.find_elements(By.CSS_SELECTOR, "#users tr")))
    me = httpx.post(f"{base}/api/auth/token", data={"username": "linye", "password": "a-forest-passphrase"}).json()
    assert (me["user"]["role"], me["user"]["department_code"]) == ("department", "ly")
