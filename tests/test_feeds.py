"""Feed reading over loopback: real GB2312 feeds, conditional GET, and faults recorded."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from core.errors import FetchError
from crawlers.collect import collect
from crawlers.feeds.reader import FeedRequest, fetch_feed, parse_feed
from crawlers.sources import Source
from tests.conftest import FIXTURES


@pytest.mark.parametrize("name,count", [("qq_news_china_gb2312_2018-09-18.xml", 20), ("qq_tech_gb2312_short.xml", 1)])
def test_real_gb2312_feeds(name, count):
    result = parse_feed((FIXTURES / "feeds" / name).read_bytes(), "qq")
    assert len(result.posts) == count
    for post in result.posts:
        assert post.title and "\ufffd" not in post.title + post.text
        assert post.published_at is not None and post.published_at.year == 2018
        assert post.published_at.tzinfo is not None


def test_real_feed_dates_without_zone_are_shanghai_time():
    result = parse_feed((FIXTURES / "feeds" / "qq_news_china_gb2312_2018-09-18.xml").read_bytes(), "qq")
    # "2018-09-18 14:38:10" printed by a Chinese site means Beijing time.
    assert any(p.published_at == dt.datetime(2018, 9, 18, 6, 38, 10, tzinfo=dt.UTC) for p in result.posts)


def test_wrong_declared_charset_still_reads():
    data = (FIXTURES / "jiangbei_feed.xml").read_bytes().replace(b'encoding="utf-8"', b'encoding="gb2312"')
    posts = parse_feed(data, "t").posts
    assert posts[0].title == "石马河街道鲜花港社区旁边的石马河又黑又臭"


class _Conditional(BaseHTTPRequestHandler):
    body = (FIXTURES / "jiangbei_feed.xml").read_bytes()
    hits: ClassVar[list[str | None]] = []

    def log_message(self, *args):
        return

    def do_GET(self):
        if self.path == "/slow":
            threading.Event().wait(3)
        if self.path == "/garbage":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"\x00\xff not a feed at all {]")
            return
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/500":
            self.send_response(500)
            self.end_headers()
            return
        _Conditional.hits.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def feed_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Conditional)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_conditional_get_uses_etag(feed_server, settings, store):
    source = Source("cond", "rss", f"{feed_server}/feed", allow_private=True)
    assert collect(source, store, settings).new == 3
    again = collect(source, store, settings)
    assert again.ok and again.items == 0 and again.new == 0
    assert _Conditional.hits[-1] == '"v1"'


@pytest.mark.parametrize("path,words", [("/500", "HTTP 500"), ("/garbage", "not a readable feed"),
                                        ("/loop", "redirect loop"), ("/slow", "timed out")])
def test_faults_are_clear_errors(feed_server, path, words):
    with pytest.raises(FetchError, match=words):
        fetch_feed(feed_server + path, "x", request=FeedRequest(timeout=1.0, allow_private=True))


def test_a_failing_source_is_recorded_and_others_still_land(feed_server, static_server, settings, store):
    base, root = static_server
    shutil.copy(FIXTURES / "jiangbei_feed.xml", root / "ok.xml")
    bad = collect(Source("bad", "rss", f"{feed_server}/500", allow_private=True), store, settings)
    good = collect(Source("good", "rss", f"{base}/ok.xml", allow_private=True), store, settings)
    assert not bad.ok and "HTTP 500" in bad.error
    assert good.ok and good.new == 3
    with store.read() as tx:
        runs = {r["source"]: r for r in tx.source_runs()}
    assert runs["bad"]["error"] == "HTTP 500 from " + f"{feed_server}/500" and not runs["bad"]["ok"]
    assert runs["good"]["ok"]
