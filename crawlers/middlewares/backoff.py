"""Retries with exponential backoff: Scrapy's RetryMiddleware retries at once; a struggling
server (5xx, 429, timeouts) is better served by waiting 1 s, 2 s, 4 s... between attempts."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose retried requests wait ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds
    (capped by ``RETRY_BACKOFF_MAX``) before going back to the scheduler."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 30.0)

    async def _wait(self, result: Any) -> Any:
        if isinstance(result, Request) and self.base > 0:
            delay = min(self.cap, self.base * 2 ** (int(result.meta.get("retry_times", 1)) - 1))
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result

    # Scrapy (2.13+) awaits a middleware method that returns a coroutine; its stubs declare only
    # the synchronous form, hence the override ignores.
    async def process_response(  # type: ignore[override]
            self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        """Retry (after the backoff) what RetryMiddleware would retry."""
        return await self._wait(super().process_response(request, response))

    async def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception, spider: Spider | None = None) -> Any:
        """Retry (after the backoff) a failed download RetryMiddleware would retry."""
        return await self._wait(super().process_exception(request, exception))
