"""Decoding feed bytes whose declared charset is missing or wrong (GB2312 that is really GBK...)."""

from __future__ import annotations

import re

from crawlers.parsers.charset import Decoded, decode_detected

_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_\-]+)[\"']", re.I)


def declared_encoding(data: bytes) -> str | None:
    """The encoding named in the XML declaration, lower-case, or None."""
    m = _DECL.match(data[:200])
    return m.group(1).decode("ascii").lower() if m else None


def decode_feed(data: bytes, http_charset: str | None = None, source_charset: str | None = None) -> Decoded:
    """A feed's bytes → text: the source's own ``charset`` rule, the XML declaration's charset,
    then the HTTP one (see ``crawlers.parsers.charset.decode_detected``); never raises."""
    return decode_detected(data, source_charset, declared_encoding(data), http_charset)


def as_utf8_document(text: str) -> bytes:
    """A decoded feed as UTF-8 with its XML declaration fixed, for parsers that trust it."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="utf-8"?>', text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8")
