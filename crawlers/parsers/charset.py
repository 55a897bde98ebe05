"""Decoding HTML whose declared charset is missing or wrong (``GB2312`` meta on UTF-8 bytes...).

w3lib (shipped with Scrapy) reads what a page declares (``<meta charset>``, ``http-equiv``, an
XML declaration) and maps labels to the codec browsers really use (GB2312/GBK → GB18030, their
superset; latin-1 → cp1252). What stays ours is the order: strict UTF-8 first, because GBK text
is almost never valid UTF-8 while re-saved pages often keep an old GB2312 label, so a page that
decodes as UTF-8 is UTF-8 whatever it says. w3lib's own ``html_to_unicode`` trusts the label
first, which garbles exactly those pages.
"""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, resolve_encoding


def declared_html_charset(body: bytes) -> str | None:
    """The codec the page's own markup names (w3lib's reading, GB2312/GBK already widened), or None."""
    return html_body_declared_encoding(body)


def decode_bytes(data: bytes, *charsets: str | None) -> str:
    """Bytes → text: strict UTF-8 (BOM-aware) first, then each named charset in order (as w3lib
    resolves it: GB2312/GBK → GB18030), then GB18030; never raises (U+FFFD as a last resort).
    Shared by pages and feeds."""
    candidates = ["utf-8-sig"]
    for label in charsets:
        if label:
            candidates.append(resolve_encoding(label) or label)
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
