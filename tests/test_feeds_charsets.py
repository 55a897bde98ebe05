"""More feed shapes: GBK without a declaration, a lying declaration, an RSSHub Atom route,
Last-Modified conditional GET, and a truncated feed."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import FetchError
from crawlers.collect import collect
from crawlers.feeds.reader import FeedRequest, fetch_feed, parse_feed
from crawlers.sources import Source
from tests.conftest import FIXTURES

# The shape RSSHub gives a route asked for as Atom (e.g. /weibo/keyword/江北 污染.atom).
RSSHUB_ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>又一个关键词 - 江北 污染</title><link href="https://s.weibo.com/weibo?q=江北 污染"/>
<id>http://127.0.0.1:1200/weibo/keyword/江北 污染</id><updated>2026-11-28T02:10:00.000Z</updated>
<generator>RSSHub</generator>
<entry><title>江北石马河又开始臭了</title><link href="https://weibo.com/123/Pabc"/><id>https://weibo.com/123/Pabc</id>
<published>2026-11-28T01:55:00.000Z</published><updated>2026-11-28T01:55:00.000Z</updated>
<content type="html">江北石马河又开始臭了&lt;br&gt;&lt;img src="x.jpg"&gt;住旁边受不了</content>
<author><name>重庆吃货小王</name></author></entry>
</feed>"""


def test_rsshub_atom_route():
    (post,) = parse_feed(RSSHUB_ATOM.encode(), "rsshub").posts
    assert post.url == "https://weibo.com/123/Pabc" and post.author == "重庆吃货小王"
    assert post.published_at == dt.datetime(2026, 11, 28, 1, 55, tzinfo=dt.UTC)
    assert "住旁边受不了" in post.text and "<img" not in post.text


def test_gbk_feed_without_declaration_uses_http_charset():
    body = (FIXTURES / "jiangbei_feed.xml").read_text(encoding="utf-8").split("?>", 1)[1].encode("gbk")
    posts = parse_feed(body, "t", "GBK").posts
    assert posts[0].title == "石马河街道鲜花港社区旁边的石马河又黑又臭"
    assert parse_feed(body, "t", None).posts[0].title == posts[0].title  # GB18030 is the last guess anyway


def test_real_gb2312_feed_declared_utf8():
    data = (FIXTURES / "feeds" / "qq_tech_gb2312_short.xml").read_bytes().replace(b'encoding="gb2312"',
                                                                                   b'encoding="utf-8"')
    (post,) = parse_feed(data, "qq").posts
    assert "\ufffd" not in post.title and post.title


class _LastModified(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str | None] = []  # noqa: RUF012 - shared by the handler instances of one test

    def log_message(self, *args):
        return

    def do_GET(self):
        body = (FIXTURES / "jiangbei_feed.xml").read_bytes()
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.close_connection = True
            return
        _LastModified.seen.append(self.headers.get("If-Modified-Since"))
        if self.headers.get("If-Modified-Since") == "Sat, 28 Nov 2026 01:00:00 GMT":
            self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Last-Modified", "Sat, 28 Nov 2026 01:00:00 GMT")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def lm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LastModified)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_last_modified_conditional_get(lm_server, settings, store):
    source = Source("lm", "rss", f"{lm_server}/feed", allow_private=True)
    assert collect(source, store, settings).new == 3
    again = collect(source, store, settings)
    assert again.ok and again.items == 0 and _LastModified.seen[-1] == "Sat, 28 Nov 2026 01:00:00 GMT"


def test_truncated_feed_is_a_clear_error(lm_server):
    with pytest.raises(FetchError):
        fetch_feed(f"{lm_server}/truncated", "t", request=FeedRequest(timeout=2, allow_private=True))
