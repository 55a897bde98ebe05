"""Read one RSS/Atom source into raw posts: conditional GET, tolerant decoding, clear errors."""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from core.errors import FetchError
from core.models import RawPost
from crawlers.addresses import SCHEMES, AddressNotAllowed, AddressPolicy, policy_client
from crawlers.dates import find_date
from crawlers.feeds.decode import as_utf8_document, decode_feed
from crawlers.feeds.robots import RobotsRules

MAX_BYTES = 10 * 1024 * 1024  # a feed larger than this is refused, not parsed
MAX_REDIRECTS = 5
_TAGS = re.compile(r"<[^>]+>")


@dataclass(slots=True)
class FeedResult:
    """Outcome of reading one feed."""

    posts: list[RawPost] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    warning: str | None = None  # parsed, but something is worth saying (not well formed, charset guessed)


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """How to fetch one feed: the source's allowances and the run's politeness settings."""

    timeout: float = 20.0
    user_agent: str = "ecowatch"
    allow_private: bool = False  # the source's own address may be private (crawlers.addresses)
    charset: str | None = None  # the source's own charset rule, trusted before any declaration


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


def _link(entry: feedparser.FeedParserDict, base: str | None) -> str | None:
    """The item's absolute http(s) link: feedparser resolves ``xml:base`` and the document's base
    (the feed URL / Content-Location); whatever stays relative is joined here; ``javascript:``
    and other schemes are dropped."""
    link = (entry.get("link") or "").strip()
    if not link:
        return None
    link = urljoin(base, link) if base else link
    return link if urlsplit(link).scheme.lower() in SCHEMES else None


def _warn(result: FeedResult, message: str) -> None:
    result.warning = f"{result.warning}; {message}" if result.warning else message


def parse_feed(data: bytes, source: str, http_charset: str | None = None, base_url: str | None = None,
               source_charset: str | None = None) -> FeedResult:
    """Parse feed bytes into posts; relative links are resolved against ``base_url`` (the feed's
    address, or its Content-Location). Raises FetchError, saying what was read, when nothing
    usable is in them or their encoding cannot be told."""
    decoded = decode_feed(data, http_charset, source_charset)
    # Re-encoded as UTF-8, so that is the honest content type; the base resolves relative links.
    headers = {"content-type": "application/xml; charset=utf-8", **({"content-location": base_url} if base_url else {})}
    parsed = feedparser.parse(as_utf8_document(decoded.text), response_headers=headers)
    result = FeedResult()
    if parsed.bozo and not parsed.entries:
        raise FetchError(f"not a readable feed (invalid XML, no item): {parsed.get('bozo_exception')!s:.200}")
    if not parsed.entries and not parsed.get("version"):
        raise FetchError("not a feed: no RSS or Atom channel in the answer")
    if not decoded.confident:  # items, but their text would be a guess: not stored as good
        raise FetchError(f"could not tell the feed's character encoding (none declared, not UTF-8; best guess "
                         f"{decoded.encoding}): set charset = \"...\" in the source's rules")
    if parsed.bozo:
        _warn(result, f"invalid XML (read as far as it goes): {parsed.get('bozo_exception')!s:.200}")
    if decoded.detected:
        _warn(result, f"no charset declared; read as {decoded.encoding} (detected)")
    link_only = empty = 0
    for entry in parsed.entries:
        title = _text(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = _text(entry.content[0].get("value"))
        body = body or _text(entry.get("summary") or entry.get("description"))
        if not (title or body):
            link_only += bool(entry.get("link"))
            empty += not entry.get("link")
            continue
        result.posts.append(RawPost(
            source=source, title=title, text=body or title, url=_link(entry, base_url),
            author=_text(entry.get("author")) or None, published_at=_published(entry),
            raw=str({k: entry.get(k) for k in ("title", "link", "id", "published", "author", "summary")}),
        ))
    if link_only or empty:
        read = len(parsed.entries)
        why = [f"{link_only} had only a link (no title, no text)"] if link_only else []
        why += [f"{empty} had no title and no text"] if empty else []
        message = f"read {read} item{'s' * (read != 1)}, kept {len(result.posts)}: {', '.join(why)}"
        if not result.posts:
            raise FetchError(message + (f"; {result.warning}" if result.warning else ""))
        _warn(result, message)
    return result


def fetch_feed(url: str, source: str, *, etag: str | None = None, last_modified: str | None = None,
               request: FeedRequest | None = None) -> FeedResult:
    """GET a feed (conditionally, with the remembered validators), if its robots.txt and the
    address policy allow it, and parse it.

    Redirects are followed one by one so each hop is checked like the first (address policy,
    robots.txt). Raises FetchError with a plain-words message on refusals, timeouts, HTTP errors,
    redirect loops, oversized or empty bodies and unreadable content.
    """
    req = request or FeedRequest()
    headers = {"User-Agent": req.user_agent, "Accept": "application/rss+xml, application/atom+xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    first = url
    policy = AddressPolicy.for_source(url, req.allow_private)
    try:
        with policy_client(policy, MAX_REDIRECTS) as client:
            robots = RobotsRules(client, req.user_agent, req.timeout)
            for _hop in range(MAX_REDIRECTS + 1):
                policy.check_url(url)
                if not robots.allows(url):
                    raise FetchError(f"forbidden by robots.txt: {url}")
                with client.stream("GET", url, headers=headers, timeout=req.timeout, follow_redirects=False) as resp:
                    if resp.has_redirect_location:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    return _read(resp, first, source, req, bool(etag or last_modified))
            raise FetchError(f"redirect loop (more than {MAX_REDIRECTS} redirects): {first}")
    except AddressNotAllowed as exc:
        raise FetchError(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {req.timeout:g}s: {url}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc} ({url})") from exc


def _read(resp: httpx.Response, first: str, source: str, req: FeedRequest, conditional: bool) -> FeedResult:
    """One final (non-redirect) answer → FeedResult, or FetchError."""
    url = str(resp.url)
    if resp.status_code == 304:
        if not conditional:  # nothing to fall back on: we hold no copy this answer could refer to
            raise FetchError(f"HTTP 304 Not Modified to an unconditional request: no copy of the feed was "
                             f"ever read ({url})")
        return FeedResult(not_modified=True, etag=resp.request.headers.get("If-None-Match"),
                          last_modified=resp.request.headers.get("If-Modified-Since"))
    if resp.status_code >= 400:
        raise FetchError(f"HTTP {resp.status_code} from {url}")
    chunks, size = [], 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"feed larger than {MAX_BYTES // 1024 // 1024} MB: {url}")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.strip():
        raise FetchError(f"empty answer: HTTP {resp.status_code} with no content from {url}")
    base = urljoin(url, resp.headers.get("Content-Location", ""))
    try:
        result = parse_feed(data, source, resp.charset_encoding, base, req.charset)
    except FetchError as exc:
        raise FetchError(f"{exc} ({first})") from None
    result.etag, result.last_modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
    return result
