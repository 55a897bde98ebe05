"""Entry point of a crawl subprocess: ``python -m crawlers.run_spider '<source JSON>' [RUN_ID]``.

With a run id and ``ECOWATCH_REDIS_URL`` set, a site crawl joins that run's shared queue
(crawlers/distributed.py); several such processes, on any hosts, crawl the run together.

Runs one crawl (site, board, weibo or tieba) with polite settings and prints one JSON line:
``{"ok": bool, "items": n, "new": n, "updated": n, "skipped_seen": n, "error": str|null}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from scrapy.crawler import CrawlerProcess

from core.settings import load_settings
from crawlers.distributed import distributed_settings
from crawlers.middlewares.addresses import PRIVATE_SETTING
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.board import BoardSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.social import TiebaSpider, WeiboSearchSpider

SPIDERS: dict[str, type[SourceSpider]] = {"site": SiteSpider, "board": BoardSpider, "weibo": WeiboSearchSpider,
                                          "tieba": TiebaSpider}


def crawl_settings(user_agent: str, database_url: str, snapshot_dir: str, timeout: float,
                   rules: dict[str, Any] | None = None, private_source_url: str = "") -> dict:
    """Scrapy settings: polite (robots.txt, AutoThrottle, per-domain concurrency and delay, retries
    with backoff, an honest User-Agent), bounded (timeout, size cap, redirect cap), confined (http
    and https only, public addresses only but the origin of ``private_source_url``, a source
    with ``allow_private``: see crawlers/addresses.py), stored and incremental. A source may slow
    itself down (or, for a local benchmark, speed up) with the rules ``delay_seconds``,
    ``concurrency`` and ``autothrottle``."""
    rules = rules or {}
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": bool(rules.get("autothrottle", True)),
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(rules.get("concurrency", 4)),
        "DOWNLOAD_DELAY": float(rules.get("delay_seconds", 0.25)),
        "DOWNLOAD_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": int(float(rules.get("max_page_mb", 10)) * 1024 * 1024),
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": int(rules.get("retries", 2)),
        "RETRY_BACKOFF_BASE": float(rules.get("retry_backoff_seconds", 1.0)),
        "REDIRECT_MAX_TIMES": 5,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        # No download handler but http(s): a file://, ftp:// or s3:// URL cannot be read at all.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "TWISTED_DNS_RESOLVER": "crawlers.middlewares.addresses.PolicyResolver",
        PRIVATE_SETTING: private_source_url,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawlers.middlewares.redirects.LoopReportingRedirectMiddleware": 600,
            "crawlers.middlewares.backoff.BackoffRetryMiddleware": 550,
            "crawlers.middlewares.seen.SeenUrlsMiddleware": 120,
            "crawlers.middlewares.addresses.AddressPolicyMiddleware": 50,  # before robots.txt (100)
        },
        "ITEM_PIPELINES": {"crawlers.pipelines.store.StorePipeline": 300},
        "ECOWATCH_DATABASE_URL": database_url,
        "ECOWATCH_SNAPSHOT_DIR": snapshot_dir,
    }


def summarise(spider: SourceSpider, stats: dict[str, Any]) -> dict[str, Any]:
    """The report line of one crawl: ok only if something was fetched and nothing failed."""
    # robots.txt answers are responses too, but not pages of the source.
    responses = int(stats.get("response_received_count", 0)) - int(stats.get("robotstxt/response_count", 0))
    skipped = int(stats.get("ecowatch/skipped_seen", 0))
    errors = list(dict.fromkeys(spider.errors))  # distinct, in order
    crashed = int(stats.get("spider_exceptions/count", 0) or 0)
    if crashed:
        errors.append(f"{crashed} pages could not be parsed (spider error)")
    error = None
    if errors:
        error = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    elif not responses:
        error = "; ".join(spider.notes[:2]) or "no page could be fetched"
    return {"ok": responses > 0 and not errors, "items": int(stats.get("item_scraped_count", 0)),
            "new": int(stats.get("ecowatch/new_posts", 0)), "updated": int(stats.get("ecowatch/updated_posts", 0)),
            "skipped_seen": skipped, "error": error}


def main(argv: list[str]) -> int:
    """Run the crawl described by argv[0] and print the report line."""
    source = json.loads(argv[0])
    settings = load_settings()
    settings.ensure_dirs()
    spider_cls = SPIDERS[source.get("kind", "site")]
    scrapy_settings = crawl_settings(settings.user_agent, settings.sqlalchemy_url, str(settings.snapshot_dir),
                                     settings.fetch_timeout_seconds, source.get("rules"),
                                     source["url"] if source.get("allow_private") else "")
    scrapy_settings.update(distributed_settings(settings.redis_url, source, argv[1] if len(argv) > 1 else None))
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, source=source)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    assert isinstance(crawler.spider, SourceSpider)  # created by process.crawl above
    print(json.dumps(summarise(crawler.spider, stats), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
