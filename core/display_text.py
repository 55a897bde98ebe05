"""Crawled text made inert for display: the invisible characters that change how the text around
them is shown are removed.

A post's title with U+202E (RIGHT-TO-LEFT OVERRIDE) shows reversed: "\u202e告报" reads "报告", so a
hostile post can make a title say the opposite of what it stores, or hide a word between
zero-width spaces. Removed: the bidirectional embeddings, overrides, isolates and marks, zero-width
spaces and invisible operators, the byte-order mark, and control characters other than tab and
line breaks. Kept: ZWNJ and ZWJ (U+200C, U+200D), which join emoji and letters without reordering.

The stored text is never changed (evidence offsets index it); every place that shows crawled text
asks here: the briefing's HTML (``briefing.render_html``) and DOCX (``briefing.render_docx``). The
console, which renders in the browser, strips the same characters (``dashboard_api/static/index.html``, ``shown``).
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u206f\ufeff]")


def displayable(text: str) -> str:
    """``text`` without the characters that reorder or hide what is shown around them."""
    return INVISIBLE.sub("", text)
