"""The address policy: http(s) only, public addresses only unless a source allows its own
(private) address explicitly; applied to source URLs, redirects and followed links, by the feed
reader and the spiders alike. And the feed reader obeys robots.txt as the spiders do."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.errors import ConfigError, FetchError
from crawlers.addresses import AddressNotAllowed, AddressPolicy, PolicyBackend, refusal
from crawlers.collect import collect
from crawlers.feeds.reader import FeedRequest, fetch_feed
from crawlers.sources import Source, load_sources
from tests.conftest import FIXTURES
from tests.fixture_sites import GOV_ARTICLES, gov_article_html
from tests.route_server import Answer, serve_routes

FEED = (FIXTURES / "jiangbei_feed.xml").read_bytes()
FAST = {"delay_seconds": 0, "autothrottle": False, "retries": 0, "link": "a::attr(href)"}
LOCAL = FeedRequest(timeout=5, allow_private=True)


@pytest.mark.parametrize("ip,why", [("127.0.0.1", "a loopback address"), ("::1", "a loopback address"),
                                    ("10.1.2.3", "a private address"), ("192.168.0.1", "a private address"),
                                    ("169.254.169.254", "a link-local address"),
                                    ("fe80::1%eth0", "a link-local address"),
                                    ("::ffff:127.0.0.1", "a loopback address"), ("100.64.0.1", "a non-public address"),
                                    ("240.0.0.1", "a reserved address"), ("0.0.0.0", "an unspecified address"),
                                    ("8.8.8.8", None), ("2001:4860:4860::8888", None)])
def test_which_addresses_are_refused(ip, why):
    assert refusal(ip) == why


def test_policy_allows_only_the_sources_own_private_origin():
    default = AddressPolicy.for_source("http://127.0.0.1:8080/feed", allow_private=False)
    with pytest.raises(AddressNotAllowed, match="loopback"):
        default.check_url("http://127.0.0.1:8080/feed")
    with pytest.raises(AddressNotAllowed, match="only http and https"):
        default.check_url("file:///etc/passwd")
    own = AddressPolicy.for_source("http://127.0.0.1:8080/feed", allow_private=True)
    own.check_url("http://127.0.0.1:8080/other/page")  # same host and port: allowed
    for other in ("http://127.0.0.1:6379/", "http://localhost:8080/", "http://169.254.169.254/latest/meta-data/",
                  "http://10.0.0.5/admin", "ftp://127.0.0.1:8080/"):
        with pytest.raises(AddressNotAllowed):
            own.check_url(other)


def test_connect_time_check_dials_vetted_addresses_only():
    # The request hook checks a URL; the connection itself is checked again on the address it
    # dials, so a name answering a private address at connect time (DNS rebinding) is refused.
    with serve_routes({"/": Answer(b"hi")}) as site:
        port = int(site.base.rsplit(":", 1)[1])
        with pytest.raises(AddressNotAllowed, match=r"localhost resolves to .*loopback"):
            PolicyBackend(AddressPolicy()).connect_tcp("localhost", port, timeout=2)
        stream = PolicyBackend(AddressPolicy(("127.0.0.1", port))).connect_tcp("127.0.0.1", port, timeout=2)
        stream.close()
        assert site.hits == []


def test_feed_on_a_private_address_is_refused_unless_allowed(store, settings):
    with serve_routes({"/feed.xml": Answer(FEED)}) as site:
        refused = collect(Source("internal", "rss", f"{site.base}/feed.xml"), store, settings)
        assert not refused.ok and "loopback address: not allowed for this source" in refused.error
        assert site.hits == []  # not even robots.txt was asked for
        allowed = collect(Source("internal", "rss", f"{site.base}/feed.xml", allow_private=True), store, settings)
        assert allowed.ok and allowed.new == 3


def test_feed_redirects_to_other_internal_ports_or_files_are_refused():
    secret = Answer(b"<rss><channel><item><title>secret</title></item></channel></rss>")
    with serve_routes({"/secret": secret}) as inner:
        routes = {"/to-inner": Answer(status=302, headers={"Location": f"{inner.base}/secret"}),
                  "/to-file": Answer(status=301, headers={"Location": "file:///etc/passwd"}),
                  "/to-metadata": Answer(status=307, headers={"Location": "http://169.254.169.254/latest/"})}
        with serve_routes(routes) as site:
            for path, words in (("/to-inner", "loopback address"), ("/to-file", "only http and https"),
                                ("/to-metadata", "link-local address")):
                with pytest.raises(FetchError, match=words):
                    fetch_feed(site.base + path, "x", request=LOCAL)
        assert inner.hits == []


def test_feed_reader_obeys_robots_txt(store, settings):
    robots = Answer(b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    with serve_routes({"/robots.txt": robots, "/private/feed.xml": Answer(FEED), "/feed.xml": Answer(FEED),
                       "/hop": Answer(status=302, headers={"Location": "/private/feed.xml"})}) as site:
        report = collect(Source("robots", "rss", f"{site.base}/private/feed.xml", allow_private=True), store, settings)
        assert not report.ok and report.error == f"forbidden by robots.txt: {site.base}/private/feed.xml"
        with pytest.raises(FetchError, match=r"forbidden by robots\.txt"):  # a redirect into it too
            fetch_feed(f"{site.base}/hop", "x", request=LOCAL)
        assert site.count("/private/feed.xml") == 0
        assert collect(Source("fine", "rss", f"{site.base}/feed.xml", allow_private=True), store, settings).new == 3
        assert site.count("/robots.txt") >= 2


def test_sources_file_refuses_non_http_urls(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "f"\nkind = "site"\nurl = "file:///etc/passwd"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="http or https"):
        load_sources(path)
    path.write_text('[[source]]\nname = "f"\nkind = "rss"\nurl = "http://127.0.0.1/"\nallow_private = "no"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="allow_private must be true or false"):
        load_sources(path)
    path.write_text('[[source]]\nname = "f"\nkind = "rss"\nurl = "http://127.0.0.1/"\nallow_private = true\n',
                    encoding="utf-8")
    assert load_sources(path)[0].allow_private


def test_spiders_do_not_read_files(store, settings, tmp_path):
    secret = tmp_path / "secret.html"
    page = gov_article_html(1, "内部文件", "2026-11-20 09:30", "不应被读取的内部内容。" * 5)
    secret.write_text(page, encoding="utf-8")
    for kind in ("site", "board"):
        report = collect(Source(f"file-{kind}", kind, secret.as_uri(), rules=FAST, allow_private=True), store, settings)
        assert not report.ok and "only http and https" in report.error, report
    with store.read() as tx:
        assert tx.known_urls("file-site") == set() and tx.known_urls("file-board") == set()


def test_spider_follows_no_link_or_redirect_to_another_internal_host(store, settings):
    article = gov_article_html(1, *GOV_ARTICLES[1]).encode()
    with serve_routes({"/secret/1.html": Answer(article, headers={"Content-Type": "text/html"})}) as inner:
        links = (f'<a href="/art/1.html">ok</a><a href="file:///etc/passwd">f</a>'
                 f'<a href="{inner.base}/secret/1.html">inner</a><a href="/hop/2.html">hop</a>')
        routes = {"/list.html": Answer(f"<html><body>{links}</body></html>".encode(),
                                       headers={"Content-Type": "text/html; charset=utf-8"}),
                  "/art/1.html": Answer(article, headers={"Content-Type": "text/html; charset=utf-8"}),
                  "/hop/2.html": Answer(status=302, headers={"Location": f"{inner.base}/secret/1.html"})}
        with serve_routes(routes) as site:
            refused = collect(Source("gov-default", "site", f"{site.base}/list.html", rules=FAST), store, settings)
            assert not refused.ok and "loopback address" in refused.error and site.hits == []
            report = collect(Source("gov", "site", f"{site.base}/list.html", rules=FAST, allow_private=True),
                             store, settings)
            assert site.count("/art/1.html") == 1 and site.count("/hop/2.html") == 1
        assert inner.hits == []  # neither the link nor the redirect reached the other port
    assert report.ok and report.new == 1, report
    with store.read() as tx:
        assert tx.known_urls("gov") == {f"{site.base}/art/1.html"}


RESOLVER_PROBE = """
import json, sys
from scrapy.crawler import CrawlerProcess
from crawlers.run_spider import crawl_settings, summarise
from crawlers.spiders.site import SiteSpider
settings = crawl_settings("ecowatch-test", "", sys.argv[2], 5, {"retries": 0})
# Without the middleware's check, as if the name had answered a public address then (rebinding):
settings["DOWNLOADER_MIDDLEWARES"] = {k: v for k, v in settings["DOWNLOADER_MIDDLEWARES"].items()
                                      if "addresses" not in k and "seen" not in k}
