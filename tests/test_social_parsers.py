"""Relative times, Weibo search JSON and counts: pure functions with an explicit ``now``."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import FetchError
from core.timeutil import SHANGHAI
from crawlers.dates import parse_relative_time
from crawlers.parsers.counts import parse_count
from crawlers.parsers.weibo import parse_search
from tests.fixture_sites import weibo_json

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)  # a Saturday morning in Chongqing


@pytest.mark.parametrize("text,expected", [
    ("刚刚", "2026-11-28 10:00"),
    ("5分钟前", "2026-11-28 09:55"),
    ("30秒前", "2026-11-28 09:59:30"),
    ("3小时前", "2026-11-28 07:00"),
    ("2天前", "2026-11-26 10:00"),
    ("今天 08:00", "2026-11-28 08:00"),
    ("昨天 12:30", "2026-11-27 12:30"),
    ("前天 23:59", "2026-11-26 23:59"),
    ("09:15", "2026-11-28 09:15"),
    ("11-28", "2026-11-28 00:00"),
    ("11-27 18:40", "2026-11-27 18:40"),
    ("12-31", "2025-12-31 00:00"),  # a month-day ahead of now was last year
    ("Fri Nov 27 21:05:00 +0800 2026", "2026-11-27 21:05"),
    ("2026-11-20 09:30", "2026-11-20 09:30"),
    ("2026年11月1日", "2026-11-01 00:00"),
])
def test_relative_times(text, expected):
    fmt = "%Y-%m-%d %H:%M:%S" if expected.count(":") == 2 else "%Y-%m-%d %H:%M"
    want = dt.datetime.strptime(expected, fmt).replace(tzinfo=SHANGHAI)
    got = parse_relative_time(text, NOW)
    assert got == want and got.tzinfo == dt.UTC


@pytest.mark.parametrize("text", ["", None, "很久以前", "99-99"])
def test_unreadable_relative_times(text):
    assert parse_relative_time(text, NOW) is None


def test_relative_time_depends_on_now():
    other = NOW + dt.timedelta(days=1)
    assert parse_relative_time("昨天 12:30", other) - parse_relative_time("昨天 12:30", NOW) == dt.timedelta(days=1)


@pytest.mark.parametrize("value,expected", [(12, 12), ("345", 345), ("1.2万", 12000), ("100万+", 1000000),
                                            ("3亿", 300000000), ("2,048", 2048), ("转发", None), (None, None)])
def test_counts(value, expected):
    assert parse_count(value) == expected


def test_weibo_search_page():
    items = parse_search(weibo_json(1, 0), "wb", NOW, "江北 臭")
    assert [i["url"] for i in items] == ["https://m.weibo.cn/detail/5001", "https://m.weibo.cn/detail/5002"]
    first, second = items
    assert first["text"] == "江北区#石马河#又开始臭了，住旁边真的受不了"  # link markup dropped
    assert first["author"] == "重庆吃货小王" and first["keyword"] == "江北 臭"
    assert first["engagement"] == {"reposts": 3, "comments": 12, "likes": 40, "followers": 1203}
    assert first["published_at"] == (NOW - dt.timedelta(minutes=5)).astimezone(dt.UTC)
    assert second["engagement"]["followers"] == 12000 and "\n@江北发布" in second["text"]
    assert second["published_at"] == dt.datetime(2026, 11, 27, 12, 30, tzinfo=SHANGHAI)
    third = parse_search(weibo_json(2, 0), "wb", NOW)[0]
    assert "reposts" not in third["engagement"]  # Weibo printed the label "转发" for zero


def test_weibo_login_expired_and_bad_shapes():
    with pytest.raises(FetchError, match="login expired"):
        parse_search({"ok": 0, "msg": "请先登录"}, "wb", NOW)
    with pytest.raises(FetchError, match=r"no data\.cards"):
        parse_search({"ok": 1, "data": {}}, "wb", NOW)
    with pytest.raises(FetchError, match="not a JSON object"):
        parse_search([1, 2], "wb", NOW)
    assert parse_search({"ok": 0, "msg": ""}, "wb", NOW) == []  # end of results
