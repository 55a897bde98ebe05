"""Which incident a new post belongs to: one event, one incident (pure).

An event is told by where it is (the unit, the named place), what it is about (the topic) and,
above all, the words that belong to it and not to every complaint (死鱼, 油污, 喷漆房, a named KTV
or worksite, a landmark). Posts about one event differ in length, register and the names they
use for the spot; two matters in one street and topic share the boilerplate and the street's
name. So the rule scores each candidate incident by the salient words it shares with the post
(weighted by :class:`nlp.salience.Salience`), adds or subtracts for the named place and the
topic, loses a little with every day of silence, and takes the best one above the bar. The
numbers are the pack's ``[grouping]`` table.

A report (a complaint, a news item) joins an open incident, reopens a recently closed one, or
opens a new one. A follow-up (official reply, progress, praise, "still not fixed") only attaches
to an open or recently closed incident: it never opens one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.models import Incident, State

MAX_KEYWORDS = 160  # an incident's salient words (its first posts' first): the grouping centroid
GENERIC_TOPIC = "other"

Weight = Callable[[str], float]


def merge_keywords(old: Sequence[str], new: Sequence[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """An incident's keywords after a post joins: the earlier posts' words first, then new ones."""
    out = list(dict.fromkeys([*old, *new]))
    return out[:limit]


def overlap(words: Iterable[str], incident_words: Iterable[str], weight: Weight) -> tuple[float, float]:
    """Salient overlap of a post with an incident: (weight of the shared words, that weight over
    the smaller side's total weight). The ratio is an overlap coefficient, so a short repost
    wholly inside a long incident counts as fully similar; the absolute weight keeps one shared
    word from deciding."""
    post, other = set(words), set(incident_words)
    shared = sum(weight(w) for w in post & other)
    smaller = min(sum(weight(w) for w in post), sum(weight(w) for w in other))
    return shared, (shared / smaller if smaller > 0 else 0.0)


@dataclass(slots=True, frozen=True)
class Match:
    """The incident a post joins, and why."""

    incident: Incident
    action: str  # "merge" (into an open incident) | "reopen" (a closed one) | "attach" (a follow-up)
    reason: str
    similarity: float


def last_activity(incident: Incident) -> dt.datetime:
    """When the incident last received a post (its opening, if none since)."""
    return incident.last_post_at or incident.opened_at


def _units_compatible(post_unit: str | None, incident_unit: str | None) -> bool:
    """Same unit, or one side not placed yet (a post without a place, an incident in triage)."""
    return post_unit is None or incident_unit is None or post_unit == incident_unit


def same_place(a: str, b: str) -> bool:
    """Two names of one place: equal, or one the other's short form (鲜花港 / 鲜花港社区)."""
    return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))


def score(unit_code: str | None, topic: str, place: str | None, words: Sequence[str], incident: Incident,
          now: dt.datetime, policy: Mapping[str, Any], weight: Weight) -> tuple[float, str] | None:
    """How well a post fits one incident (higher is better) and the reason in Chinese, or None
    when it cannot belong to it (another unit, nothing salient in common)."""
    if not _units_compatible(unit_code, incident.unit_code):
        return None
    shared, ratio = overlap(words, incident.keywords, weight)
    if shared < float(policy.get("min_shared_weight", 8.0)):
        return None
    value, why = ratio, [f"共有要素词权重 {shared:.0f}，重合度 {ratio:.2f}"]
    if place and incident.place:
        if same_place(place, incident.place):
            value += float(policy.get("same_place_bonus", 0.25))
            why.append(f"同地点（{place}）")
        else:
            value -= float(policy.get("other_place_penalty", 0.2))
            why.append(f"地点不同（{place}/{incident.place}）")
    if topic != incident.topic and GENERIC_TOPIC not in (topic, incident.topic):
        value -= float(policy.get("other_topic_penalty", 0.15))
        why.append("主题不同")
    if unit_code is None or incident.unit_code is None:
        value -= float(policy.get("unplaced_penalty", 0.1))
        why.append("一方属地未定")
    idle_days = max((now - last_activity(incident)).total_seconds(), 0.0) / 86400
    value -= float(policy.get("decay_per_day", 0.03)) * idle_days
    return value, "，".join(why)


def find_match(unit_code: str | None, topic: str, place: str | None, words: Sequence[str],
               candidates: Sequence[Incident], now: dt.datetime, policy: Mapping[str, Any],
               weight: Weight, followup: bool = False) -> Match | None:
    """The best incident among ``candidates`` for a post, or None (a report then opens a new
    incident; a follow-up is left alone).

    An open incident must have had a post within ``window_hours`` (``followup_window_days`` for a
    follow-up: an official reply may come a week after the complaint); a closed one must have
    closed within ``reopen_days``. A report joining a closed incident reopens it; a follow-up only
    attaches. Open incidents are preferred to closed ones, then the best score; the score must
    reach ``min_score``.
    """
    window = dt.timedelta(hours=float(policy.get("window_hours", 72)))
    if followup:
        window = max(window, dt.timedelta(days=float(policy.get("followup_window_days", 30))))
    reopen = dt.timedelta(days=float(policy.get("reopen_days", 30)))
    bar = float(policy.get("min_score", 0.35))
    best: tuple[tuple[int, float], Match] | None = None
    for incident in candidates:
        if incident.merged_into is not None:
            continue
        closed = incident.state is State.CLOSED
        if closed:
            closed_at = incident.milestones.get("closed", incident.updated_at)
            if now - closed_at > reopen:
                continue
        elif now - last_activity(incident) > window:
            continue
        fit = score(unit_code, topic, place, words, incident, now, policy, weight)
        if fit is None or fit[0] < bar:
            continue
        action = "attach" if followup else ("reopen" if closed else "merge")
        match = Match(incident, action, fit[1], fit[0])
        key = (0 if closed else 1, fit[0])
        if best is None or key > best[0]:
            best = (key, match)
    return best[1] if best else None
