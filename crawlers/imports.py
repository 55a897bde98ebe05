"""``ecowatch import FILE``: posts from files exported by other collectors.

Formats: JSON Lines (ecowatch's own contract: ``url``, ``title``, ``text``, ``author``,
``published_at``, ``source``, ``reposts``/``comments``/``likes``/``followers``), a JSON array, and
CSV (UTF-8, with or without BOM, or GB18030 as Excel saves it). Field names of MediaCrawler's
Weibo, Tieba and Douyin exports (``note_id``, ``content``, ``nickname``, ``liked_count``,
``comments_count``, ``shared_count``, ``create_time``, ``note_url``, ``aweme_url``...) are
mapped onto ours; the first name present wins.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import RawPost
from core.timeutil import parse_time
from crawlers.dates import find_date
from crawlers.parsers.counts import parse_count

ENGAGEMENT = ("reposts", "comments", "likes", "followers")

# Our field → the names other collectors use for it, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "note_url", "aweme_url", "video_url", "link"),
    "title": ("title",),
    "text": ("text", "content", "desc", "note_content"),
    "author": ("author", "nickname", "user_nickname", "user_name", "screen_name"),
    "published_at": ("published_at", "create_date_time", "publish_time", "create_time", "time", "created_at"),
    "source": ("source",),
    "reposts": ("reposts", "shared_count", "share_count", "reposts_count"),
    "comments": ("comments", "comments_count", "comment_count", "total_replay_num"),
    "likes": ("likes", "liked_count", "attitudes_count", "digg_count"),
    "followers": ("followers", "fans", "followers_count"),
    # The post this one answers (a comment's or reply's thread), as a URL.
    "reply_to": ("reply_to", "in_reply_to", "parent_url", "thread_url"),
}
# What a MediaCrawler row says about where it came from (its files carry no "source" column).
_PLATFORM_HINTS = (("aweme_id", "douyin"), ("tieba_name", "tieba"), ("note_id", "weibo"))


@dataclass(slots=True)
class ImportErrorLine:
    """A line (or CSV row, or array element) that could not be imported, and why."""

    line: int
    error: str


@dataclass(slots=True)
class ParsedFile:
    """Posts read from a file and the lines refused."""

    posts: list[RawPost] = field(default_factory=list)
    errors: list[ImportErrorLine] = field(default_factory=list)


def _first(obj: dict[str, Any], key: str) -> Any:
    for name in ALIASES[key]:
        value = obj.get(name)
        if value not in (None, ""):
            return value
    return None


def parse_when(value: Any) -> dt.datetime | None:
    """A publish time: ISO text, Chinese date text, or a Unix timestamp in seconds or
    milliseconds (MediaCrawler's ``create_time``); local times are Asia/Shanghai."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit() and len(text) >= 9:
        seconds = int(text) / (1000 if len(text) >= 13 else 1)
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    return parse_time(text) or find_date(text)


def _source(obj: dict[str, Any], default_source: str) -> str:
    if obj.get("source"):
        return str(obj["source"])
    for key, platform in _PLATFORM_HINTS:
        if obj.get(key):
            keyword = obj.get("source_keyword")
            return f"mediacrawler:{platform}" + (f":{keyword}" if keyword else "")
    return default_source


def to_post(obj: dict[str, Any], default_source: str) -> RawPost:
    """One record (our names or another collector's) → a raw post; ValueError when it has no text."""
    text = str(_first(obj, "text") or "").strip()
    title = str(_first(obj, "title") or "").strip()
    if not (text or title):
        raise ValueError("no text")
    counts = {}
    for key in ENGAGEMENT:
        n = parse_count(_first(obj, key))
        if n is not None:
            counts[key] = n
    return RawPost(
        source=_source(obj, default_source), title=title if title != text else "", text=text or title,
        url=str(_first(obj, "url") or "") or None, author=str(_first(obj, "author") or "") or None,
        published_at=parse_when(_first(obj, "published_at")), engagement=counts,
        reply_to=str(_first(obj, "reply_to") or "") or None,
    )


def read_jsonl(path: Path) -> ParsedFile:
    """Read posts from JSON Lines; bad lines are reported, not fatal."""
    out = ParsedFile()
    for number, line in _lines(path):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            out.posts.append(to_post(obj, f"import:{path.name}"))
        except (ValueError, TypeError) as exc:
            out.errors.append(ImportErrorLine(number, str(exc)))
    return out


def read_json_array(path: Path) -> ParsedFile:
    """Read posts from a JSON array of objects (MediaCrawler's ``.json`` exports)."""
    out = ParsedFile()
    try:
        data = json.loads(_text(path))
    except ValueError as exc:
        out.errors.append(ImportErrorLine(1, f"not JSON: {exc}"))
        return out
    if not isinstance(data, list):
        out.errors.append(ImportErrorLine(1, "a JSON file must hold an array of objects"))
        return out
    for number, obj in enumerate(data, 1):
        try:
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            out.posts.append(to_post(obj, f"import:{path.name}"))
        except (ValueError, TypeError) as exc:
            out.errors.append(ImportErrorLine(number, str(exc)))
    return out


def read_csv(path: Path) -> ParsedFile:
    """Read posts from CSV with a header row; row numbers in errors count the header as line 1."""
    out = ParsedFile()
    reader = csv.DictReader(io.StringIO(_text(path)))
    for number, row in enumerate(reader, 2):
        try:
            out.posts.append(to_post({k.strip(): v for k, v in row.items() if k}, f"import:{path.name}"))
        except (ValueError, TypeError) as exc:
            out.errors.append(ImportErrorLine(number, str(exc)))
    return out


def read_file(path: Path) -> ParsedFile:
    """Read any supported export, by extension (.csv, .json) or content (JSON Lines otherwise)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".json" or _text(path).lstrip().startswith("["):
        return read_json_array(path)
    return read_jsonl(path)


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")  # CSV saved by a Chinese Excel


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(_text(path).splitlines(), 1):
        if line.strip():
            yield number, line
