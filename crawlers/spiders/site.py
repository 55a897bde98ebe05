"""A generic list → detail spider for news and government sites, driven by rules as data.

Rules (all optional): ``list_urls`` (default: the source URL), ``link`` (CSS of article links),
``link_pattern`` (regex an article URL must match), ``next`` (CSS of the next list page) or
``page_url`` (numbered list pages, e.g. ``index_{page}.html`` from ``page_start``),
``max_pages``, ``max_articles``, and for articles ``title``, ``body``, ``date``, ``author`` (CSS)
and ``date_formats`` (strptime). What the rules do not give comes from main-text extraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response

from crawlers.parsers.article import extract_article
from crawlers.spiders.base import SourceSpider

# Without a link rule, an article is a same-site link whose path looks like a dated or numbered
# page ("t20261128_123.html", "/2026-11/28/content_1.htm", "/p/6854540762").
_ARTICLE_PATH = re.compile(r"\d{5,}|/20\d{2}[-/]?\d{2}|\.s?html?$")


def article_links(sel: Selector, base: str, rules: dict[str, Any]) -> list[str]:
    """Absolute article URLs of a list page: the ``link`` CSS rule (filtered by ``link_pattern``),
    or without one, same-site links that look like articles. Pure."""
    css = rules.get("link")
    hrefs = sel.css(css).getall() if css else sel.css("a::attr(href)").getall()
    pattern = re.compile(rules["link_pattern"]) if rules.get("link_pattern") else None
    host = urlsplit(base).netloc
    out: list[str] = []
    for href in hrefs:
        url = urljoin(base, href.strip())
        if not url.startswith(("http://", "https://")) or url == base or url in out:
            continue
        if pattern and not pattern.search(url):
            continue
        looks_like_article = urlsplit(url).netloc == host and _ARTICLE_PATH.search(urlsplit(url).path)
        if not css and not pattern and not looks_like_article:
            continue
        out.append(url)
    return out


class SiteSpider(SourceSpider):
    """Crawls one site's list pages and their articles."""

    name = "site"

    def start_requests(self) -> Iterator[Any]:
        """The list pages: ``list_urls``, the source URL, and numbered pages when ``page_url`` is set."""
        urls = list(self.rules.get("list_urls") or [self.source["url"]])
        template = self.rules.get("page_url")
        if template:
            first = int(self.rules.get("page_start", 2))
            for n in range(first, first + int(self.rules.get("max_pages", 3)) - 1):
                urls.append(urljoin(urls[0], template.replace("{page}", str(n))))
        for url in urls:
            yield self.request(url, self.parse, meta={"list_page": 1})

    async def start(self) -> Any:
        """Scrapy ≥ 2.13 entry point; same requests as start_requests."""
        for req in self.start_requests():
            yield req

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """A list page: follow article links (skipped when already stored) and the next page."""
        sel = Selector(text=self.page_text(response))
        links = article_links(sel, response.url, self.rules)[: int(self.rules.get("max_articles", 200))]
        if not links:
            self.notes.append(f"no article links on {response.url}")
        for url in links:
            yield self.request(url, self.parse_article, meta={"skip_if_seen": True})
        page = int(response.meta.get("list_page", 1))
        nxt = self.rules.get("next")
        if nxt and page < int(self.rules.get("max_pages", 3)):
            for href in sel.css(nxt).getall()[:1]:
                yield self.request(urljoin(response.url, href), self.parse, meta={"list_page": page + 1})

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        """An article page → one item (title, text, date, author, original HTML)."""
        decoded = self.page_decoded(response)
        if not decoded.confident:  # a guessed reading would be stored as the author's words
            self.fail(f"could not tell the character encoding of {response.url} (none declared, not UTF-8)")
            return
        text = decoded.text
        article = extract_article(text, response.url, self.rules)
        yield {"source": self.source["name"], "url": response.url, "title": article.title, "text": article.text,
               "author": article.author, "published_at": article.published_at, "raw": text}
