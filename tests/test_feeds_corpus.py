"""The feed corpus (tests/fixtures/feeds_corpus, see its README): each file served on loopback
and read through the production feed collection (``collect``): no exception, no hang, every
failure a clear message, every success the author's text. Then the cases that need a live server:
two sites' same relative link, Content-Location, an empty 200, a 304 nobody asked for, the
per-run item cap, a gzip bomb, a redirect loop."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import pytest

from core.source_health import assess
from core.timeutil import utcnow
from crawlers.collect import RunReport, collect
from crawlers.sources import Source
from storage.sql import SqlStore
from tests.conftest import FIXTURES
from tests.route_server import Answer, RouteServer, serve_routes

CORPUS = FIXTURES / "feeds_corpus"
ZH = ["石马河街道鲜花港社区旁边的石马河又黑又臭", "观音桥商圈夜间施工噪音扰民，居民希望尽快整改"]
# file → the titles stored (exactly: the author's text, not a plausible wrong reading), or the
# words of the error the run must fail with (and then nothing is stored).
STORED: dict[str, list[str]] = {
    "utf16le_bom.xml": ZH, "utf16be_bom.xml": ZH, "utf32le_bom.xml": ZH, "utf32be_bom.xml": ZH,
    "utf16le_no_bom.xml": ZH, "undeclared_gbk.xml": ZH,
    "undeclared_euc-kr.xml": ["서울시 환경부는 오늘 대기 오염 경보를 발령했습니다",
                              "시민들은 외출을 자제해 주시기 바랍니다"],
    "undeclared_euc-jp.xml": ["東京都の環境局は本日、大気汚染の注意報を発令しました",
                              "市民の皆様は外出を控えてください"],
    "undeclared_shift_jis.xml": ["大阪市の環境局は本日、河川の水質調査の結果を発表しました",
                                 "住民の皆様にはご協力をお願いします"],
    "undeclared_big5.xml": ["台北市環境保護局今日發布空氣污染警報", "請市民減少外出活動並注意身體健康"],
    "undeclared_koi8-r.xml": ["Министерство экологии сегодня объявило предупреждение о загрязнении воздуха",
                              "Жителям рекомендуется оставаться дома"],
    "undeclared_tis-620.xml": ["กรมควบคุมมลพิษประกาศเตือนเรื่องมลพิษทางอากาศในวันนี้",
                               "ขอให้ประชาชนงดออกจากบ้านโดยไม่จำเป็น"],
    "undeclared_windows-1255.xml": ["המשרד להגנת הסביבה הוציא היום אזהרה על זיהום אוויר",
                                    "התושבים מתבקשים להישאר בבתיהם"],
    "relative_links.xml": ZH, "content_location.xml": ZH[:1], "xml_base.xml": ZH[:1],
    "xxe_file.xml": ["xxe &xxe; end"], "xxe_param.xml": ["param entity"], "billion_laughs.xml": ["&lol9;"],
}
FAILED: dict[str, str] = {
    "empty.xml": "empty answer: HTTP 200 with no content",
    "link_only.xml": "read 1 item, kept 0: 1 had only a link (no title, no text)",
    "not_a_feed.html": "not a feed: no RSS or Atom channel",
    "undecodable_bytes.xml": "could not tell the feed's character encoding",
}


def _collect(source: Source, store: SqlStore, settings) -> RunReport:
    """``collect`` with a deadline: a hang fails the test instead of stalling the suite."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(collect, source, store, settings).result(timeout=60)


def _titles(store: SqlStore, source: str) -> list[str]:
    with store.read() as tx:
        rows = tx.conn.exec_driver_sql("SELECT title, text, url FROM raw_posts WHERE source = ? ORDER BY id",
                                       (source,)).all()
    return [r.title for r in rows]


def _health(store: SqlStore, source: str):
    with store.read() as tx:
        return assess(source, tx.source_runs(source), 24, utcnow())


@pytest.fixture
def corpus() -> RouteServer:
    routes = {f"/feeds/{p.name}": Answer(p.read_bytes()) for p in CORPUS.iterdir() if p.suffix in (".xml", ".html")}
    with serve_routes(routes) as server:
        yield server


def test_every_corpus_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".xml", ".html")}
    assert files == set(STORED) | set(FAILED)


@pytest.mark.parametrize("name", sorted(STORED))
def test_corpus_file_is_stored_as_written(name, corpus, store, settings):
    report = _collect(Source(name, "rss", f"{corpus.base}/feeds/{name}", allow_private=True), store, settings)
    assert report.ok and report.new == len(STORED[name]), report
    assert _titles(store, name) == STORED[name]


@pytest.mark.parametrize("name", sorted(FAILED))
def test_corpus_file_fails_clearly_and_is_flagged(name, corpus, store, settings):
    report = _collect(Source(name, "rss", f"{corpus.base}/feeds/{name}", allow_private=True), store, settings)
    assert not report.ok and FAILED[name] in report.error and f"/feeds/{name}" in report.error, report
    assert _titles(store, name) == []
    health = _health(store, name)
    assert health.blind and health.blind_reason.startswith("last run failed: " + FAILED[name].split(":")[0])


