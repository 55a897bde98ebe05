"""Incremental crawling: a detail page whose URL is already stored is not fetched again."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from core.models import normalise_url
from storage.sql import open_store


class AlreadySeen(IgnoreRequest):
    """The request's URL is stored already; skipping it is success, not an error."""


class SeenUrlsMiddleware:
    """Drops requests marked ``meta["skip_if_seen"]`` whose normalised URL the store holds.

    List pages are never marked (they change); detail pages are. The known URLs of the spider's
    source are loaded once when the spider opens: one query instead of one per request.
    """

    def __init__(self, database_url: str, crawler: Crawler) -> None:
        self.database_url = database_url
        self.crawler = crawler
        self.known: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenUrlsMiddleware:
        """Built from ECOWATCH_DATABASE_URL; off (NotConfigured) without it or with ECOWATCH_INCREMENTAL false."""
        url = crawler.settings.get("ECOWATCH_DATABASE_URL")
        if not url or not crawler.settings.getbool("ECOWATCH_INCREMENTAL", True):
            raise NotConfigured("incremental crawling is off")
        from scrapy import signals

        mw = cls(url, crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        """Load the URLs already stored for this source."""
        source = getattr(spider, "source", {}).get("name")
        store = open_store(self.database_url)
        try:
            with store.read() as tx:
                self.known = tx.known_urls(source) if source else set()
        finally:
            store.dispose()

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        """Raise AlreadySeen for a known detail URL; let everything else through."""
        # "seen_url": the address the post is stored under, when it differs from the API URL fetched.
        seen_url = request.meta.get("seen_url") or request.url
        if request.meta.get("skip_if_seen") and normalise_url(seen_url) in self.known:
            if self.crawler.stats:
                self.crawler.stats.inc_value("ecowatch/skipped_seen")
            raise AlreadySeen(f"already stored: {request.url}")
        return None
