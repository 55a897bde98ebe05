"""The shipped Jiangbei sources load, validate and expand keywords into sources of their own."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.jurisdiction import load_jurisdiction
from crawlers.sources import KINDS, load_sources


def test_jiangbei_sources_cover_every_kind():
    sources = load_sources(load_jurisdiction("jiangbei").sources_path)
    assert {s.kind for s in sources} == set(KINDS)
    weibo = [s for s in sources if s.kind == "weibo"]
    assert len(weibo) >= 8 and all(s.keyword and s.group == "微博搜索" for s in weibo)
    assert weibo[0].name == "微博搜索 | 江北 污染" and "q%3D%E6%B1%9F%E5%8C%97%20%E6%B1%A1%E6%9F%93" in weibo[0].url
    assert len({s.name for s in sources}) == len(sources)
    assert all("{keyword}" not in s.url for s in sources)


def test_keyword_template_without_keywords_is_refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[source]]\nname = "w"\nkind = "weibo"\nurl = "http://x/{keyword}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="no keywords"):
        load_sources(path)
