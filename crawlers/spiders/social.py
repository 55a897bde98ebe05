"""Social-media keyword search: Weibo mobile search and Tieba thread lists.

The source URL is a template with ``{keyword}`` (filled when sources are loaded) and ``{page}``
(and ``{pn}``, Tieba's item offset = (page-1)*50). Rules: ``max_pages`` (default 2),
``cookie_env`` (name of an environment variable holding the session cookie: secrets stay out of
sources.toml).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from core.errors import FetchError
from crawlers.parsers.tieba import parse_thread_list
from crawlers.parsers.weibo import parse_search
from crawlers.spiders.base import SourceSpider


class _SearchSpider(SourceSpider):
    def _page_url(self, page: int) -> str:
        return self.source["url"].replace("{page}", str(page)).replace("{pn}", str((page - 1) * 50))

    def _headers(self) -> dict[str, str]:
        cookie = os.environ.get(self.rules["cookie_env"], "") if self.rules.get("cookie_env") else ""
        return {"Cookie": cookie} if cookie else {}

    async def start(self) -> Any:
        """Every search page up to ``max_pages`` (search pages are cheap; no chaining needed)."""
        for page in range(1, int(self.rules.get("max_pages", 2)) + 1):
            yield self.request(self._page_url(page), self.parse, headers=self._headers(), dont_filter=True)


class WeiboSearchSpider(_SearchSpider):
    """m.weibo.cn search container JSON → posts with author, followers, reposts/comments/likes."""

    name = "weibo"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """One search page."""
        data = self.json_body(response)
        if data is None:
            return
        try:
            yield from parse_search(data, self.source["name"], self.now, self.keyword)
        except FetchError as exc:
            self.fail(f"{exc} ({response.url})")


class TiebaSpider(_SearchSpider):
    """Tieba thread-list pages → posts with author, reply count and create time."""

    name = "tieba"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """One list page."""
        if "wappass" in response.url or "passport" in response.url:
            self.fail(f"login expired: redirected to a login/verification page ({response.url})")
            return
        items = parse_thread_list(self.page_text(response), response.url, self.source["name"], self.now, self.keyword)
        if not items:
            self.notes.append(f"no threads on {response.url}")
        yield from items
