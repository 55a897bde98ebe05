"""Entry point of a crawl subprocess: ``python -m crawlers.run_spider '<source JSON>'``.

Runs one site crawl with polite settings and prints one JSON line:
``{"ok": bool, "items": n, "new": n, "error": str|null}``.
"""

from __future__ import annotations

import json
import sys

from scrapy.crawler import CrawlerProcess

from core.settings import load_settings
from crawlers.spiders.site import SiteSpider


def crawl_settings(user_agent: str, database_url: str, snapshot_dir: str, timeout: float) -> dict:
    """Scrapy settings: polite (robots.txt, AutoThrottle, per-domain limits), bounded, stored."""
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "DOWNLOAD_DELAY": 0.25,
        "DOWNLOAD_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
        "RETRY_TIMES": 2,
        "REDIRECT_MAX_TIMES": 5,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "ITEM_PIPELINES": {"crawlers.pipelines.store.StorePipeline": 300},
        "ECOWATCH_DATABASE_URL": database_url,
        "ECOWATCH_SNAPSHOT_DIR": snapshot_dir,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }


def main(argv: list[str]) -> int:
    """Run the crawl described by argv[0] and print the report line."""
    source = json.loads(argv[0])
    settings = load_settings()
    settings.ensure_dirs()
    process = CrawlerProcess(crawl_settings(settings.user_agent, settings.sqlalchemy_url,
                                            str(settings.snapshot_dir), settings.fetch_timeout_seconds))
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, source=source)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    items = int(stats.get("item_scraped_count", 0))
    errors = int(stats.get("log_count/ERROR", 0))
    responses = int(stats.get("response_received_count", 0))
    ok = responses > 0 and errors == 0
    error = None
    if not responses:
        error = "no page could be fetched (site down, blocked by robots.txt, or timed out)"
    elif errors:
        error = f"{errors} errors during the crawl"
    print(json.dumps({"ok": ok, "items": items, "new": int(stats.get("ecowatch/new_posts", 0)), "error": error}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
