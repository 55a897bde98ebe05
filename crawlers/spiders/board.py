"""Message boards and online petition platforms (留言板, 网络问政): JSON list + detail APIs.

Rules (dotted JSON paths and URL templates, all data): ``items`` (path of the list in a list
page), ``id``, ``detail_url`` (template with ``{id}``; none = the list item is the whole
record), ``detail_root`` (path of the record in a detail answer), ``title``, ``text``,
``author``, ``date``, ``reply`` (the official answer), ``reply_date``, ``reply_by``,
``replied`` (list-item flag: a post without a reply yet is fetched again next time, so the reply
is captured when it comes), ``post_url`` (public page of a post, ``{id}``), ``max_pages``,
``page_start``, and ``list_body`` (JSON template with ``{page}``: POST the list request).
The source URL is the list API with ``{page}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawlers.dates import find_date
from crawlers.parsers.jsonpath import get_path
from crawlers.spiders.base import SourceSpider


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class BoardSpider(SourceSpider):
    """Pages through a board's list API and reads each post's detail with its reply."""

    name = "board"

    def _list_request(self, page: int) -> Any:
        url = self.source["url"].replace("{page}", str(page))
        body = self.rules.get("list_body")
        if body:
            return self.request(url, self.parse, method="POST", body=body.replace("{page}", str(page)),
                                headers={"Content-Type": "application/json"}, meta={"page": page},
                                dont_filter=True)
        return self.request(url, self.parse, meta={"page": page})

    async def start(self) -> Any:
        """The first list page."""
        yield self._list_request(int(self.rules.get("page_start", 1)))

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """A list page: detail requests (or items), then the next page while there are items."""
        data = self.json_body(response)
        if data is None:
            return
        items = get_path(data, self.rules.get("items", "data.list"))
        if not isinstance(items, list):
            self.fail(f"no list at {self.rules.get('items', 'data.list')!r} in {response.url} (API shape changed?)")
            return
        for entry in items:
            if not isinstance(entry, dict):
                continue
            post_id = _text(get_path(entry, self.rules.get("id", "id")))
            template = self.rules.get("detail_url")
            if template and post_id:
                awaiting = self.rules.get("replied") and not get_path(entry, self.rules["replied"])
                detail = urljoin(response.url, template.replace("{id}", post_id))
                yield self.request(detail, self.parse_detail,
                                   meta={"skip_if_seen": not awaiting, "seen_url": self._post_url(post_id, detail),
                                         "entry": entry, "post_id": post_id})
            else:
                item = self._item(entry, post_id, response.url)
                if item:
                    yield item
        page = int(response.meta.get("page", 1))
        last = int(self.rules.get("page_start", 1)) + int(self.rules.get("max_pages", 3)) - 1
        if items and page < last:
            yield self._list_request(page + 1)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        """A detail answer → one item with the official reply."""
        data = self.json_body(response)
        if data is None:
            return
        record = get_path(data, self.rules.get("detail_root"), data) if self.rules.get("detail_root") else data
        if not isinstance(record, dict):
            self.fail(f"no record in {response.url}")
            return
        merged = {**response.meta.get("entry", {}), **record}
        item = self._item(merged, response.meta.get("post_id", ""), response.url, raw=response.text)
        if item:
            yield item

    def _post_url(self, post_id: str, api_url: str) -> str:
        """Where a post is stored: its public page (``post_url``) when known, else the API URL."""
        template = self.rules.get("post_url")
        return urljoin(api_url, template.replace("{id}", post_id)) if template and post_id else api_url

    def _item(self, record: dict[str, Any], post_id: str, api_url: str, raw: str | None = None) -> dict | None:
        r = self.rules
        text = _text(get_path(record, r.get("text", "content")))
        title = _text(get_path(record, r.get("title", "title")))
        if not (text or title):
            return None
        url = self._post_url(post_id, api_url)
        reply = _text(get_path(record, r.get("reply"))) if r.get("reply") else ""
        return {
            "source": self.source["name"], "url": url, "title": title, "text": text or title,
            "author": _text(get_path(record, r.get("author", "author"))) or None,
            "published_at": find_date(_text(get_path(record, r.get("date", "date")))),
            "reply": reply or None,
            "reply_at": find_date(_text(get_path(record, r.get("reply_date")))) if reply else None,
            "reply_by": (_text(get_path(record, r.get("reply_by"))) or None) if reply else None,
            "raw": raw or json.dumps(record, ensure_ascii=False),
        }
