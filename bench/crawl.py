"""Crawl throughput: a 2,000-article fixture site on 127.0.0.1, crawled (1) through ecowatch's
full pipeline (subprocess, robots.txt, incremental check, rules extraction, store + snapshot,
run recorded) and (2) by a bare Scrapy spider (same site, same concurrency, no pipeline), in one
run. Prints pages/s for each and the ratio.

    .venv/bin/python bench/crawl.py [--articles 2000] [--concurrency 16]

Politeness delays are switched off for both: the figure is the pipeline's own cost, not a
politeness budget (real sources keep their delays).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_LIST = 50
BARE_SPIDER = r'''
import json, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

class Bare(scrapy.Spider):
    name = "bare"
    start_urls = [sys.argv[1]]
    def parse(self, response):
        for href in response.css("ul.list a::attr(href)").getall():
            yield response.follow(href, self.parse_article)
        for href in response.css("a.next::attr(href)").getall():
            yield response.follow(href, self.parse)
    def parse_article(self, response):
        yield {"title": response.css("h1::text").get(),
               "text": " ".join(response.css("div.content p::text").getall())}

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": int(sys.argv[2]),
                          "CONCURRENT_REQUESTS": int(sys.argv[2]), "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                          "TELNETCONSOLE_ENABLED": False})
crawler = process.create_crawler(Bare)
process.crawl(crawler)
process.start()
stats = crawler.stats.get_stats()
print(json.dumps({"responses": stats.get("response_received_count", 0), "items": stats.get("item_scraped_count", 0)}))
'''


def build_site(root: Path, articles: int) -> int:
    """Write list pages (50 links each, chained by "next") and article pages; returns list pages."""
    (root / "a").mkdir(parents=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    for n in range(articles):
        (root / "a" / f"{n}.html").write_text(
            f'<html><head><meta charset="utf-8"><title>第{n}号 江北区环境信息</title></head><body>'
            f'<h1>江北区环境信息第{n}号</h1>'
            f'<span class="date">发布时间：2026-11-{1 + n % 28:02d} 09:{n % 60:02d}</span>'
            f'<div class="content"><p>石马河街道第{n}次巡查发现排污口{n % 7}处，已责令整改。</p>'
            f'<p>{"生态环境保护 " * 40}</p></div></body></html>', encoding="utf-8")
    pages = (articles + PER_LIST - 1) // PER_LIST
    for p in range(pages):
        links = "".join(f'<li><a href="/a/{n}.html">第{n}号</a></li>'
                        for n in range(p * PER_LIST, min(articles, (p + 1) * PER_LIST)))
        nxt = f'<a class="next" href="/list{p + 1}.html">下一页</a>' if p + 1 < pages else ""
        (root / f"list{p}.html").write_text(f'<html><body><ul class="list">{links}</ul>{nxt}</body></html>',
                                            encoding="utf-8")
    return pages


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


def main() -> None:
    """Run both crawls and print pages/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    from core.settings import Settings
    from crawlers.collect import collect
    from crawlers.sources import Source
    from storage.sql import open_store

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        lists = build_site(site, args.articles)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        pages = lists + args.articles

        settings = Settings(data_dir=Path(tmp) / "data", crawl_time_limit_seconds=3600)
        settings.ensure_dirs()
        store = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
        rules = {"link": "ul.list a::attr(href)", "next": "a.next::attr(href)", "title": "h1::text",
                 "body": "div.content p::text", "date": "span.date::text", "max_pages": lists + 1,
                 "max_articles": PER_LIST, "delay_seconds": 0, "autothrottle": False,
                 "concurrency": args.concurrency}
        source = Source("bench", "site", f"{base}/list0.html", rules=rules, allow_private=True)  # on loopback
        started = time.perf_counter()
        report = collect(source, store, settings)
        full = time.perf_counter() - started
        if not (report.ok and report.new == args.articles):
            raise SystemExit(f"full pipeline did not store every article: {report}")

        env = dict(os.environ, PYTHONPATH=str(ROOT))
        started = time.perf_counter()
        script = Path(tmp) / "bare_spider.py"  # a file, not -c: Scrapy inspects callbacks' source
        script.write_text(BARE_SPIDER, encoding="utf-8")
        out = subprocess.run([sys.executable, str(script), f"{base}/list0.html", str(args.concurrency)],
                             capture_output=True, text=True, env=env, check=True)
        bare = time.perf_counter() - started
        bare_stats = json.loads(out.stdout.strip().splitlines()[-1])
        if bare_stats["items"] != args.articles:
            print(out.stderr[-3000:], file=sys.stderr)
        if bare_stats["items"] != args.articles:
            raise SystemExit(f"bare spider saw {bare_stats} articles")

        again_started = time.perf_counter()
        again = collect(source, store, settings)
        incremental = time.perf_counter() - again_started
        server.shutdown()
        store.dispose()

    print(f"fixture site: {lists} list pages + {args.articles} articles = {pages} pages, "
          f"concurrency {args.concurrency}, wall time incl. process start-up")
    print(f"full pipeline : {full:7.2f} s  {pages / full:8.1f} pages/s  ({report.new} posts stored)")
    print(f"bare Scrapy   : {bare:7.2f} s  {pages / bare:8.1f} pages/s")
    print(f"ratio full/bare throughput: {(pages / full) / (pages / bare):.2f}")
    print(f"second run (incremental): {incremental:.2f} s, {again.skipped_seen} articles skipped, {again.new} new")


if __name__ == "__main__":
    main()
