"""The console in a real browser (Debian's chromium, headless, driven by Selenium).

Duty officer logs in, sees a new incident arrive in the live feed without reloading, assigns it;
the unit logs in, signs and responds; a post containing <script> is shown as text, never run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from core.models import State
from tests.api_seed import PASSWORD, UNIT_A, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
                                reason="chromium and chromium-driver are not installed "
                                       "(apt-get install chromium chromium-driver; .ci/run does this)")

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">石马河边排污口冒黑水'


def start_chromium(env: dict[str, str] | None = None):
    """A headless chromium driven by Selenium; ``env`` for the driver and browser (e.g. another TZ)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER, env=env), options=options)
    driver.implicitly_wait(0)
    return driver


@pytest.fixture
def browser():
    driver = start_chromium()
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=40):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The console redraws lists when the feed pushes an event: an element found a moment ago may
    # be gone, so every step re-finds what it needs until it succeeds.
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)


def _click(driver, css):
    from selenium.webdriver.common.by import By

    def attempt(d):
        d.find_element(By.CSS_SELECTOR, css).click()
        return True

    _wait(driver, attempt)


def _text(driver, css):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).text)


def _login(driver, base, name, password=PASSWORD):
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    _wait(driver, lambda d: d.find_element(By.ID, "login-user").is_displayed())
    driver.find_element(By.ID, "login-user").send_keys(name)
    driver.find_element(By.ID, "login-pass").send_keys(password)
    driver.find_element(By.ID, "login-btn").click()
    _wait(driver, lambda d: d.find_element(By.ID, "live").text == "实时")


def _state_is(driver, label):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: label in d.find_element(By.ID, "detail-state").text)


def test_duty_assigns_live_incident_and_unit_signs_and_responds(browser, store, api_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seed_users(store)
    base, d = api_server, browser
    _login(d, base, "duty1")
    d.execute_script("window.__same_page = 'yes'")

    # A new incident is opened while the page is open: it must arrive by itself.
    iid = add_incident(store, title="排污口冒黑水<b>紧急</b>", text=EVIL, unit_code=None, unit=None, state=State.NEW)
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, f'#feed li[data-incident="{iid}"]'))
    assert d.execute_script("return window.__same_page") == "yes", "the page was reloaded"
    row = f'#queue tr[data-id="{iid}"]'
    assert "排污口冒黑水<b>紧急</b>" in _text(d, row)  # markup in a crawled title is shown, not applied
    _click(d, row)

    body = "#detail .post .body"
    assert "<script>window.__pwned = 1</script>" in _text(d, body)
    assert not d.find_elements(By.CSS_SELECTOR, f"{body} script, {body} img")
    assert d.execute_script("return window.__pwned === undefined")
    assert d.find_elements(By.CSS_SELECTOR, f"{body} mark"), "evidence is highlighted"

    _wait(d, lambda d: Select(d.find_element(By.CSS_SELECTOR, 'form[data-action="assign"] select[name="unit_code"]'))
          .select_by_value(UNIT_A) or True)
    _click(d, 'form[data-action="assign"] button')
    _state_is(d, "已交办")
    assert "石马河街道" in d.find_element(By.ID, "detail-state").text

    d.find_element(By.ID, "logout").click()
    _login(d, base, "unit_a")
    _click(d, f'#inbox-assigned tr[data-id="{iid}"]')
    _click(d, 'form[data-action="sign"] button')
    _state_is(d, "已签收")
    _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, 'form[data-action="respond"] textarea')
          .send_keys("已到现场核查，排污口已封堵") or True)
    _click(d, 'form[data-action="respond"] button')
    _state_is(d, "已回应")
    assert d.execute_script("return window.__pwned === undefined")

    audit = httpx.get(f"{base}/api/incidents/{iid}", headers=token_headers("duty1", TEST_SECRET)).json()["audit"]
    assert [(a["action"], a["actor"]) for a in audit] == [("open", "system"), ("assign", "duty1"),
                                                         ("sign", "unit_a"), ("respond", "unit_a")]
    assert audit[-1]["detail"] == {"response": "已到现场核查，排污口已封堵"}
