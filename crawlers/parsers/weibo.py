"""Weibo mobile search (``m.weibo.cn/api/container/getIndex``) JSON → post items.

The search container answers ``{"ok": 1, "data": {"cards": [...]}}``; a card of type 9 carries an
``mblog``; a card of type 11 groups more cards in ``card_group``. When the session has lapsed the
API answers ``{"ok": 0, "msg": "请先登录"}`` (or redirects to passport.weibo.cn), which is reported
as "login expired" so the source shows as blind rather than quiet.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

from core.errors import FetchError
from crawlers.dates import parse_relative_time
from crawlers.parsers.counts import engagement, parse_count

_TAGS = re.compile(r"<[^>]+>")
_BR = re.compile(r"<br\s*/?>", re.I)
LOGIN_HINTS = ("登录", "login", "passport")


def mblog_text(value: str | None) -> str:
    """An mblog's HTML text → plain text (links and emoticons dropped, line breaks kept)."""
    if not value:
        return ""
    return html.unescape(_TAGS.sub("", _BR.sub("\n", value))).strip()


def _mblogs(cards: list[Any]) -> Iterator[dict[str, Any]]:
    for card in cards:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        if isinstance(card.get("card_group"), list):
            yield from _mblogs(card["card_group"])


def parse_search(data: Any, source: str, now: dt.datetime, keyword: str | None = None) -> list[dict[str, Any]]:
    """Items (source, url, title, text, author, published_at, engagement incl. followers) of one
    search page. Raises FetchError when the body is not a search answer or the login has expired."""
    if not isinstance(data, dict):
        raise FetchError("Weibo answered something that is not a JSON object")
    if data.get("ok") != 1:
        msg = str(data.get("msg") or "")
        if any(h in msg.lower() for h in LOGIN_HINTS):
            raise FetchError(f"login expired: Weibo says {msg!r}; renew the cookie")
        if data.get("ok") == 0 and not msg:
            return []  # Weibo's "no more results" answer
        raise FetchError(f"Weibo refused the search: {msg or data.get('ok')!r}")
    cards = (data.get("data") or {}).get("cards")
    if not isinstance(cards, list):
        raise FetchError("Weibo answer has no data.cards list (API shape changed?)")
    items = []
    for mblog in _mblogs(cards):
        mid = str(mblog.get("mid") or mblog.get("id") or "")
        text = mblog_text(mblog.get("text"))
        if not (mid and text):
            continue
        user = mblog.get("user")
        if not isinstance(user, dict):
            user = {}
        counts = engagement(reposts=mblog.get("reposts_count"), comments=mblog.get("comments_count"),
                            likes=mblog.get("attitudes_count"), followers=user.get("followers_count"))
        items.append({
            "source": source, "url": f"https://m.weibo.cn/detail/{mid}", "title": "", "text": text,
            "author": user.get("screen_name") or None,
            "published_at": parse_relative_time(str(mblog.get("created_at") or ""), now),
            "engagement": counts, "keyword": keyword,
        })
    return items


def followers(user: dict[str, Any]) -> int | None:
    """A user's follower count, however Weibo printed it."""
    return parse_count(user.get("followers_count"))
