"""Every source kind over real loopback fixture sites, each crawl in its own process:
correct posts, a second run stores nothing new, faults recorded while other sources land,
a hanging crawl killed at its limit, politeness (robots.txt, honest User-Agent)."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import select

from core.timeutil import SHANGHAI
from crawlers.collect import collect
from crawlers.sources import Source
from storage.schema import post_replies, raw_posts
from tests.fixture_sites import BOARD_POSTS, GOV_ARTICLES, serve_fixture_sites
from tests.route_server import Answer, serve_routes

# Politeness is for real sites, not loopback.
# The fixture sites are on 127.0.0.1: every source here allows private addresses explicitly.
Local = partial(Source, allow_private=True)
FAST = {"delay_seconds": 0, "autothrottle": False, "retry_backoff_seconds": 0.2}
GOV_RULES = {**FAST, "link": "ul.list a::attr(href)", "next": "a.next::attr(href)",
             "title": "h1.detail-title::text", "body": "div.detail-content p::text", "date": "span.time::text",
             "max_pages": 3}
BOARD_RULES = {**FAST, "items": "data.list", "id": "id", "detail_url": "/board/detail?id={id}", "detail_root": "data",
               "title": "title", "text": "content", "author": "nickname", "date": "createTime",
               "reply": "reply.content", "reply_date": "reply.time", "reply_by": "reply.org", "replied": "replyStatus",
               "post_url": "/board/post/{id}", "max_pages": 5}


@pytest.fixture
def sites():
    with serve_fixture_sites() as served:
        yield served


def _posts(store, source):
    with store.read() as tx:
        return [dict(r._mapping) for r in tx.conn.execute(select(raw_posts).where(raw_posts.c.source == source)
                                                          .order_by(raw_posts.c.id))]


def test_government_site_with_rules_then_incremental(sites, settings, store):
    base, app = sites
    source = Local("江北区政府", "site", f"{base}/gov/list.html", rules=GOV_RULES)
    first = collect(source, store, settings)
    assert first.ok and first.new == 4, first
    posts = {p["title"]: p for p in _posts(store, source.name)}
    assert set(posts) == {a[0] for a in GOV_ARTICLES.values()}
    one = posts["江北区开展嘉陵江沿岸排污口专项排查"]
    assert one["published_at"] == dt.datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI)
    assert "专项排查" in one["text"] and one["snapshot"]
    assert app.count("/private/") == 0  # robots.txt obeyed
    assert all(ua == settings.user_agent for path, ua in app.hits)  # an honest User-Agent on every request
    fetched = app.count("/gov/art/")
    again = collect(source, store, settings)
    assert again.ok and again.new == 0 and again.skipped_seen == 4
    assert app.count("/gov/art/") == fetched  # seen articles are not fetched again
    with store.read() as tx:
        assert [r["ok"] for r in tx.source_runs(source.name)] == [True, True]


def test_site_without_rules_extracts_real_pages_and_odd_charsets(sites, settings, store):
    base, _ = sites
    real = collect(Local("real", "site", f"{base}/real/list.html", rules={**FAST, "max_articles": 40}),
                   store, settings)
    assert real.ok and real.new == 13, real
    titles = [p["title"] for p in _posts(store, "real")]
    assert any("郑板桥" in t for t in titles) and any("山西品牌丝路行" in t for t in titles)
    gbk = collect(Local("gbk", "site", f"{base}/gbk/list.html", rules=FAST), store, settings)
    wrong = collect(Local("wrongcs", "site", f"{base}/wrongcs/list.html", rules={**FAST, "link": "a::attr(href)"}),
                    store, settings)
    assert gbk.new == 1
    # The mis-declared page decodes to the very post already stored from /real/: one post, not two.
    assert wrong.ok and wrong.items == 1 and wrong.new == 0 and wrong.updated + 1 >= 1
    (gbk_post,) = _posts(store, "gbk")
    assert gbk_post["title"] == "郭家沱街道居民反映垃圾站异味" and "除臭设备" in gbk_post["text"]
    assert gbk_post["published_at"] == dt.datetime(2026, 11, 26, 8, 15, tzinfo=SHANGHAI)
    assert _posts(store, "wrongcs") == []


def test_message_board_with_replies_and_paging(sites, settings, store):
    base, app = sites
    source = Local("问政", "board", f"{base}/board/list?page={{page}}", rules=BOARD_RULES)
    first = collect(source, store, settings)
    assert first.ok and first.new == 3, first
    posts = {p["url"].rsplit("/", 1)[1]: p for p in _posts(store, "问政")}
    assert posts["101"]["title"] == "石马河又黑又臭" and posts["101"]["author"] == "江北居民"
    assert posts["101"]["published_at"] == dt.datetime(2026, 11, 27, 21, 14, tzinfo=SHANGHAI)
    with store.read() as tx:  # the stored reply, as the table holds it (nothing reads it back yet)
        replies = {r.post_id: r for r in tx.conn.execute(select(post_replies))}
    reply = replies[posts["101"]["id"]]
    assert reply.text.startswith("您好，区生态环境局") and reply.replied_by == "江北区生态环境局"
    assert reply.replied_at == dt.datetime(2026, 11, 28, 10, 2, tzinfo=SHANGHAI)
    assert posts["102"]["id"] not in replies
    details = app.count("/board/detail")
    again = collect(source, store, settings)
    assert again.ok and again.new == 0 and again.skipped_seen == 2
    assert app.count("/board/detail") == details + 1  # only the post still awaiting its reply
    assert len(BOARD_POSTS) == 3


def test_weibo_keyword_search_updates_engagement(sites, settings, store):
    base, app = sites
    source = Local("微博搜索 | 江北 臭", "weibo", f"{base}/weibo/api?q=x&page={{page}}", rules=FAST,
                    keyword="江北 臭", group="微博搜索")
    first = collect(source, store, settings)
    assert first.ok and first.new == 3, first
    posts = {p["url"]: p for p in _posts(store, source.name)}
    p1 = posts["https://m.weibo.cn/detail/5001"]
    assert p1["author"] == "重庆吃货小王" and p1["engagement"]["followers"] == 1203
    assert abs((p1["published_at"] - p1["fetched_at"]).total_seconds() - (-300)) < 120  # "5分钟前"
    app.weibo_bump = 10  # the posts were reposted and commented on since
    again = collect(source, store, settings)
    assert again.ok and again.new == 0 and again.updated == 3
    refreshed = {p["url"]: p for p in _posts(store, source.name)}["https://m.weibo.cn/detail/5001"]
    assert refreshed["engagement"]["comments"] == 22 and refreshed["engagement"]["reposts"] == 13
    assert len(_posts(store, source.name)) == 3


def test_tieba_list_by_keyword(sites, settings, store):
    base, _ = sites
    source = Local("贴吧 | 江北", "tieba", f"{base}/tieba/f?kw=x&pn={{pn}}", rules=FAST, keyword="江北")
    first = collect(source, store, settings)
    assert first.ok and first.new >= 45, first
    assert collect(source, store, settings).new == 0


FAULTS = [
    ("timeout", Local("f-timeout", "site", "{base}/fault/list/timeout", rules={**FAST, "retries": 0}), "timed out"),
    ("5xx", Local("f-500", "site", "{base}/fault/list/500", rules=FAST), "HTTP 500"),
    ("truncated", Local("f-trunc", "site", "{base}/fault/list/truncated", rules=FAST), "truncated body"),
    ("loop", Local("f-loop", "site", "{base}/fault/list/loop", rules=FAST), "redirect loop"),
    ("20MB", Local("f-huge", "site", "{base}/fault/list/huge", rules=FAST), "page too large"),
    ("garbage JSON", Local("f-json", "board", "{base}/fault/garbage", rules=FAST), "garbage JSON"),
    ("418", Local("f-418", "weibo", "{base}/fault/418", rules=FAST), "HTTP 418"),
    ("login", Local("f-login", "weibo", "{base}/weibo/login?page={{page}}", rules=FAST), "login expired"),
    ("robots", Local("f-robots", "site", "{base}/blocked/1.html", rules=FAST), "robots.txt"),
    ("invalid XML", Local("f-xml", "rss", "{base}/feeds/invalid.xml"), "invalid XML"),
]


def test_each_fault_is_recorded_and_the_other_sources_land(sites, settings, store):
    base, _ = sites
    faulty = [Local(s.name, s.kind, s.url.replace("{base}", base).replace("{{page}}", "{page}"), rules=s.rules)
              for _, s, _ in FAULTS]
    good = [Local("good-gov", "site", f"{base}/gov/list.html", rules=GOV_RULES),
            Local("good-feed", "rss", f"{base}/feeds/qq_tech_gb2312_short.xml")]
    with ThreadPoolExecutor(4) as pool:  # sources run side by side, as the scheduler runs them
        reports = {r.source: r for r in pool.map(lambda s: collect(s, store, settings), faulty + good)}
    for (label, src, words), _ in zip(FAULTS, faulty, strict=True):
        report = reports[src.name]
        assert not report.ok and words in (report.error or ""), (label, report)
    assert reports["good-gov"].ok and reports["good-gov"].new == 4
    assert reports["good-feed"].ok and reports["good-feed"].new == 1
    with store.read() as tx:
        runs = {r["source"]: r for r in tx.source_runs(limit=100)}
    assert all(not runs[s.name]["ok"] and runs[s.name]["error"] for s in faulty)


def test_a_hanging_crawl_is_killed_at_its_limit(sites, settings, store):
    base, _ = sites
    slow = settings.model_copy(update={"crawl_time_limit_seconds": 4, "fetch_timeout_seconds": 120})
    report = collect(Local("hang", "site", f"{base}/fault/list/hang", rules=FAST), store, slow)
    assert not report.ok and "killed after the 4s time limit" in report.error
    with store.read() as tx:
        (run,) = tx.source_runs("hang")
    assert not run["ok"] and run["error"] == report.error
    assert (run["finished_at"] - run["started_at"]).total_seconds() < 30


def test_undeclared_page_encodings_are_detected_or_refused(settings, store):
    korean = "서울시 환경부는 오늘 대기 오염 경보를 발령했습니다. 시민들은 외출을 자제해 주시기 바랍니다."
    rnd = random.Random(0)
    junk = bytes(rnd.randrange(0x80, 0x100) for _ in range(400))

    def page(title: bytes, body: bytes) -> Answer:  # no charset in the header, none in the markup
        return Answer(b"<html><head><title>" + title + b"</title></head><body><h1>" + title + b"</h1><p>" + body
                      + b"</p></body></html>", headers={"Content-Type": "text/html"})

    routes = {"/list.html": Answer(b'<a href="/art/1.html">1</a><a href="/art/2.html">2</a>',
                                   headers={"Content-Type": "text/html"}),
              "/art/1.html": page(korean[:12].encode("euc-kr"), (korean * 4).encode("euc-kr")),
              "/art/2.html": page(junk[:20], junk)}
    with serve_routes(routes) as site:
        report = collect(Local("undeclared", "site", f"{site.base}/list.html", rules={**FAST, "link": "a::attr(href)"}),
                         store, settings)
    assert report.new == 1 and not report.ok
    assert report.error == f"could not tell the character encoding of {site.base}/art/2.html (none declared, not UTF-8)"
    with store.read() as tx:
        (text,) = tx.conn.exec_driver_sql("SELECT text FROM raw_posts WHERE source = 'undeclared'").scalars().all()
    assert korean[:20] in text
