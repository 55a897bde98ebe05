"""A generic list → detail spider for news and government sites, driven by rules as data.

Rules (all optional, CSS selectors): ``link`` (article links on a list page), ``next`` (next list
page), ``title``, ``body``, ``date``, ``author``, ``max_pages``. A page without matching
selectors still yields title, body and date by main-text extraction (trafilatura).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
import trafilatura
from scrapy.http import Response

from crawlers.dates import find_date


class SiteSpider(scrapy.Spider):
    """Crawls one site's list pages and their articles."""

    name = "site"

    def __init__(self, source: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.rules: dict[str, Any] = source.get("rules", {})
        self.start_urls = list(self.rules.get("list_urls") or [source["url"]])
        self.pages = 0

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """A list page: follow article links and the next page."""
        self.pages += 1
        for href in response.css(self.rules.get("link", "a::attr(href)")).getall():
            yield response.follow(href, callback=self.parse_article)
        nxt = self.rules.get("next")
        if nxt and self.pages < int(self.rules.get("max_pages", 5)):
            for href in response.css(nxt).getall()[:1]:
                yield response.follow(href, callback=self.parse)

    def _pick(self, response: Response, key: str) -> str:
        sel = self.rules.get(key)
        if not sel:
            return ""
        return " ".join(t.strip() for t in response.css(sel).getall() if t.strip())

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        """An article page → one item (title, text, date, author)."""
        title = self._pick(response, "title")
        body = "\n".join(p.strip() for p in response.css(self.rules["body"]).getall() if p.strip()) \
            if self.rules.get("body") else ""
        date_text = self._pick(response, "date")
        if not (title and body):
            extracted = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True,
                                                    include_comments=False)
            if extracted is not None:
                meta = extracted if isinstance(extracted, dict) else extracted.as_dict()
                title = title or (meta.get("title") or "")
                body = body or (meta.get("text") or "")
                date_text = date_text or (meta.get("date") or "")
        yield {
            "source": self.source["name"],
            "url": response.url,
            "title": title.strip(),
            "text": body.strip(),
            "author": self._pick(response, "author") or None,
            "published_at": find_date(date_text) or find_date(response.css("body").get() or ""),
            "raw": response.text,
        }
