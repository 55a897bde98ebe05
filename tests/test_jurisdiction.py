"""The Jiangbei pack loads as data; a broken pack fails with a message naming the file."""

from __future__ import annotations

import shutil

import pytest

from core.errors import ConfigError
from core.jurisdiction import BUNDLED, load_jurisdiction


def test_jiangbei_pack_has_official_units_and_communities():
    pack = load_jurisdiction("jiangbei")
    assert len(pack.units) == 12
    assert pack.units["500105003000"].name == "石马河街道"
    communities = [p for p in pack.places if p.kind == "community"]
    assert len(communities) == 125
    zhengjie = [p for p in communities if p.name == "正街社区"]
    assert len(zhengjie) == 2 and {p.unit_codes[0] for p in zhengjie} == {"500105004000", "500105009000"}


def test_routing_is_data():
    pack = load_jurisdiction("jiangbei")
    assert pack.route("noise", "工地夜间施工打桩").name == "区住房城乡建委"
    assert pack.route("noise", "广场舞音响太大").name == "区公安分局"
    assert pack.route("air", "烧烤店油烟").name == "区城市管理局"
    assert pack.route("water", "工厂偷排").name == "区生态环境局"


def test_another_district_is_a_folder(tmp_path):
    pack = tmp_path / "other"
    shutil.copytree(BUNDLED / "jiangbei", pack)
    text = (pack / "pack.toml").read_text(encoding="utf-8").replace('duty_desk = "区生态环境局值班室"',
                                                                    'duty_desk = "测试值班室"')
    (pack / "pack.toml").write_text(text, encoding="utf-8")
    assert load_jurisdiction(str(pack)).duty_desk == "测试值班室"


def test_broken_pack_names_the_file(tmp_path):
    pack = tmp_path / "broken"
    pack.mkdir()
    (pack / "pack.toml").write_text("[district\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pack\.toml"):
        load_jurisdiction(str(pack))


def test_unknown_pack():
    with pytest.raises(ConfigError, match="no jurisdiction pack"):
        load_jurisdiction("atlantis")