settings["ITEM_PIPELINES"] = {}
process = CrawlerProcess(settings)
crawler = process.create_crawler(SiteSpider)
process.crawl(crawler, source={"name": "x", "kind": "site", "url": sys.argv[1], "rules": {"retries": 0}})
process.start()
print(json.dumps(summarise(crawler.spider, crawler.stats.get_stats())))
"""


def test_spider_resolver_refuses_private_answers_at_connect_time(tmp_path):
    root = FIXTURES.parents[1]
    listing = Answer(b"<a href='/a/1.html'>x</a>", headers={"Content-Type": "text/html"})
    with serve_routes({"/list.html": listing}) as site:
        url = site.base.replace("127.0.0.1", "localhost") + "/list.html"
        proc = subprocess.run([sys.executable, "-c", RESOLVER_PROBE, url, str(tmp_path)], cwd=root,
                              capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not report["ok"] and site.hits == []
    assert "localhost resolves to 127.0.0.1, a loopback address: not allowed for this source" in proc.stderr


def test_feeds_still_go_through_the_operators_proxy(monkeypatch):
    # A proxy named by the environment is dialled on purpose: allowed although it is on loopback
    # (the source itself is not allowed any private address).
    with serve_routes({"http://news.example.invalid/feed.xml": Answer(FEED)}) as proxy:
        monkeypatch.setenv("http_proxy", proxy.base)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        result = fetch_feed("http://news.example.invalid/feed.xml", "x", request=FeedRequest(timeout=5))
    assert len(result.posts) == 3
    assert proxy.hits == ["http://news.example.invalid/robots.txt", "http://news.example.invalid/feed.xml"]
