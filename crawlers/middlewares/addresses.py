"""The address policy (crawlers/addresses.py) inside Scrapy: a downloader middleware refuses any
request (start URL, followed link, redirect) to a non-http(s) URL or a non-public host, and a
resolver refuses, at connect time, a name that resolves to a non-public address all the same
(the middleware's lookup and the connection's are two lookups: DNS rebinding)."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawlers.addresses import NOT_ALLOWED, AddressNotAllowed, check_url, refusal

ALLOW_SETTING = "ECOWATCH_ALLOW_PRIVATE"  # the crawled source's allow_private, as a Scrapy setting


class AddressRefused(IgnoreRequest):
    """A request the address policy refuses; the message says which URL and why."""


class AddressPolicyMiddleware:
    """Refuses requests the address policy forbids before they reach a download handler."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressPolicyMiddleware:
        """Built from the ECOWATCH_ALLOW_PRIVATE setting (the source's ``allow_private``)."""
        return cls(crawler.settings.getbool(ALLOW_SETTING, False))

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        """Raise AddressRefused for a URL the policy forbids; let everything else through."""
        try:
            check_url(request.url, self.allow_private)
        except AddressNotAllowed as exc:
            raise AddressRefused(str(exc)) from None
        return None


class PolicyResolver(CachingThreadedResolver):
    """Scrapy's default resolver, failing a lookup whose answer is not a public address (unless
    the source allows private addresses). The address checked is the address dialled."""

    allow_private = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Any:  # Scrapy passes the reactor
        """Scrapy's resolver, told whether the crawled source allows private addresses."""
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool(ALLOW_SETTING, False)
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        """Resolve ``name``; an address the policy refuses fails the lookup with the reason."""
        return super().getHostByName(name, timeout).addCallback(self._vet, name)

    def _vet(self, address: str, name: str) -> str:
        why = None if self.allow_private else refusal(address)
        if why:
            raise DNSLookupError(f"{name} resolves to {address}, {why}: {NOT_ALLOWED}")
        return address
