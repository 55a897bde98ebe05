"""Repost furniture: what a repost adds around the story it passes on ("转发微博", "//@某人:", URLs,
hashtag marks). The incident title is the story, not the furniture (alerts.rules).
"""

from __future__ import annotations

import re

_NOISE = re.compile(r"//@[^:：\s]{1,30}[:：]|@[^\s:：,，]{1,30}|https?://\S+|转发微博|#")
_WS = re.compile(r"\s+")


def clean(text: str) -> str:
    """The story text without repost furniture (mentions, URLs, "转发微博", hashtag marks)."""
    return _WS.sub(" ", _NOISE.sub(" ", text)).strip()
