"""Decoding pages and feeds whose declared charset is missing or wrong (``GB2312`` meta on UTF-8
bytes, no declaration at all...).

w3lib (shipped with Scrapy) reads what a page declares (``<meta charset>``, ``http-equiv``, an
XML declaration) and maps labels to the codec browsers really use (GB2312/GBK → GB18030, their
superset; latin-1 → cp1252). What stays ours is the order:

1. a byte-order mark (UTF-8, UTF-16 or UTF-32), or UTF-16/32 ``<?xml`` without one;
2. strict UTF-8, because GBK text is almost never valid UTF-8 while re-saved pages often keep an
   old GB2312 label, so a page that decodes as UTF-8 is UTF-8 whatever it says (w3lib's own
   ``html_to_unicode`` trusts the label first, which garbles exactly those pages);
3. each declared charset, in the caller's order;
4. nothing declared: a real detector (charset-normalizer). GB18030 decodes almost any byte
   soup without error — EUC-KR, EUC-JP, Shift-JIS and Big5 come out as plausible wrong Chinese —
   so "it decodes" is no evidence. GB18030 is kept when the detector ranks it first or level;
   another encoding it is sure of (low chaos) is used; otherwise the result is marked not
   confident, and callers must not store it as good text.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE starts like UTF-16 LE
# XML 1.0 appendix F: "<?" in UTF-16/32 without a byte-order mark.
_XML_STARTS = ((b"<\0\0\0?\0\0\0", "utf-32-le"), (b"\0\0\0<\0\0\0?", "utf-32-be"), (b"<\0?\0", "utf-16-le"),
               (b"\0<\0?", "utf-16-be"))
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz"}
MAX_CHAOS = 0.1  # charset-normalizer's "mess" ratio above which a detection is not trusted
_SAMPLE = 512 * 1024  # the detector reads at most this much (it samples anyway)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text, the codec that gave it, and whether it can be trusted as the author's text."""

    text: str
    encoding: str
    confident: bool = True
    detected: bool = False  # chosen by the detector (nothing declared and not UTF-8)


def declared_html_charset(body: bytes) -> str | None:
    """The codec the page's own markup names (w3lib's reading, GB2312/GBK already widened), or None."""
    return html_body_declared_encoding(body)


def _unicode_signature(data: bytes) -> str | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    for start, enc in _XML_STARTS:
        if data.startswith(start):
            return enc
    return None


def _detect(data: bytes) -> Decoded:
    matches = charset_normalizer.from_bytes(data[:_SAMPLE])
    best = matches.best()
    if best is not None:
        gb = next((m for m in matches if m.encoding in _GB_FAMILY and m.chaos <= best.chaos), None)
        chosen = "gb18030" if gb is not None or best.encoding in _GB_FAMILY else best.encoding
        try:
            return Decoded(data.decode(chosen), chosen, best.chaos <= MAX_CHAOS, detected=True)
        except (UnicodeDecodeError, LookupError):  # the sample decoded, the rest does not
            pass
    return Decoded(data.decode("gb18030", errors="replace"), "gb18030", confident=False, detected=True)


def decode_detected(data: bytes, *charsets: str | None) -> Decoded:
    """Bytes → text in the order of the module docstring; never raises. ``charsets`` are the
    declared ones (a source's own ``charset`` rule, HTTP, the document's), most trusted first."""
    signature = _unicode_signature(data)
    candidates = [signature] if signature else []
    candidates.append("utf-8")
    candidates += [resolve_encoding(label) or label for label in charsets if label]
    for enc in candidates:
        try:
            return Decoded(data.decode(enc), enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return _detect(data)


def decode_page(body: bytes, http_charset: str | None = None) -> Decoded:
    """A page's bytes → text: the HTTP charset, then the ``<meta>`` one (see ``decode_detected``)."""
    return decode_detected(body, http_charset, declared_html_charset(body))


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """``decode_page``'s text, sure or not."""
    return decode_page(body, http_charset).text
