"""Decoding HTML whose declared charset is missing or wrong (``GB2312`` meta on UTF-8 bytes...)."""

from __future__ import annotations

import re

_META = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_\-]+)", re.I)
# GB2312/GBK declarations routinely carry GB18030 bytes; GB18030 is their superset.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def declared_html_charset(body: bytes) -> str | None:
    """The charset named by the page's first ``<meta>`` (lower-case), or None."""
    m = _META.search(body[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def decode_bytes(data: bytes, *charsets: str | None) -> str:
    """Bytes → text: strict UTF-8 (BOM-aware) first, then each named charset in order (GB2312/GBK
    widened to GB18030), then GB18030; never raises (U+FFFD as a last resort). Shared by pages and
    feeds: GBK text is almost never valid UTF-8, while re-saved pages often keep an old GB2312 label."""
    candidates = ["utf-8-sig"]
    for enc in charsets:
        if enc:
            enc = enc.lower()
            candidates.append(_WIDEN.get(enc, enc))
    candidates.append("gb18030")
    for enc in candidates:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """A page's bytes → text: the HTTP charset, then the ``<meta>`` one (see ``decode_bytes``)."""
    return decode_bytes(body, http_charset, declared_html_charset(body))
