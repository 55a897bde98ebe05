"""The address policy (crawlers/addresses.py) inside Scrapy: a downloader middleware refuses any
request (start URL, followed link, redirect) to a non-http(s) URL or a non-public host, and a
resolver refuses, at connect time, a name that resolves to a non-public address all the same
(the middleware's lookup and the connection's are two lookups: DNS rebinding)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawlers.addresses import NOT_ALLOWED, AddressNotAllowed, AddressPolicy, proxy_origins, refusal

log = logging.getLogger(__name__)
# The crawled source's URL if it says allow_private = true, else "": its origin may be private.
PRIVATE_SETTING = "ECOWATCH_PRIVATE_SOURCE_URL"


def policy_of(crawler: Crawler) -> AddressPolicy:
    """The address policy of the crawl's source, from the ECOWATCH_PRIVATE_SOURCE_URL setting."""
    url = crawler.settings.get(PRIVATE_SETTING) or ""
    return AddressPolicy.for_source(url, bool(url))


class AddressRefused(IgnoreRequest):
    """A request the address policy refuses; the message says which URL and why."""


class AddressPolicyMiddleware:
    """Refuses requests the address policy forbids before they reach a download handler."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressPolicyMiddleware:
        """Built with the crawled source's policy (``policy_of``)."""
        return cls(policy_of(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        """Raise AddressRefused for a URL the policy forbids; let everything else through."""
        try:
            self.policy.check_url(request.url)
        except AddressNotAllowed as exc:
            raise AddressRefused(str(exc)) from None
        return None


class PolicyResolver(CachingThreadedResolver):
    """Scrapy's default resolver, failing a lookup whose answer is not a public address (unless
    it is the host of a source allowing private addresses; a lookup has no port, so here the
    whole host is allowed: the middleware checked the port). The address checked is the
    address dialled."""

    private_host: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Any:  # Scrapy passes the reactor
        """Scrapy's resolver, told whether the crawled source allows private addresses."""
        resolver = super().from_crawler(crawler, reactor)
        origin = policy_of(crawler).private_origin
        resolver.private_host = origin[0] if origin else None
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        """Resolve ``name``; an address the policy refuses fails the lookup with the reason."""
        return super().getHostByName(name, timeout).addCallback(self._vet, name)

    def _vet(self, address: str, name: str) -> str:
        allowed = name.lower() == self.private_host or name.lower() in {host for host, _ in proxy_origins()}
        why = None if allowed else refusal(address)
        if why:  # Twisted reports a failed lookup as "no results": say why here
            log.warning("refused: %s resolves to %s, %s: %s", name, address, why, NOT_ALLOWED)
            raise DNSLookupError(f"{name} resolves to {address}, {why}: {NOT_ALLOWED}")
        return address