def test_hostile_xml_leaks_and_expands_nothing(corpus, store, settings):
    for name in ("xxe_file.xml", "xxe_param.xml", "billion_laughs.xml"):
        _collect(Source(name, "rss", f"{corpus.base}/feeds/{name}", allow_private=True), store, settings)
    with store.read() as tx:
        texts = [r.title + r.text for r in tx.conn.exec_driver_sql("SELECT title, text FROM raw_posts").all()]
    assert texts and not any("root:" in t or "lollol" in t for t in texts)
    assert corpus.count("/evil.dtd") == 0


def test_undecodable_feed_reads_with_the_sources_charset_rule(corpus, store, settings):
    source = Source("forced", "rss", f"{corpus.base}/feeds/undecodable_bytes.xml", allow_private=True,
                    rules={"charset": "koi8-r"})
    assert _collect(source, store, settings).new == 1  # the operator's word is a declaration


def test_two_sites_same_relative_link_do_not_collide(store, settings):
    body = (CORPUS / "relative_links.xml").read_bytes()
    other = body.replace("石马河".encode(), "嘉陵江".encode()).replace("观音桥".encode(), "寸滩".encode())  # same links
    with serve_routes({"/feeds/a.xml": Answer(body)}) as one, serve_routes({"/feeds/a.xml": Answer(other)}) as two:
        first = _collect(Source("one", "rss", f"{one.base}/feeds/a.xml", allow_private=True), store, settings)
        second = _collect(Source("two", "rss", f"{two.base}/feeds/a.xml", allow_private=True), store, settings)
    assert (first.new, second.new) == (2, 2)
    with store.read() as tx:
        assert tx.known_urls("two") == {f"{two.base}/news/1.html", f"{two.base}/feeds/item/2.html"}


def test_links_resolve_against_content_location(store, settings):
    body = (CORPUS / "content_location.xml").read_bytes()
    answer = Answer(body, headers={"Content-Type": "application/rss+xml", "Content-Location": "/mirror/feed.xml"})
    with serve_routes({"/feeds/c.xml": answer}) as site:
        assert _collect(Source("cl", "rss", f"{site.base}/feeds/c.xml", allow_private=True), store, settings).new == 1
    with store.read() as tx:
        assert tx.known_urls("cl") == {f"{site.base}/mirror/item/1.html"}


def test_304_without_a_copy_is_flagged(store, settings):
    with serve_routes({"/feed.xml": Answer(status=304, headers={})}) as site:
        report = _collect(Source("never", "rss", f"{site.base}/feed.xml", allow_private=True), store, settings)
    assert not report.ok and "HTTP 304 Not Modified to an unconditional request" in report.error
    assert _health(store, "never").blind_reason.startswith("last run failed: HTTP 304")


def _feed_of(n: int) -> bytes:
    items = "".join(f"<item><title>第{i}条</title><link>https://news.example.cn/{i}.html</link>"
                    f"<description>江北区第{i}条环境信息</description></item>" for i in range(n))
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title>'
    return f"{head}{items}</channel></rss>".encode()


def test_item_cap_carries_the_rest_to_the_next_runs(store, settings):
    seen: list[str | None] = []

    def feed(h: BaseHTTPRequestHandler) -> Answer:
        seen.append(h.headers.get("If-None-Match"))
        if h.headers.get("If-None-Match") == '"v1"':
            return Answer(status=304, headers={})
        return Answer(_feed_of(250), headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    with serve_routes({"/feed.xml": feed}) as site:
        source = Source("big", "rss", f"{site.base}/feed.xml", allow_private=True, rules={"max_items": 100})
        runs = [_collect(source, store, settings) for _ in range(4)]
    assert [r.new for r in runs] == [100, 100, 50, 0] and all(r.ok for r in runs)
    assert "100 new items stored, 150 more left for the next run (max_items = 100 per run)" in runs[0].error
    assert seen == [None, None, None, '"v1"']  # validators kept only once everything is stored
    with store.read() as tx:
        assert len(tx.known_urls("big")) == 250


def test_gzip_bomb_and_redirect_loop_are_clear_errors(store, settings):
    bomb = gzip.compress(b'<?xml version="1.0"?><rss><channel>' + b" " * (64 * 1024 * 1024) + b"</channel></rss>")
    routes = {"/bomb.xml": Answer(bomb, headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}),
              "/loop.xml": Answer(status=302, headers={"Location": "/loop.xml"})}
    with serve_routes(routes) as site:
        bombed = _collect(Source("bomb", "rss", f"{site.base}/bomb.xml", allow_private=True), store, settings)
        looped = _collect(Source("loop", "rss", f"{site.base}/loop.xml", allow_private=True), store, settings)
    assert len(bomb) < 100_000 and not bombed.ok and "feed larger than 10 MB" in bombed.error
    assert not looped.ok and "redirect loop" in looped.error and site.count("/loop.xml") == 6
