"""``ecowatch import`` of CSV, JSON arrays and MediaCrawler exports; the JSONL contract holds."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys

from core.timeutil import SHANGHAI
from crawlers.imports import read_file

# Field names as MediaCrawler writes them (store/weibo, store/douyin, model/m_baidu_tieba).
WEIBO = {"note_id": "4900000000000001", "content": "江北区石马河又黑又臭", "create_time": 1764295200,
         "create_date_time": "2025-11-28 10:00:00", "liked_count": "40", "comments_count": "12",
         "shared_count": "3", "note_url": "https://m.weibo.cn/detail/4900000000000001", "ip_location": "重庆",
         "user_id": "1", "nickname": "重庆吃货小王", "gender": "m", "source_keyword": "江北 臭"}
DOUYIN = {"aweme_id": "7300000000000000001", "aweme_type": "0", "title": "观音桥半夜施工好吵",
          "desc": "观音桥半夜施工好吵", "create_time": 1764295200000, "nickname": "夜猫子", "liked_count": "1.2万",
          "comment_count": "88", "share_count": "25", "aweme_url": "https://www.douyin.com/video/7300000000000000001"}
TIEBA = {"note_id": "9000000001", "title": "寸滩这边什么味道", "desc": "早上路过寸滩，空气里一股化工味",
         "note_url": "https://tieba.baidu.com/p/9000000001", "publish_time": "2025-11-28 08:00",
         "user_nickname": "路人甲", "tieba_name": "江北吧", "tieba_link": "https://tieba.baidu.com/f?kw=江北",
         "total_replay_num": 7}


def test_mediacrawler_json_array(tmp_path):
    path = tmp_path / "search_contents_2025-11-28.json"
    path.write_text(json.dumps([WEIBO, DOUYIN, TIEBA, {"note_id": "x"}], ensure_ascii=False), encoding="utf-8")
    parsed = read_file(path)
    assert [e.line for e in parsed.errors] == [4]
    weibo, douyin, tieba = parsed.posts
    assert weibo.source == "mediacrawler:weibo:江北 臭" and weibo.author == "重庆吃货小王"
    assert weibo.url == WEIBO["note_url"] and weibo.text == "江北区石马河又黑又臭"
    assert weibo.engagement == {"reposts": 3, "comments": 12, "likes": 40}
    assert weibo.published_at == dt.datetime(2025, 11, 28, 10, 0, tzinfo=SHANGHAI)
    assert douyin.source == "mediacrawler:douyin" and douyin.title == ""  # title repeats desc
    assert douyin.engagement == {"reposts": 25, "comments": 88, "likes": 12000}
    assert douyin.published_at == dt.datetime(2025, 11, 28, 10, 0, tzinfo=SHANGHAI)  # milliseconds
    assert tieba.source == "mediacrawler:tieba" and tieba.title == "寸滩这边什么味道"
    assert tieba.text.startswith("早上路过寸滩") and tieba.engagement == {"comments": 7}


def test_mediacrawler_csv_gb18030_and_bad_rows(tmp_path):
    path = tmp_path / "weibo.csv"
    rows = [WEIBO, {**WEIBO, "note_id": "2", "content": "", "note_url": ""}]
    with open(path, "w", encoding="gb18030", newline="") as fh:  # as a Chinese Excel saves it
        writer = csv.DictWriter(fh, fieldnames=list(WEIBO))
        writer.writeheader()
        writer.writerows(rows)
    parsed = read_file(path)
    assert len(parsed.posts) == 1 and parsed.posts[0].author == "重庆吃货小王"
    assert [(e.line, e.error) for e in parsed.errors] == [(3, "no text")]


def test_cli_import_csv_twice_adds_nothing(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("url,title,text,author,published_at,reposts\n"
                    "https://x.test/1,,石马河发臭,张三,2026-11-28 09:00,5\n"
                    "https://x.test/2,,工地噪音,李四,2026-11-28 10:00,1\n", encoding="utf-8-sig")
    env = {"ECOWATCH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "ecowatch.cli", "import", str(path)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert json.loads(first.stdout)["new"] == 2
    report = json.loads(again.stdout)
    assert {k: report[k] for k in ("read", "new", "updated", "duplicate", "errors")} == \
        {"read": 2, "new": 0, "updated": 0, "duplicate": 2, "errors": 0}


def test_jsonl_contract_unchanged(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"url": "https://x.test/a", "title": "t", "text": "正文", "author": "a",
                                "published_at": "2026-11-28T09:00:00+08:00", "source": "other", "reposts": 2,
                                "followers": 10}, ensure_ascii=False) + "\nnot json\n", encoding="utf-8")
    parsed = read_file(path)
    post = parsed.posts[0]
    assert (post.source, post.title, post.text) == ("other", "t", "正文")
    assert post.engagement == {"reposts": 2, "followers": 10}
    assert [e.line for e in parsed.errors] == [2]


def test_json_lines_saved_as_dot_json_are_read_as_lines(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"url": "https://x.test/1", "text": "石马河发臭"}\n{"text": ["x"]}\n'
                    '{"url": "https://x.test/3", "text": "工地噪音"}\n', encoding="utf-8")
    parsed = read_file(path)
    assert [p.text for p in parsed.posts] == ["石马河发臭", "工地噪音"]
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "text")]
