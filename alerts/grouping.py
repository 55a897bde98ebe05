"""Which incident a new post belongs to: same unit, topic, place, time window, similar text (pure).

Repeat complaints about one matter merge (并单) instead of opening a new incident each; a post
about a matter closed recently reopens it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.models import Incident, State

MAX_KEYWORDS = 64
_NOISE = re.compile(r"^[\W\d_]+$")


def keywords(tokens: Iterable[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """The distinct content tokens of a text (two characters or more, not numbers or punctuation),
    in order of appearance, at most ``limit``: what the similarity check compares."""
    out: list[str] = []
    seen: set[str] = set()
    for token in tokens:
        token = token.strip().lower()
        if len(token) < 2 or _NOISE.match(token) or token in seen:
            continue
        seen.add(token)
        out.append(token)
        if len(out) >= limit:
            break
    return out


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Token-set Jaccard similarity, 0..1 (0 when either is empty)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def merge_keywords(old: Sequence[str], new: Sequence[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """An incident's keywords after a post joins: the first post's words first, then new ones."""
    return keywords([*old, *new], limit)


@dataclass(slots=True, frozen=True)
class Match:
    """The incident a post joins, and why."""

    incident: Incident
    action: str  # "merge" (into an open incident) | "reopen" (a closed one)
    reason: str
    similarity: float


def last_activity(incident: Incident) -> dt.datetime:
    """When the incident last received a post (its opening, if none since)."""
    return incident.last_post_at or incident.opened_at


def find_match(unit_code: str | None, topic: str, place: str | None, words: Sequence[str],
               candidates: Sequence[Incident], now: dt.datetime, policy: Mapping[str, Any]) -> Match | None:
    """The best incident among ``candidates`` for a post, or None to open a new one.

    Rules: same unit (or both in triage) and same topic; two different named places never merge;
    an open incident must have had a post within ``window_hours``; a closed one must have closed
    within ``reopen_days``. The same named place is enough (``same_place_similarity``, default 0);
    otherwise the texts must share at least ``min_similarity`` of their words. Open incidents are
    preferred to closed ones, then the most similar.
    """
    window = dt.timedelta(hours=float(policy.get("window_hours", 72)))
    reopen = dt.timedelta(days=float(policy.get("reopen_days", 30)))
    min_sim = float(policy.get("min_similarity", 0.18))
    place_sim = float(policy.get("same_place_similarity", 0.0))
    best: tuple[tuple[int, float], Match] | None = None
    for incident in candidates:
        if incident.unit_code != unit_code or incident.topic != topic or incident.merged_into is not None:
            continue
        if incident.place and place and incident.place != place:
            continue
        closed = incident.state is State.CLOSED
        if closed:
            closed_at = incident.milestones.get("closed", incident.updated_at)
            if now - closed_at > reopen:
                continue
        elif now - last_activity(incident) > window:
            continue
        sim = jaccard(words, incident.keywords)
        same_place = bool(incident.place and place and incident.place == place)
        if same_place and sim >= place_sim:
            reason = f"同属地、同主题、同地点（{place}），文本相似度 {sim:.2f}"
        elif sim >= min_sim:
            reason = f"同属地、同主题，文本相似度 {sim:.2f} ≥ {min_sim:g}"
        else:
            continue
        key = (0 if closed else 1, sim)
        match = Match(incident, "reopen" if closed else "merge", reason, sim)
        if best is None or key > best[0]:
            best = (key, match)
    return best[1] if best else None
