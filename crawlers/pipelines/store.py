"""Validate items and store them as raw posts (one transaction per item)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from core.models import RawPost
from storage.sql import SqlStore, open_store


class StorePipeline:
    """Stores each item; drops (by raising) items without text. Counts new posts in stats."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        """Built from the ECOWATCH_DATABASE_URL setting; NotConfigured without it."""
        url = crawler.settings.get("ECOWATCH_DATABASE_URL")
        if not url:
            raise NotConfigured("ECOWATCH_DATABASE_URL is not set")
        pipeline = cls(open_store(url, crawler.settings.get("ECOWATCH_SNAPSHOT_DIR")))
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Store one item, or raise DropItem."""
        if not (item.get("text") or "").strip():
            raise DropItem(f"no text extracted from {item.get('url')}")
        post = RawPost(source=item["source"], title=item.get("title") or "", text=item["text"],
                       url=item.get("url"), author=item.get("author"), published_at=item.get("published_at"),
                       engagement=item.get("engagement") or {}, raw=item.get("raw"))
        with self.store.begin() as tx:
            result = tx.add_posts([post])
            if item.get("reply"):
                tx.set_reply(post, item["reply"], item.get("reply_at"), item.get("reply_by"))
        if self.crawler and self.crawler.stats:
            self.crawler.stats.inc_value("ecowatch/new_posts", result.new)
            self.crawler.stats.inc_value("ecowatch/updated_posts", result.updated)
        return item

    def close_spider(self) -> None:
        """Release the store's connections."""
        self.store.dispose()
