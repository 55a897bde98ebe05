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


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """Bytes → text. Strict UTF-8 first: GBK text is almost never valid UTF-8, while pages
    re-saved as UTF-8 often keep their old GB2312 ``<meta>``; then the HTTP and declared charsets
    (widened), then GB18030; never raises."""
    candidates = ["utf-8-sig"]
    for enc in ((http_charset or "").lower() or None, declared_html_charset(body)):
        if enc:
            candidates.append(_WIDEN.get(enc, enc))
    candidates.append("gb18030")
    for enc in candidates:
        try:
            return body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", errors="replace")
