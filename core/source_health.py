"""Is a source quiet or blind? A pure reading of its recent runs (no I/O; ``now`` is an argument).

Like Huginn's ``expected_update_period``: each source says how often it should yield at least one
item; a source whose last run failed (errors, login expired, HTTP 403/418...) or which has yielded
nothing for longer than that is *blind*, and the reason is given in plain words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

KEYWORD_SEP = " | "  # a keyword source is named "<source> | <keyword>" (see crawlers.sources)
_BLOCK_WORDS = ("login expired", "blocked by the site", "HTTP 403", "HTTP 418", "HTTP 401", "robots.txt")


@dataclass(slots=True)
class SourceHealth:
    """The health of one source (or one keyword of a source)."""

    source: str
    group: str
    keyword: str | None
    runs: int
    last_run_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_item_at: dt.datetime | None
    last_error: str | None
    last_items: int
    items_per_run: float
    expected_every_hours: float
    blind: bool
    blind_reason: str | None


def split_name(name: str) -> tuple[str, str | None]:
    """``"微博搜索 | 江北 污染"`` → (``"微博搜索"``, ``"江北 污染"``)."""
    group, sep, keyword = name.partition(KEYWORD_SEP)
    return (group, keyword) if sep else (name, None)


def assess(name: str, runs: list[dict[str, Any]], expected_every_hours: float, now: dt.datetime) -> SourceHealth:
    """Health from runs (newest first; dicts with finished_at, ok, items, error)."""
    group, keyword = split_name(name)
    last = runs[0] if runs else None
    success = next((r for r in runs if r["ok"]), None)
    with_items = next((r for r in runs if r["ok"] and r["items"]), None)
    reason = None
    if last is None:
        reason = "never collected"
    elif not last["ok"]:
        error = last["error"] or "failed"
        blocked = any(w.lower() in error.lower() for w in _BLOCK_WORDS)
        reason = ("blocked: " if blocked else "last run failed: ") + error
    else:
        since = with_items["finished_at"] if with_items else runs[-1]["started_at"]
        if (now - since).total_seconds() > expected_every_hours * 3600:
            reason = f"no item for more than {expected_every_hours:g} h (expected at least one)"
    return SourceHealth(
        source=name, group=group, keyword=keyword, runs=len(runs),
        last_run_at=last["finished_at"] if last else None,
        last_success_at=success["finished_at"] if success else None,
        last_item_at=with_items["finished_at"] if with_items else None,
        last_error=last["error"] if last else None, last_items=last["items"] if last else 0,
        items_per_run=round(sum(r["items"] for r in runs) / len(runs), 2) if runs else 0.0,
        expected_every_hours=expected_every_hours, blind=reason is not None, blind_reason=reason,
    )
