"""Keeps the crawler processes of one distributed run together until the run is done."""

from __future__ import annotations

import os
import socket
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured

from crawlers.distributed import BUSY_TTL_SECONDS, IDLE_POLL_SECONDS, RUN_TTL_SECONDS, glob_escape, redis_client


class RunCoordinator:
    """Keeps a worker in the run while other workers may still queue pages, and leaves it clean.

    Scrapy closes a spider as soon as its own scheduler looks empty. With a shared queue that is
    too early: another host may be parsing a list page whose articles are about to be queued. So
    a worker marks itself busy while it has pages in flight, and an idle worker stays (raising
    DontCloseSpider, polled every few seconds by Scrapy) while any other worker is busy. The last
    worker to leave an empty queue deletes the run's keys.
    """

    def __init__(self, crawler: Crawler, redis_url: str, prefix: str) -> None:
        self.crawler = crawler
        self.client = redis_client(redis_url)
        self.prefix = prefix
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.busy_key = f"{prefix}:busy:{self.worker}"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunCoordinator:
        """Built from ECOWATCH_REDIS_URL and ECOWATCH_RUN_PREFIX; NotConfigured without them."""
        url, prefix = crawler.settings.get("ECOWATCH_REDIS_URL"), crawler.settings.get("ECOWATCH_RUN_PREFIX")
        if not url or not prefix:
            raise NotConfigured("distributed crawling is off (no ECOWATCH_REDIS_URL)")
        ext = cls(crawler, url, prefix)
        crawler.signals.connect(ext.request_reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def request_reached_downloader(self, request: Any, spider: Spider) -> None:
        """Mark this worker busy (its next pages may queue more requests)."""
        self.client.set(self.busy_key, "1", ex=BUSY_TTL_SECONDS)

    def others_busy(self) -> bool:
        """Whether another worker of the run has pages in flight."""
        return any(key != self.busy_key for key in self.client.scan_iter(match=glob_escape(self.prefix) + ":busy:*"))

    def spider_idle(self, spider: Spider) -> None:
        """Idle here: stay while the shared queue is non-empty or another worker is busy."""
        self.client.delete(self.busy_key)
        queue_key = self.crawler.settings.get("SCHEDULER_QUEUE_KEY", "")
        queued = self.client.zcard(queue_key) if self.client.type(queue_key) == "zset" else 0
        if queued or self.others_busy():
            if self.crawler.stats:
                self.crawler.stats.inc_value("ecowatch/distributed_waits")
            # Scrapy polls an idle spider's scheduler every 5 s; look at the shared queue sooner.
            from twisted.internet import reactor

            # The reactor's zope interfaces declare methods without ``self``, so a checker misreads
            # callLater's arguments.
            reactor.callLater(IDLE_POLL_SECONDS, self._wake)  # type: ignore[arg-type]
            raise DontCloseSpider("other workers of the run may still queue pages")

    def _wake(self) -> None:
        # Engine internals (Scrapy 2.x): if they move, the 5 s heartbeat still does the job.
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Leave the run: the last worker out of a finished run deletes its keys."""
        self.client.delete(self.busy_key)
        if reason == "finished" and not self.others_busy():
            keys = list(self.client.scan_iter(match=glob_escape(self.prefix) + ":*"))
            if keys:
                self.client.delete(*keys)
        else:  # interrupted: leave the queue to the others, but never forever
            for key in self.client.scan_iter(match=glob_escape(self.prefix) + ":*"):
                self.client.expire(key, RUN_TTL_SECONDS)
