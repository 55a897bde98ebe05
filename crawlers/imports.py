"""``ecowatch import FILE``: posts from JSON Lines exported by other collectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.models import RawPost
from core.timeutil import parse_time

ENGAGEMENT = ("reposts", "comments", "likes", "followers")


@dataclass(slots=True)
class ImportErrorLine:
    """A line that could not be imported, and why."""

    line: int
    error: str


@dataclass(slots=True)
class ParsedFile:
    """Posts read from a file and the lines refused."""

    posts: list[RawPost] = field(default_factory=list)
    errors: list[ImportErrorLine] = field(default_factory=list)


def _post(obj: dict, default_source: str) -> RawPost:
    text = str(obj.get("text") or obj.get("content") or "").strip()
    title = str(obj.get("title") or "").strip()
    if not (text or title):
        raise ValueError("no text")
    published = obj.get("published_at")
    return RawPost(
        source=str(obj.get("source") or default_source), title=title, text=text or title,
        url=obj.get("url") or None, author=obj.get("author") or None,
        published_at=parse_time(str(published)) if published else None,
        engagement={k: int(obj[k]) for k in ENGAGEMENT if str(obj.get(k, "")).strip().isdigit()},
    )


def read_jsonl(path: Path) -> ParsedFile:
    """Read posts from JSON Lines (``url``, ``title``, ``text``, ``author``, ``published_at``,
    ``source``, optional ``reposts``/``comments``/``likes``/``followers``); bad lines are reported,
    not fatal."""
    out = ParsedFile()
    for number, line in _lines(path):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            out.posts.append(_post(obj, f"import:{path.name}"))
        except (ValueError, TypeError) as exc:
            out.errors.append(ImportErrorLine(number, str(exc)))
    return out


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line
