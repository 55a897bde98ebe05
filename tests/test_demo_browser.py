"""The statistics page of the demo month in a real browser (Debian's chromium, headless): the
bureau chief logs in to the demo and sees a month of work — a daily trend with a bar for most
days, on-time rates per street and town, the desk's corrections — and the page is kept as a
screenshot (in the test's folder; also in $ECOWATCH_SCREENSHOTS when set) for a person to look at.
"""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import os
from pathlib import Path

from ecowatch.commands_users import DEMO_PASSWORD
from tests.demo_seed import Demo, demo  # noqa: F401  (fixture: the month, built once a session)
from tests.test_browser import _click, _login, _wait, browser, pytestmark  # noqa: F401  (fixture, skip mark)


def _bars(driver) -> list[float]:
    """The heights of the daily trend's bars, oldest day first."""
    from selenium.webdriver.common.by import By

    return [float(r.get_attribute("height")) for r in driver.find_elements(By.CSS_SELECTOR, "#ch-day svg rect")]


def _rows(driver, css: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, css)]


def _screenshot(driver, path: Path) -> None:
    """The whole page, not only the window: the window is made as tall as the page first (twice:
    the page lays out again in the taller window)."""
    for _ in range(2):
        height = driver.execute_script("return Math.max(document.body.scrollHeight, "
                                       "document.documentElement.scrollHeight)")
        driver.set_window_size(1400, max(1000, int(height) + 120))
    driver.save_screenshot(str(path))


def test_the_statistics_page_shows_the_month(browser, demo: Demo, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    _login(d, demo.base, "leader", DEMO_PASSWORD)
    _click(d, '#nav button[data-view="overview"]')
    # Re-read inside each wait: the page redraws when the feed pushes an event.
    bars = _wait(d, lambda d: (b := _bars(d)) and len(b) >= 28 and b)
    assert sum(h > 0 for h in bars[-14:]) >= 12  # two weeks of work, not one bar
    units = _wait(d, lambda d: (r := _rows(d, "#ov-units tr")) and len(r) >= 10 and r)
    rates = [row[4] for row in units] + [row[5] for row in units]  # 签收按时率, 回应按时率
    assert sum(r.endswith("%") for r in rates) >= 10 and any(r != "100%" for r in rates if r.endswith("%"))
    assert any(int(row[3]) > 0 for row in units)  # someone is overdue
    kinds = _wait(d, lambda d: {tr.get_attribute("data-kind")
                                for tr in d.find_elements(By.CSS_SELECTOR, "#ov-corrections tr")} or None)
    assert {"wrong_unit", "merged", "not_relevant"} <= kinds
    assert "本期更正事件" in d.find_element(By.ID, "ov-corrected").text

    _screenshot(d, tmp_path / "statistics.png")
    assert (tmp_path / "statistics.png").stat().st_size > 20_000
    if os.environ.get("ECOWATCH_SCREENSHOTS"):
        _screenshot(d, Path(os.environ["ECOWATCH_SCREENSHOTS"]) / "demo-statistics.png")
