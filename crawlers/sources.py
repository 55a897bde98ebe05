"""The sources a district watches, as data (``sources.toml``), and their validation."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from core.errors import ConfigError
from core.source_health import KEYWORD_SEP  # "微博搜索 | 江北 污染": health per source AND keyword
from crawlers.addresses import SCHEMES

KINDS = ("rss", "site", "board", "weibo", "tieba")
SPIDER_KINDS = ("site", "board", "weibo", "tieba")  # crawled by Scrapy in a subprocess


@dataclass(frozen=True, slots=True)
class Source:
    """One watched source.

    ``kind`` rss: ``url`` is a feed. ``kind`` site: ``url`` is a list page, crawled list → detail
    by the generic Scrapy spider with the selectors in ``rules`` (main-text extraction where none).
    ``kind`` board: ``url`` is a message board's JSON list API. ``kind`` weibo / tieba: ``url`` is
    a search URL template with ``{keyword}``; a ``keywords`` list makes one source per keyword.

    ``allow_private``: the source may be fetched from (and its links and redirects may lead to)
    loopback, private, link-local or reserved addresses; off by default (crawlers.addresses).
    A source on the bureau's own network, or a local fixture site, says so explicitly.
    """

    name: str
    kind: str
    url: str
    every_minutes: int = 15
    expected_every_hours: float = 24.0  # no item for longer than this = "blind"
    enabled: bool = True
    rules: dict[str, Any] = field(default_factory=dict)
    keyword: str | None = None
    group: str | None = None  # the [[source]] name a keyword source was expanded from
    allow_private: bool = False


def _flag(raw: dict[str, Any], key: str) -> bool:
    """A true/false setting; a string such as "false" is refused rather than read as true."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _format(value: str, variables: dict[str, str]) -> str:
    for key, val in variables.items():
        value = value.replace("{" + key + "}", val)
    return value


def load_sources(path: Path, variables: dict[str, str] | None = None) -> list[Source]:
    """Read ``[[source]]`` tables from a TOML file; ``{name}`` placeholders in URLs are filled
    from ``variables`` (the demo uses ``{base}`` for its local address)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"sources file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    out: list[Source] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("source", [])):
        where = f"{path} source #{i + 1}"
        try:
            src = Source(
                name=raw["name"], kind=raw["kind"], url=_format(raw["url"], variables or {}),
                every_minutes=int(raw.get("every_minutes", 15)),
                expected_every_hours=float(raw.get("expected_every_hours", 24)),
                enabled=bool(raw.get("enabled", True)), rules=dict(raw.get("rules", {})),
                allow_private=_flag(raw, "allow_private"),
            )
        except KeyError as exc:
            raise ConfigError(f"{where}: missing {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if src.kind not in KINDS:
            raise ConfigError(f"{where}: kind {src.kind!r} is not one of {', '.join(KINDS)}")
        if urlsplit(src.url).scheme.lower() not in SCHEMES:
            raise ConfigError(f"{where}: url must be an http or https URL, not {src.url!r}")
        keywords = raw.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
            raise ConfigError(f"{where}: keywords must be a list of non-empty strings")
        if "{keyword}" in src.url and not keywords:
            raise ConfigError(f"{where}: url has {{keyword}} but no keywords are listed")
        expanded = [_with_keyword(src, k.strip()) for k in keywords] if keywords else [src]
        for one in expanded:
            if one.name in seen:
                raise ConfigError(f"{where}: duplicate name {one.name!r}")
            seen.add(one.name)
            out.append(one)
    return out


def _with_keyword(src: Source, keyword: str) -> Source:
    """One source per keyword, its URL filled (percent-encoded) and its health kept apart."""
    return Source(name=f"{src.name}{KEYWORD_SEP}{keyword}", kind=src.kind,
                  url=src.url.replace("{keyword}", quote(keyword)), every_minutes=src.every_minutes,
                  expected_every_hours=src.expected_every_hours, enabled=src.enabled, rules=src.rules,
                  keyword=keyword, group=src.name, allow_private=src.allow_private)
