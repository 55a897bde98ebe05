"""robots.txt for the feed reader, read as Scrapy's spiders read it (Protego, the parser Scrapy
uses): a feed is fetched only if the site's robots.txt lets our User-Agent fetch it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx
from protego import Protego

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads 500 KiB of a robots.txt; the rest is ignored


class RobotsRules:
    """The robots.txt of each origin met during one feed fetch, each fetched once."""

    def __init__(self, client: httpx.Client, user_agent: str, timeout: float) -> None:
        self.client, self.user_agent, self.timeout = client, user_agent, timeout
        self.parsed: dict[str, Protego | None] = {}

    def allows(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url``. As in Scrapy, a robots.txt that is missing
        (4xx), failing (5xx) or unreachable forbids nothing."""
        parts = urlsplit(url)
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        if origin not in self.parsed:
            self.parsed[origin] = self._fetch(origin + "/robots.txt")
        rules = self.parsed[origin]
        return rules is None or bool(rules.can_fetch(url, self.user_agent))

    def _fetch(self, robots_url: str) -> Protego | None:
        try:
            with self.client.stream("GET", robots_url, timeout=self.timeout,
                                    headers={"User-Agent": self.user_agent}) as resp:
                if resp.status_code != 200:
                    return None
                body = b""
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_ROBOTS_BYTES:
                        break
        except (httpx.HTTPError, ValueError):  # unreachable, refused by the address policy...
            return None
        return Protego.parse(body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace"))
