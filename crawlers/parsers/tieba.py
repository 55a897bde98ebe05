"""Baidu Tieba thread-list pages (``/f?kw=...`` and keyword search) → post items.

Each thread is an ``li.j_thread_list`` whose ``data-field`` JSON holds the thread id, author and
reply count; the list is sometimes shipped inside HTML comments (``<code><!-- ... --></code>``)
for lazy rendering, so comments are opened before parsing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from crawlers.dates import parse_relative_time
from crawlers.parsers.counts import engagement


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def parse_thread_list(html_text: str, base_url: str, source: str, now: dt.datetime,
                      keyword: str | None = None) -> list[dict[str, Any]]:
    """One item per thread: title, abstract as text, author, reply count, create time (relative
    forms such as ``12:30`` or ``8-1`` read against ``now``). Pure."""
    sel = Selector(text=html_text.replace("<!--", "").replace("-->", ""))
    items = []
    for li in sel.css("li.j_thread_list"):
        try:
            field = json.loads(li.attrib.get("data-field") or "{}")
        except json.JSONDecodeError:
            field = {}
        tid = str(field.get("id") or li.attrib.get("data-tid") or "")
        title = _clean(li.css("a.j_th_tit::attr(title)").get() or li.css("a.j_th_tit::text").get())
        if not (tid and title):
            continue
        abstract = _clean(" ".join(li.css(".threadlist_abs ::text").getall()))
        author = field.get("author_nickname") or field.get("author_name") \
            or _clean(li.css(".tb_icon_author::attr(title)").get()).removeprefix("主题作者:").strip() or None
        created = _clean(li.css(".is_show_create_time::text").get())
        href = li.css("a.j_th_tit::attr(href)").get() or f"/p/{tid}"
        items.append({
            "source": source, "url": urljoin(base_url, href), "title": title, "text": abstract or title,
            "author": author, "published_at": parse_relative_time(created, now),
            "engagement": engagement(comments=field.get("reply_num")), "keyword": keyword,
        })
    return items
