"""Dotted paths into decoded JSON (``data.list``, ``reply.0.content``), for rules kept as data."""

from __future__ import annotations

from typing import Any


def get_path(data: Any, path: str | None, default: Any = None) -> Any:
    """The value at ``path`` (dot-separated keys; integers index lists), or ``default``."""
    if not path:
        return default
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return default
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit():
            idx = int(part)
            if not -len(cur) <= idx < len(cur):
                return default
            cur = cur[idx]
        else:
            return default
    return cur
