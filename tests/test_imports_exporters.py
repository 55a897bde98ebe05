"""Issue 18: every exporter layout in tests/fixtures/imports (see its PROVENANCE.md) is recognised
by its columns and read with exact counts and field values; XLSX, GBK/GB18030 and BOM files;
``--dry-run``, ``--map`` and a TOML mapping; progress only on a terminal; comments exported
with their post's id join that post's incident (reply_to)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from crawlers.imports import ImportOptions, read_file

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
CST = dt.timezone(dt.timedelta(hours=8))
NOTE = "江北区石马河街道南桥寺这段河又黑又臭，排污口一直往河里排污水，请环保部门管管"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


# fixture → (format, encoding, posts, error lines, the first post's fields)
EXPECTED = {
    "weibo-crawler_5123456789.csv": ("weibo-crawler CSV", "utf-8-sig", 2, [4], dict(
        source="weibo-crawler", url="https://m.weibo.cn/detail/5012345678901234", author=None,
        text="石马河这段又黑又臭，夏天根本不敢开窗，江北区什么时候治理？", published_at=at(2026, 11, 25, 9, 30),
        engagement={"reposts": 18, "comments": 35, "likes": 120}, reply_to=None)),
    "weibo-crawler_5123456789.json": ("weibo-crawler JSON", "utf-8", 2, [], dict(
        source="weibo-crawler", url="https://m.weibo.cn/detail/5012345678901240", author="江北环保观察",
        text="寸滩港附近一股化工味，早上路过熏得头疼", published_at=at(2026, 11, 24, 7, 50),
        engagement={"reposts": 7, "comments": 12, "likes": 56}, reply_to=None)),
    "weibo-search_江北 臭.csv": ("weibo-search CSV", "utf-8-sig", 2, [], dict(
        source="weibo-search", url="https://m.weibo.cn/detail/5012345678901250", author="重庆吃货小王",
        text="江北嘴江边有死鱼，水面一层油花，臭得很", published_at=at(2026, 11, 25, 18, 5),
        engagement={"reposts": 9, "comments": 21, "likes": 40}, reply_to=None)),
    "weiboSpider_6123456789.csv": ("weiboSpider CSV", "utf-8-sig", 2, [], dict(
        source="weiboSpider", url="https://weibo.cn/comment/PbXyZ1a5A", author=None,
        text="大石坝这边的小作坊晚上偷偷排废气，刺鼻", published_at=at(2026, 11, 23, 21, 15),
        engagement={"reposts": 2, "comments": 6, "likes": 15}, reply_to=None)),
    "weiboSpider_6123456789.json": ("weiboSpider JSON", "utf-8", 1, [], dict(
        source="weiboSpider", url="https://weibo.cn/comment/PbXyZ1a5C", author="大石坝居民",
        text="大石坝的废气又来了，半夜被熏醒", published_at=at(2026, 11, 25, 2, 10),
        engagement={"reposts": 4, "comments": 10, "likes": 33}, reply_to=None)),
    "mediacrawler_weibo_search_contents.json": ("MediaCrawler weibo", "utf-8", 1, [], dict(
        source="mediacrawler:weibo:石马河", url="https://m.weibo.cn/detail/5012345678901260", author="石马河边住户",
        text=NOTE, published_at=at(2026, 11, 25, 10),
        engagement={"reposts": 3, "comments": 12, "likes": 40}, reply_to=None)),
    "mediacrawler_weibo_search_comments.jsonl": ("MediaCrawler weibo comments", "utf-8", 2, [], dict(
        source="mediacrawler:weibo", url=None, author="邻居", text="娃娃才好小啊😭", published_at=at(2026, 11, 25, 11),
        engagement={"comments": 0, "likes": 8}, reply_to="https://m.weibo.cn/detail/5012345678901260")),
    "mediacrawler_douyin_search_contents.csv": ("MediaCrawler douyin", "utf-8-sig", 1, [], dict(
        source="mediacrawler:douyin:观音桥 噪音", url="https://www.douyin.com/video/7300000000000000011",
        author="夜猫子", text="观音桥半夜施工好吵", title="", published_at=at(2026, 11, 26, 6),
        engagement={"reposts": 25, "comments": 88, "likes": 12000}, reply_to=None)),
    "mediacrawler_douyin_search_comments.csv": ("MediaCrawler douyin comments", "utf-8-sig", 1, [], dict(
        source="mediacrawler:douyin", url=None, author="对面楼", text="我家也听到了", published_at=at(2026, 11, 26, 7),
        engagement={"comments": 0, "likes": 5}, reply_to="https://www.douyin.com/video/7300000000000000011")),
    "mediacrawler_xhs_search_contents.json": ("MediaCrawler xhs", "utf-8", 1, [], dict(
        source="mediacrawler:xhs:鸿恩寺", author="爱散步的猫", title="鸿恩寺公园的湖水发绿了",
        url="https://www.xiaohongshu.com/explore/6560000000000000000000aa?xsec_token=AB1&xsec_source=pc_search",
        text="周末去鸿恩寺公园，湖水发绿还有异味，是不是该清理了", published_at=at(2026, 11, 27, 12),
        engagement={"reposts": 4, "comments": 19, "likes": 210}, reply_to=None)),
    "mediacrawler_xhs_search_comments.json": ("MediaCrawler xhs comments", "utf-8", 1, [], dict(
        source="mediacrawler:xhs", url=None, author="路过", text="上周去也是这样", published_at=at(2026, 11, 27, 13),
        engagement={"comments": 0, "likes": 1}, reply_to=None)),  # the note's address carries a session token
    "mediacrawler_kuaishou_search_contents.jsonl": ("MediaCrawler kuaishou", "utf-8", 1, [], dict(
        source="mediacrawler:kuaishou:唐家沱", url="https://www.kuaishou.com/short-video/3xabc", author="江边钓鱼佬",
        text="唐家沱码头冒黑烟", published_at=at(2026, 11, 28, 6), engagement={"likes": 77}, reply_to=None)),
    "mediacrawler_kuaishou_search_comments.jsonl": ("MediaCrawler kuaishou comments", "utf-8", 1, [], dict(
        source="mediacrawler:kuaishou", url=None, author="老码头", text="天天都这样", published_at=at(2026, 11, 28, 7),
        engagement={"comments": 0}, reply_to="https://www.kuaishou.com/short-video/3xabc")),
    "mediacrawler_bilibili_search_contents.jsonl": ("MediaCrawler bilibili", "utf-8", 1, [], dict(
        source="mediacrawler:bilibili:江北 排污", url="https://www.bilibili.com/video/av1150000001",
        author="重庆UP主", title="实拍：江北某河道排污口", text="跟拍一条排污口，水是灰的",
        published_at=at(2026, 11, 28, 12), engagement={"reposts": 41, "comments": 97, "likes": 530}, reply_to=None)),
    "mediacrawler_bilibili_search_comments.jsonl": ("MediaCrawler bilibili comments", "utf-8", 1, [], dict(
        source="mediacrawler:bilibili", url=None, author="看客", text="这是哪一段？", published_at=at(2026, 11, 28, 13),
        engagement={"comments": 1, "likes": 12}, reply_to="https://www.bilibili.com/video/av1150000001")),
    "mediacrawler_tieba_search_contents.json": ("MediaCrawler tieba", "utf-8", 1, [], dict(
        source="mediacrawler:tieba:寸滩", url="https://tieba.baidu.com/p/9000000001", author="路人甲",
        title="寸滩这边什么味道", text="早上路过寸滩，空气里一股化工味", published_at=at(2026, 11, 26, 8),
        engagement={"comments": 7}, reply_to=None)),
    "mediacrawler_tieba_search_comments.json": ("MediaCrawler tieba comments", "utf-8", 1, [], dict(
        source="mediacrawler:tieba", url=None, author="寸滩老住户", text="我也闻到了，像烧塑料",
        published_at=at(2026, 11, 26, 9, 30), engagement={"comments": 0},
        reply_to="https://tieba.baidu.com/p/9000000001")),
    "mediacrawler_zhihu_search_contents.csv": ("MediaCrawler zhihu", "utf-8-sig", 1, [], dict(
        source="mediacrawler:zhihu:江北 空气", url="https://www.zhihu.com/question/600000001/answer/3300000001",
        author="五里店住户", title="重庆江北区空气质量怎么样？",
        text="住在五里店，晚上总有一股焚烧垃圾的味道，不知道哪里来的",
        published_at=at(2026, 11, 28, 12), engagement={"comments": 9, "likes": 64}, reply_to=None)),
    "mediacrawler_zhihu_search_comments.csv": ("MediaCrawler zhihu comments", "utf-8-sig", 1, [], dict(
        source="mediacrawler:zhihu", url=None, author="邻居乙", text="我也闻到过", published_at=at(2026, 11, 28, 13),
        engagement={"comments": 0, "likes": 2}, reply_to=None)),  # an answer's address needs its question id
    "舆情导出_2026W48.csv": ("舆情系统导出", "gb18030", 2, [4], dict(
        source="重庆晨报", url="https://news.example.cn/2026/1124/a1.html", author="记者 张三",
        title="石马河污水直排引关注", text="网友反映石马河街道一排污口向河道直排污水，河水发黑发臭。",
        published_at=at(2026, 11, 24, 10, 12), engagement={"reposts": 15, "comments": 30, "likes": 120},
        reply_to=None)),
    "12345工单_2026年11月.csv": ("12345 work orders", "gb18030", 2, [], dict(
        source="12345", url=None, author=None, title="江北区观音桥街道建新北路某小区",
        text="小区旁边的餐馆油烟直排，窗户都不敢开", published_at=at(2026, 11, 25, 9, 1), engagement={},
        reply_to=None)),
}


def test_every_fixture_is_covered():
    assert sorted(EXPECTED) == sorted(p.name for p in FIXTURES.iterdir() if p.name != "PROVENANCE.md")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_exporter_is_recognised_and_read_exactly(name):
    fmt, encoding, count, error_lines, first = EXPECTED[name]
    parsed = read_file(FIXTURES / name, ImportOptions(now=NOW))
    assert dict(parsed.formats) == {fmt: count}
    assert parsed.encoding == encoding
    assert [e.line for e in parsed.errors] == error_lines
    post = parsed.posts[0]
    assert {k: getattr(post, k) for k in first} == first


def test_the_second_rows_too():
    second = {name: read_file(FIXTURES / name, ImportOptions(now=NOW)).posts[1] for name in (
        "weibo-crawler_5123456789.csv", "weibo-crawler_5123456789.json", "舆情导出_2026W48.csv",
        "12345工单_2026年11月.csv", "mediacrawler_weibo_search_comments.jsonl")}
    post = second["weibo-crawler_5123456789.csv"]
    assert post.engagement == {"reposts": 88, "comments": 460, "likes": 12000}  # 1.2万
    assert second["weibo-crawler_5123456789.json"].published_at == at(2026, 11, 28)  # date only: midnight
    news = second["舆情导出_2026W48.csv"]
    assert (news.source, news.published_at, news.engagement) == ("华龙网", at(2026, 11, 26, 22, 30), {"comments": 8})
    order = second["12345工单_2026年11月.csv"]
    assert (order.title, order.published_at) == ("江北区五里店街道", at(2026, 11, 27, 7, 45))
    assert second["mediacrawler_weibo_search_comments.jsonl"].reply_to == "https://m.weibo.cn/detail/5012345678901260"


def _xlsx_from_csv(csv_path: Path, out: Path, encoding: str) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with open(csv_path, encoding=encoding, newline="") as fh:
        for i, row in enumerate(csv.reader(fh)):
            # As a real sheet holds them: times as date cells, counts as numbers.
            cells: list[object] = list(row)
            for j, cell in enumerate(row):
                if i and len(cell) == 19 and cell[4] == "-" and cell[13] == ":":
                    cells[j] = dt.datetime.fromisoformat(cell)
                elif i and cell.isdigit() and len(cell) < 6:
                    cells[j] = int(cell)
            sheet.append(cells)
    book.save(out)
    return out


def test_xlsx_sheets_are_read_like_their_csv(tmp_path):
    orders = read_file(_xlsx_from_csv(FIXTURES / "12345工单_2026年11月.csv", tmp_path / "orders.xlsx", "gb18030"),
                       ImportOptions(now=NOW))
    assert dict(orders.formats) == {"12345 work orders": 2} and orders.encoding is None and not orders.errors
    assert [(p.title, p.published_at) for p in orders.posts] == [
        ("江北区观音桥街道建新北路某小区", at(2026, 11, 25, 9, 1)), ("江北区五里店街道", at(2026, 11, 27, 7, 45))]
    news = read_file(_xlsx_from_csv(FIXTURES / "舆情导出_2026W48.csv", tmp_path / "news.xlsx", "gbk"),
                     ImportOptions(now=NOW))
    assert dict(news.formats) == {"舆情系统导出": 2}
    assert [(e.line, e.column) for e in news.errors] == [(4, "发布时间")]
    assert news.posts[0].engagement == {"reposts": 15, "comments": 30, "likes": 120}


def _cli(args, data_dir, **kw):
    env = {"ECOWATCH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", **kw.pop("env", {})}
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _custom_sheet(tmp_path: Path) -> Path:
    path = tmp_path / "custom.csv"
    path.write_text("帖子内容,时间,地址,网名\n石马河又黑又臭,2026-11-25 08:00,https://bbs.test/1,张三\n"
                    "观音桥施工扰民,2026-11-26 23:00,https://bbs.test/2,李四\n", encoding="utf-8")
    return path


def test_dry_run_shows_how_rows_read_and_stores_nothing(tmp_path):
    data = tmp_path / "data"
    done = _cli(["import", str(FIXTURES / "weibo-search_江北 臭.csv"), "--dry-run"], data)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["formats"] == {"weibo-search CSV": 2} and report["encoding"] == "utf-8-sig"
    assert report["columns"]["weibo-search CSV"] == {"text": "微博正文", "author": "用户昵称",
                                                      "published_at": "发布时间", "reposts": "转发数",
                                                      "comments": "评论数", "likes": "点赞数"}
    assert [r["line"] for r in report["first"]] == [2, 3]
    assert report["first"][0]["published_at"] == "2026-11-25T10:05:00+00:00"
    assert not (data / "ecowatch.db").exists()


def test_map_option_and_mapping_file_read_any_layout(tmp_path):
    path = _custom_sheet(tmp_path)
    unmapped = read_file(path, ImportOptions(now=NOW))
    assert not unmapped.posts and [e.error for e in unmapped.errors] == ["no text", "no text"]
    done = _cli(["import", str(path), "--map", "text=帖子内容,published_at=时间,url=地址,author=网名"], tmp_path / "a")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new"] == 2
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\ntext = "帖子内容"\npublished_at = "时间"\nurl = "地址"\nauthor = "网名"\n',
                       encoding="utf-8")
    dry = json.loads(_cli(["import", str(path), "--mapping", str(mapping), "--dry-run"], tmp_path / "b").stdout)
    first = dry["first"][0]
    assert (first["text"], first["url"], first["author"], first["published_at"]) == \
        ("石马河又黑又臭", "https://bbs.test/1", "张三", "2026-11-25T00:00:00+00:00")
    bad = _cli(["import", str(path), "--map", "text=正文"], tmp_path / "c")
    assert bad.returncode == 2 and "mapped column(s) not in the file: 正文" in bad.stderr
    unknown = _cli(["import", str(path), "--map", "body=帖子内容"], tmp_path / "c")
    assert unknown.returncode == 2 and "unknown field(s) in the mapping: body" in unknown.stderr


def _on_a_terminal(args, data_dir) -> tuple[str, bytes]:
    """Run the CLI with stderr on a pseudo-terminal (stdout still a pipe): stdout, what was drawn."""
    main, worker = pty.openpty()
    env = {"ECOWATCH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], env=env, stderr=worker,
                          stdout=subprocess.PIPE, text=True, timeout=300)
    os.close(worker)
    drawn = b""
    try:
        while chunk := os.read(main, 65536):
            drawn += chunk
    except OSError:  # the terminal's other end is closed: all was read
        pass
    os.close(main)
    return proc.stdout, drawn


def test_progress_bars_on_a_terminal_and_quiet_when_piped(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"url": f"https://x.test/{i}", "text": f"第{i}条"}) + "\n" for i in range(300)),
                    encoding="utf-8")
    piped = _cli(["import", str(path)], tmp_path / "a")
    assert piped.stderr == "" and json.loads(piped.stdout)["new"] == 300
    piped = _cli(["process"], tmp_path / "a")
    assert piped.stderr == "" and json.loads(piped.stdout)["processed"] == 300
    out, drawn = _on_a_terminal(["import", str(path)], tmp_path / "b")
    assert json.loads(out)["new"] == 300
    assert b"importing many.jsonl" in drawn and b"300/300" in drawn
    out, drawn = _on_a_terminal(["process"], tmp_path / "b")
    assert json.loads(out)["processed"] == 300
    assert b"processing" in drawn and b"300/300" in drawn


def test_a_comment_that_names_nothing_joins_its_posts_incident(tmp_path):
    data = tmp_path / "data"
    for name in ("mediacrawler_weibo_search_contents.json", "mediacrawler_weibo_search_comments.jsonl"):
        assert _cli(["import", str(FIXTURES / name)], data).returncode == 0
    assert _cli(["process"], data).returncode == 0
    from storage.sql import open_store

    store = open_store(f"sqlite:///{data / 'ecowatch.db'}")
    try:
        with store.read() as tx:
            rows = tx.conn.exec_driver_sql(
                "SELECT p.text, ip.incident_id FROM raw_posts p LEFT JOIN incident_posts ip ON ip.post_id = p.id "
                "ORDER BY p.id").all()
    finally:
        store.dispose()
    by_text = dict(rows)
    assert by_text[NOTE] is not None
    assert by_text["娃娃才好小啊😭"] == by_text["同感，天天闻"] == by_text[NOTE]
