"""Redirects that report loops: Scrapy drops a request after REDIRECT_MAX_TIMES silently (no
errback), which would leave a source whose pages all loop looking healthy."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response


class RedirectLoop(IgnoreRequest):
    """Dropped for looping; already recorded against the source."""


class LoopReportingRedirectMiddleware(RedirectMiddleware):
    """RedirectMiddleware that records "redirect loop" against the source before dropping."""

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        """Follow redirects; on too many, tell the spider (``fail``) and drop the request."""
        fail = getattr(self.crawler.spider, "fail", None)  # a SourceSpider records why it failed
        first = (request.meta.get("redirect_urls") or [request.url])[0]
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:
            if fail is not None:
                fail(f"redirect loop (more than {self.max_redirect_times} redirects): {first}")
            raise RedirectLoop("max redirections reached") from None
        # A redirect back to a URL of its own chain would be dropped by the duplicate filter,
        # silently; that is a loop too.
        if isinstance(result, Request) and result.url in result.meta.get("redirect_urls", []):
            if fail is not None:
                fail(f"redirect loop ({result.url} redirects back to itself): {first}")
            raise RedirectLoop("redirect loop")
        return result
