"""Counts as social sites print them: ``1234``, ``"1.2万"``, ``"100万+"``, ``"3亿"``, ``"转发"``."""

from __future__ import annotations

import re
from typing import Any

_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(万|w|W|亿|k|K)?\+?\s*$")
_SCALE = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}


def parse_count(value: Any) -> int | None:
    """An engagement or follower count as an int; None when the site shows a label instead of a
    number (Weibo prints "转发" for zero reposts) or the value is missing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    m = _COUNT.match(str(value).replace(",", ""))
    if not m:
        return None
    return round(float(m.group(1)) * _SCALE.get(m.group(2) or "", 1))


def engagement(**counts: Any) -> dict[str, int]:
    """Keep the counts that are readable numbers."""
    out = {}
    for key, value in counts.items():
        n = parse_count(value)
        if n is not None:
            out[key] = n
    return out
