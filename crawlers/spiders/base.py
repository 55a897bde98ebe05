"""What every ecowatch spider shares: its source, a fixed ``now``, and failures in plain words."""

from __future__ import annotations

import json
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from core.timeutil import utcnow
from crawlers.addresses import NOT_ALLOWED
from crawlers.middlewares.addresses import AddressRefused
from crawlers.middlewares.redirects import RedirectLoop
from crawlers.middlewares.seen import AlreadySeen
from crawlers.parsers.charset import Decoded, decode_page

BLOCKED = {401: "login required", 403: "forbidden", 418: "rate-limited (HTTP 418)", 429: "too many requests"}


def describe_failure(failure: Failure, url: str, timeout: float | None = None) -> str | None:
    """A failed request in plain words, or None when it is no failure (a URL already stored)."""
    exc = failure.value
    if isinstance(exc, AlreadySeen | RedirectLoop):  # not a failure / recorded where it happened
        return None
    if isinstance(exc, AddressRefused) or NOT_ALLOWED in str(exc):  # the middleware's or the resolver's
        return f"address refused: {str(exc)[:300]}"
    if isinstance(exc, HttpError):
        status = exc.response.status
        if status in BLOCKED:
            return f"blocked by the site: HTTP {status} {BLOCKED[status]} (login expired or IP banned?) at {url}"
        return f"HTTP {status} from {url}"
    kind = type(exc).__name__
    if isinstance(exc, TimeoutError | TCPTimedOutError) or kind == "DownloadTimeoutError":
        return f"timed out{f' after {timeout:g}s' if timeout else ''}: {url}"
    if isinstance(exc, DNSLookupError | ConnectionRefusedError) or kind in ("DownloadConnectionRefusedError",
                                                                            "CannotResolveHostError"):
        return f"could not connect: {url}"
    if kind == "ResponseDataLossError" or (isinstance(exc, ResponseFailed) and "DataLoss" in repr(exc.reasons)):
        return f"truncated body (the connection closed before the page was complete): {url}"
    if isinstance(exc, CancelledError) or kind == "DownloadCancelledError":
        return f"page too large (download cancelled at the size limit): {url}"
    text = str(exc)
    if "max redirections" in text or "redirect" in text.lower():
        return f"redirect loop: {url}"
    if "robots.txt" in text:
        return f"forbidden by robots.txt: {url}"
    return f"{type(exc).__name__}: {text[:200]} ({url})"


class SourceSpider(scrapy.Spider):
    """Base of the source spiders: ``source`` is the sources.toml entry as a dict."""

    name = "source"

    def __init__(self, source: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.rules: dict[str, Any] = dict(source.get("rules") or {})
        self.keyword: str | None = source.get("keyword")
        self.now = utcnow()  # relative times ("5分钟前") are read against the crawl's start
        self.errors: list[str] = []
        self.notes: list[str] = []  # not failures: pages skipped by robots.txt

    def fail(self, message: str) -> None:
        """Record a failure against the source; the crawl goes on."""
        self.logger.warning(message)
        self.errors.append(message)

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: record why it failed."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        message = describe_failure(failure, url, self.settings.getfloat("DOWNLOAD_TIMEOUT") if self.settings else None)
        if message is None:
            return
        gone = isinstance(failure.value, HttpError) and failure.value.response.status in (404, 410)
        is_list = request is not None and ("list_page" in request.meta or "page" in request.meta)
        refused_link = message.startswith("address refused") and not is_list
        if message.startswith("forbidden by robots.txt") or refused_link or (gone and not is_list):
            # A link robots.txt or the address policy forbids, or a post deleted since it was
            # listed, is not a broken source (a list page refused is: nothing can be read).
            self.notes.append(message)
            return
        self.fail(message)

    def request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request with the shared errback."""
        return scrapy.Request(url, callback=callback, errback=self.on_error, **kwargs)

    @staticmethod
    def page_decoded(response: Response) -> Decoded:
        """The page as text, surviving wrong declared charsets, and whether that reading is sure."""
        charset = None
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if "charset=" in ctype:
            charset = ctype.split("charset=")[-1].split(";")[0].strip()
        return decode_page(response.body, charset)

    @classmethod
    def page_text(cls, response: Response) -> str:
        """The page as text (the best reading, sure or not: good enough to find links)."""
        return cls.page_decoded(response).text

    def json_body(self, response: Response) -> Any:
        """The response as JSON; records "garbage JSON" and returns None when it is not."""
        try:
            return json.loads(self.page_text(response))
        except ValueError as exc:
            login = any(h in response.url for h in ("passport", "login", "signin"))
            if login:
                self.fail(f"login expired: redirected to a login page ({response.url})")
            else:
                self.fail(f"garbage JSON from {response.url}: {exc}")
            return None
