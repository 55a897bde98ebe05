"""Read one RSS/Atom source into raw posts: conditional GET, tolerant decoding, clear errors."""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
from dataclasses import dataclass, field

import feedparser
import httpx

from core.errors import FetchError
from core.models import RawPost
from crawlers.dates import find_date
from crawlers.feeds.decode import as_utf8_document

MAX_BYTES = 10 * 1024 * 1024  # a feed larger than this is refused, not parsed
_TAGS = re.compile(r"<[^>]+>")


@dataclass(slots=True)
class FeedResult:
    """Outcome of reading one feed."""

    posts: list[RawPost] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    warning: str | None = None  # parsed, but the feed was not well formed


def _text(value: str | None) -> str:
    """Feed HTML → plain text (tags dropped, entities decoded); crawled text stays untrusted."""
    if not value:
        return ""
    return html.unescape(_TAGS.sub(" ", value)).replace("\xa0", " ").strip()


_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2}|GMT|UTC?|[A-Z]{3,4})\s*$")


def _published(entry: feedparser.FeedParserDict) -> dt.datetime | None:
    raw = (entry.get("published") or entry.get("updated") or "").strip()
    # Chinese feeds often print "2018-09-18 14:38:10": local time, which feedparser takes as UTC.
    if raw and not _ZONE.search(raw):
        local = find_date(raw)
        if local:
            return local
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)
    return find_date(raw)


def parse_feed(data: bytes, source: str, http_charset: str | None = None) -> FeedResult:
    """Parse feed bytes into posts. Raises FetchError when nothing usable is in them."""
    parsed = feedparser.parse(as_utf8_document(data, http_charset))
    result = FeedResult()
    if parsed.bozo and not parsed.entries:
        raise FetchError(f"not a readable feed: {parsed.get('bozo_exception')!s:.200}")
    if parsed.bozo:
        result.warning = f"feed not well formed: {parsed.get('bozo_exception')!s:.200}"
    for entry in parsed.entries:
        title = _text(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = _text(entry.content[0].get("value"))
        body = body or _text(entry.get("summary") or entry.get("description"))
        if not (title or body):
            continue
        link = entry.get("link") or None
        result.posts.append(RawPost(
            source=source, title=title, text=body or title, url=link,
            author=_text(entry.get("author")) or None, published_at=_published(entry),
            raw=str({k: entry.get(k) for k in ("title", "link", "id", "published", "author", "summary")}),
        ))
    return result


def fetch_feed(url: str, source: str, *, etag: str | None = None, last_modified: str | None = None,
               timeout: float = 20.0, user_agent: str = "ecowatch", client: httpx.Client | None = None) -> FeedResult:
    """GET a feed (conditionally, with the remembered validators) and parse it.

    Raises FetchError with a plain-words message on timeouts, HTTP errors, oversized bodies and
    unreadable content.
    """
    headers = {"User-Agent": user_agent, "Accept": "application/rss+xml, application/atom+xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    client = client or httpx.Client(follow_redirects=True, max_redirects=5)
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout) as resp:
            if resp.status_code == 304:
                return FeedResult(not_modified=True, etag=etag, last_modified=last_modified)
            if resp.status_code >= 400:
                raise FetchError(f"HTTP {resp.status_code} from {url}")
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError(f"feed larger than {MAX_BYTES // 1024 // 1024} MB: {url}")
                chunks.append(chunk)
            charset = resp.charset_encoding
            new_etag, new_lm = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {timeout:g}s: {url}") from exc
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"redirect loop: {url}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc} ({url})") from exc
    finally:
        if own:
            client.close()
    result = parse_feed(b"".join(chunks), source, charset)
    result.etag, result.last_modified = new_etag, new_lm
    return result
