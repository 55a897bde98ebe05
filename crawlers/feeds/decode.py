"""Decoding feed bytes whose declared charset is missing or wrong (GB2312 that is really GBK...)."""

from __future__ import annotations

import re

_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_\-]+)[\"']", re.I)
# GB2312 and GBK declarations routinely carry GB18030 bytes; GB18030 is their superset.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def declared_encoding(data: bytes) -> str | None:
    """The encoding named in the XML declaration, lower-case, or None."""
    m = _DECL.match(data[:200])
    return m.group(1).decode("ascii").lower() if m else None


def decode_feed(data: bytes, http_charset: str | None = None) -> str:
    """Bytes → text, trying UTF-8 (BOM-aware), then the declared and HTTP charsets (widened),
    then GB18030; never raises (undecodable bytes become U+FFFD as a last resort)."""
    candidates = ["utf-8-sig"]
    for enc in (declared_encoding(data), (http_charset or "").lower() or None):
        if enc:
            candidates.append(_WIDEN.get(enc, enc))
    candidates.append("gb18030")
    for enc in candidates:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def as_utf8_document(data: bytes, http_charset: str | None = None) -> bytes:
    """Re-encode a feed as UTF-8 with its XML declaration fixed, for parsers that trust it."""
    text = decode_feed(data, http_charset)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    return text.encode("utf-8")
