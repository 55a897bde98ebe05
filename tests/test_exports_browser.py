"""The console's 导出 buttons in a real browser (headless chromium): the file downloaded holds what
the screen's filters select, fetched with the login's token (a link could not carry it)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.models import Grade
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users
from tests.test_browser import _click, _login, _wait, pytestmark, start_chromium  # noqa: F401


@pytest.fixture
def browser_downloading(tmp_path):
    driver = start_chromium()
    folder = tmp_path / "downloads"
    folder.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    yield driver, folder
    driver.quit()


def _downloaded(folder: Path, suffix: str) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done and not any(p.suffix == ".crdownload" for p in folder.iterdir()):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded: {list(folder.iterdir())}")


def test_export_buttons_download_what_the_filters_select(browser_downloading, store, api_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d, folder = browser_downloading
    seed_users(store)
    orange = add_incident(store, title="石马河排污口冒黑水", text="石马河排污口冒黑水，河水黑臭", unit_code=UNIT_A,
                       unit="石马河街道", grade=Grade.ORANGE)
    other = add_incident(store, title="观音桥噪声扰民", text="观音桥夜间施工噪声，河道黑臭", unit_code=UNIT_B,
                 unit="观音桥街道", topic="noise")
    _login(d, api_server, "duty1")
    _wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#incidents tr.row")) == 2)
    Select(d.find_element(By.ID, "f-grade")).select_by_value("orange")
    _wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#incidents tr.row")) == 1)
    _click(d, "#export-incidents-csv")
    rows = list(csv.reader(io.StringIO(_downloaded(folder, ".csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["事件编号", "标题", "等级"] and [r[0] for r in rows[1:]] == [str(orange)]

    _click(d, 'nav button[data-view="search"]')
    _click(d, "#export-posts-xlsx")  # no words yet: said, nothing fetched
    _wait(d, lambda d: "请先输入关键词" in d.find_element(By.ID, "export-posts-msg").text)
    d.find_element(By.ID, "q").send_keys("黑臭")
    _click(d, "#search-form button[type=submit]")
    _wait(d, lambda d: "共 2 条" in d.find_element(By.ID, "search-total").text)
    _click(d, "#export-posts-xlsx")
    sheet = load_workbook(_downloaded(folder, ".xlsx")).active
    assert sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted([orange, other])
