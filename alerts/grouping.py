"""Which incident a new post belongs to: one event, one incident (pure).

An event is told by where it is (the unit, the named place), what it is about (the topic) and,
above all, the words that belong to it and not to every complaint (死鱼, 油污, 喷漆房, a named KTV
or worksite, a landmark). Posts about one event differ in length, register and the names they
use for the spot; two matters in one street and topic share the boilerplate and the street's
name. So the rule compares the post with each candidate incident of its unit and topic family
by the character pairs of the salient words they share (weighted by :class:`nlp.salience.Salience`),
turns that overlap, the named places, an unplaced side and the hours since the incident's last
post into a probability (a logistic model, the pack's ``[grouping.model]``, fitted by
``tools/train_grouping.py``), and takes the most probable incident above ``min_probability``.
A post whose thread is known (``reply_to``) joins its thread's incident instead.

A report (a complaint, a news item) joins an open incident, reopens a recently closed one, or
opens a new one. A follow-up (official reply, progress, praise, "still not fixed") only attaches
to an open or recently closed incident: it never opens one.

An incident closed as 误报 (:func:`dismissed`) is the duty officer's "this is not ours": a post
like it (a report or a follow-up, by its words or its thread) is *absorbed*: recorded with it,
silently, neither reopening it nor opening a new incident. Reopening it, or opening its twin,
would bring the same non-matter back to the desk every hour it is posted about; the officer who
thinks better of it undoes the 误报 and finds the absorbed posts there. It stays within reach for
``reopen_days`` after its dismissal or its last absorbed post, whichever is later, so a
non-matter that keeps being posted about keeps being absorbed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from alerts.followups import ACCIDENT_SIGNALS
from alerts.grading import Reach, combine
from core.actors import SYSTEM
from core.models import AuditEntry, Incident, PostRole, State, Topic
from nlp.salience import CONCEPT, SOURCE

ACCIDENT_CONCEPTS = frozenset(CONCEPT + s for s in ACCIDENT_SIGNALS)  # as they stand in event words
NEW_ACCIDENT = frozenset((CONCEPT + "explosion", CONCEPT + "leak"))  # an accident that is an event of its own
ACCIDENT_HOURS = 12.0  # an unplaced comment on an accident comes within hours of the first reports
MAX_KEYWORDS = 160  # an incident's salient words (its first posts' first): the grouping centroid
GENERIC_TOPIC = Topic.OTHER.value  # a fire or a leak told without a medium: of every topic family

Weight = Callable[[str], float]


def merge_keywords(old: Sequence[str], new: Sequence[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """An incident's keywords after a post joins: the earlier posts' words first, then new ones."""
    out = list(dict.fromkeys([*old, *new]))
    return out[:limit]


def grams(words: Iterable[str], weight: Weight) -> dict[str, float]:
    """The character pairs of a text's salient words, each worth its word's weight (the most, if
    several words have it); concept words stay whole. Why pairs and not words: one spot or one
    cause is written 溉澜溪 / 溉澜溪体育公园, 打桩 / 打桩机, 烟管 / 烟道, 死鱼 / 鲫鱼; their pairs meet
    where the words do not (on the development sets this lifted the same-event overlap at the
    20th percentile from 0.12 to 0.17 and left nine in ten different-event pairs at 0)."""
    out: dict[str, float] = {}
    for word in words:
        value = weight(word)
        if value <= 0:
            continue
        parts = [word] if len(word) <= 2 or not word.isalpha() or word.isascii() else \
            [word[i:i + 2] for i in range(len(word) - 1)]
        for part in parts:
            # A pair that is itself a word of no weight (社区 in 鲜花港社区) is boilerplate too.
            if part is not word and weight(part) <= 0:
                continue
            if value > out.get(part, 0.0):
                out[part] = value
    return out


def probes(post_grams: Mapping[str, float], limit: int = 48) -> list[str]:
    """The post's character pairs to look candidates up by (the ``limit`` weightiest): an incident
    sharing none of them scores nothing (``pair_features`` needs a shared pair), so the store need
    not read it. Beyond ``limit`` (a long letter) the lightest pairs are not searched."""
    return sorted(post_grams, key=lambda k: (-post_grams[k], k))[:limit]


@lru_cache(maxsize=8192)
def _cached_grams(words: tuple[str, ...], weight: Weight) -> dict[str, float]:
    return grams(words, weight)


def words_grams(words: Sequence[str], weight: Weight) -> Mapping[str, float]:
    """:func:`grams`, remembered: the detection pass compares every post with every candidate
    (and looks the candidates up by the post's pairs first), and an incident's keywords change
    only when a report joins it."""
    return _cached_grams(tuple(words), weight)


def overlap(post: Mapping[str, float], incident: Mapping[str, float]) -> tuple[float, float]:
    """Salient overlap of a post's pairs with an incident's (both from :func:`grams`): (the shared
    weight, that weight over the smaller side's total weight). The ratio is an overlap
    coefficient, so a short repost wholly inside a long incident counts as fully similar; the
    absolute weight keeps one shared pair from deciding."""
    shared = sum(min(value, incident[key]) for key, value in post.items() if key in incident)
    smaller = min(sum(post.values()), sum(incident.values()))
    return shared, (shared / smaller if smaller > 0 else 0.0)


@dataclass(slots=True, frozen=True)
class Match:
    """The incident a post joins, and why."""

    incident: Incident
    # "merge" (into an open incident) | "reopen" (a closed one) | "attach" (a follow-up) |
    # "absorb" (into an incident dismissed as 误报: recorded, nothing reopened or opened)
    action: str
    reason: str
    similarity: float
    # Other open incidents of the same unit the post fits as well (``bridge_probability``): one
    # event opened twice (alerts.grouping.find_match); the reason asks the desk to merge them.
    also: tuple[int, ...] = ()


def last_activity(incident: Incident) -> dt.datetime:
    """When the incident last received a post (its opening, if none since)."""
    return incident.last_post_at or incident.opened_at


def dismissed(incident: Incident) -> bool:
    """Whether the incident was closed as 误报 and stays so: ``alerts.corrections.dismiss`` stamps
    ``dismissed`` with its closing time. A reopening pops ``closed``, and a later ordinary close
    stamps a later one, so the stamp no longer matches: that incident reopens as any other."""
    stamp = incident.milestones.get("dismissed")
    return incident.state is State.CLOSED and stamp is not None and incident.milestones.get("closed") == stamp


def _within_reach(incident: Incident, now: dt.datetime, window: dt.timedelta, reopen: dt.timedelta) -> bool:
    """An open incident with a post within ``window``; a closed one closed within ``reopen`` (a
    dismissed one: dismissed, or last absorbing a post, within ``reopen``)."""
    if incident.state is not State.CLOSED:
        return now - last_activity(incident) <= window
    since = incident.milestones.get("closed", incident.updated_at)
    if dismissed(incident):
        since = max(since, last_activity(incident))
    return now - since <= reopen


def answered(incident: Incident) -> bool:
    """Whether the responsible side has answered: a public reply, a response or a resolution.
    Only then is a "still not fixed" post feedback on the answer rather than one more report."""
    return incident.public_reply_at is not None or incident.state in (State.RESPONDED, State.RESOLVED,
                                                                        State.CLOSED)


def answers_an_answer(post: PostFacts) -> bool:
    """Whether the post speaks of an answer already given: "说好的整改呢" (still not fixed), or a
    resident's "今晚居然安静了" (progress, praise). Such a post that names no place was taken by the
    most recent matter of its medium, unanswered, when the answered one it was about was days older
    (dev_a: three of five such follow-ups of two worksites and a KTV went to a third matter)."""
    return post.role is PostRole.UNRESOLVED or (post.role in (PostRole.PROGRESS, PostRole.PRAISE)
                                                and post.tier == "individual")


def _action(incident: Incident, followup: bool) -> str:
    if dismissed(incident):
        return "absorb"
    return "attach" if followup else ("reopen" if incident.state is State.CLOSED else "merge")


def _units_compatible(post_unit: str | None, incident_unit: str | None) -> bool:
    """Same unit, or one side not placed yet (a post without a place, an incident in triage)."""
    return post_unit is None or incident_unit is None or post_unit == incident_unit


def same_place(a: str, b: str) -> bool:
    """Two names of one place: equal, or one the other's short form (鲜花港 / 鲜花港社区)."""
    return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))


@dataclass(slots=True, frozen=True)
class PostFacts:
    """What the grouping rule reads of a post."""

    unit_code: str | None  # the unit it may be assigned to (None: unplaced or not sure)
    topic: str
    place: str | None
    words: Sequence[str]  # salient words and concept words (nlp.salience)
    role: PostRole = PostRole.REPORT
    relevant: bool = True  # False: an environmental post that names no place (may follow up only)
    tier: str = "individual"  # the source's media tier (alerts.grading.source_tier)


# The pair features the model weighs, in order (tools/train_grouping.py fits their weights).
# overlap/log_shared count the event's own words, not the place's: two matters in one street or
# one community share its name, so the name's pairs are weighed apart (log_place_shared). A
# follow-up's time since the incident's last post is weighed apart too (followup_log_hours): a
# reply or a "终于清完了" comes days or weeks later, a second report of the same event hours later.
# same_source/other_source: the kinds of source both sides tell (nlp.salience, "§source:worksite"):
# the same kind, or only other kinds. unit_only: the pair shares no event word, only the unit,
# the topic family and the time (below).
FEATURES = ("overlap", "log_shared", "same_place", "other_place", "unplaced", "log_hours", "followup", "relevant",
            "log_place_shared", "followup_log_hours", "other_topic", "same_source", "other_source", "unit_only",
            "accident_comment")
_REASONS = {"same_place": "同地点", "other_place": "地点不同", "unplaced": "一方属地未定", "followup": "后续回应类",
            "other_topic": "类别不同", "same_source": "同类污染源", "other_source": "污染源不同",
            "unit_only": "同属地、同类别、时间相近", "accident_comment": "事故发生时的评论"}


def is_followup(role: PostRole) -> bool:
    """Whether a post in this role is a follow-up (an official reply, progress, praise), not a
    complaint: it may attach to an incident, never open one."""
    return role not in (PostRole.REPORT, PostRole.UNRESOLVED)


@dataclass(slots=True, frozen=True)
class Accidents:
    """When one accident is told in two media (the pack's ``[grouping]`` ``cross_medium_*``): a
    warehouse fire is black smoke (air) to the estate downwind and, hours later, foam and dead fish
    in the creek below (water) from the firefighting water; an overturned tanker is a diesel smell
    and an oil sheen in the paddy ditch. The officer's event is the accident, whatever the medium
    (round 6's held-out miss, and incidents_dev_e's E-01, E-02, E-09)."""

    topics: frozenset[str] = frozenset()  # the media one accident is told in
    concepts: frozenset[str] = frozenset()  # signals that tell an accident or its visible harm ("§leak")
    hours: float = 0.0  # how soon after the incident's last post the other medium's post comes

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any]) -> Accidents:
        """The pack's ``cross_medium_topics``, ``cross_medium_signals`` and ``cross_medium_hours``."""
        return cls(frozenset(policy.get("cross_medium_topics", ())),
                   frozenset(CONCEPT + s for s in policy.get("cross_medium_signals", ())),
                   float(policy.get("cross_medium_hours", 0.0)))

    def told(self, topic: str, words: Iterable[str]) -> bool:
        """Whether a post (or an incident) of ``topic`` with these event words may be one medium of
        an accident told in another."""
        return topic in self.topics and not self.concepts.isdisjoint(words)

    def links(self, post: PostFacts, incident: Incident, hours: float) -> bool:
        """Whether a post and an incident of two media of ``topics``, of one unit, within
        ``hours``, may be one accident: either side tells an accident or its visible harm. (They
        must still share an event word, and the model weighs them as any pair.)"""
        return (post.topic != incident.topic and post.topic in self.topics and incident.topic in self.topics
                and post.unit_code is not None and post.unit_code == incident.unit_code and hours <= self.hours
                and (self.told(post.topic, post.words) or self.told(incident.topic, incident.keywords)))


NO_ACCIDENTS = Accidents()


def candidate_topic(topic: str, role: PostRole, signals: Iterable[str] = (),
                    accidents: Accidents = NO_ACCIDENTS) -> str:
    """The topic to look candidates up by: the post's for a complaint; every topic ("other") for a
    follow-up, because a reply names the matter as its office files it (a quarry's blasting
    complaint, noise, is answered as a mining-licence matter, ecology) and it opens nothing, so
    a wider look costs no false incident (the model weighs ``other_topic``). An unplaced comment
    keeps to its topic family: one sharing only "娃娃" with a complaint of another medium joined it.
    A complaint telling of an accident or its visible harm (``accidents``, by the post's
    ``signals``) looks at every topic too: the same accident may be open in another medium."""
    if is_followup(role) or accidents.told(topic, (CONCEPT + s for s in signals)):
        return GENERIC_TOPIC
    return topic


def place_pairs(place: str | None) -> frozenset[str]:
    """A place name and its character pairs: the grams a shared place contributes (weighed apart
    from the event's words by :func:`pair_features`)."""
    if not place:
        return frozenset()
    return frozenset([place, *(place[i:i + 2] for i in range(len(place) - 1))])


def topics_compatible(a: str, b: str) -> bool:
    """One event has one topic family: the same topic, or either side "other" (a fire, a leak told
    without a medium). Letting water meet air (a tap-water odour told both ways) gained nothing
    measurable on the development sets (B-cubed F1 0.885/0.953 either way) and tripled the
    candidates each post is compared with (bench/alerts.py), so the store filters by it."""
    return a == b or GENERIC_TOPIC in (a, b)


def source_kinds(words: Iterable[str]) -> frozenset[str]:
    """The kinds of source among a post's or an incident's event words (``§source:…``)."""
    return frozenset(w for w in words if w.startswith(SOURCE))


def pair_features(post: PostFacts, post_grams: Mapping[str, float], incident: Incident, now: dt.datetime,
                  weight: Weight, unit_hours: float = 24.0,
                  accidents: Accidents = NO_ACCIDENTS) -> dict[str, float] | None:
    """The features of a (post, incident) pair, or None when they cannot be one event (another
    unit; another topic family, except for a follow-up; no event word in common, except for a
    follow-up or a "still not fixed" at the incident's named place, or a post of the incident's
    own unit and topic family, with a post in the last ``unit_hours`` (the pack's
    ``unit_window_hours``), that tells no other kind of source). Two media of one accident
    (``accidents``: a fire's smoke and its firefighting water in the creek) count as one topic
    family when they share an event word.

    Why the last: an officer takes a complaint about the unit's matter of that medium of today
    to be that matter unless it says otherwise (another source, another place): residents of one
    event name it by their own estate, the children's illness or the factory, and share no word
    (round 5's held-out recall 0.59-0.75). The model weighs such a pair (``unit_only``) by the
    hours since the incident's last post and the places named.
    Shared with the training tool, so both see the same."""
    followup = is_followup(post.role)
    if not _units_compatible(post.unit_code, incident.unit_code):
        return None
    hours = max((now - last_activity(incident)).total_seconds(), 0.0) / 3600
    cross = accidents.links(post, incident, hours)
    compatible = topics_compatible(post.topic, incident.topic) or cross
    # The incident's places are every place its reports named (their event words keep the names),
    # not only its first post's: one event is told from several estates, and a later post naming
    # the second estate is at the incident's place, not at another (round 8, dev_d D-08).
    named_before = bool(post.place) and post.place in incident.keywords
    places = bool(post.place and (incident.place or named_before))
    same = places and (named_before or same_place(str(post.place), str(incident.place)))
    post_kinds, incident_kinds = source_kinds(post.words), source_kinds(incident.keywords)
    same_kind = bool(post_kinds & incident_kinds)
    other_kind = bool(post_kinds and incident_kinds and not same_kind)
    own_unit = post.unit_code is not None and post.unit_code == incident.unit_code
    if not (compatible or followup):
        return None
    # A report naming where a fire, an explosion or a leak is is a new event: it does not join a
    # matter there that told of none and has been quiet for longer than an accident's first hours
    # (incidents_dev_j: a works' fire at 港城工业园 joined 港城's four-day-old sewage-plant odour).
    # Not a comment naming no place: "今晚又是一样的，烟子大得像起火了" is the barbecue's again.
    if (not followup and post.place is not None and hours > ACCIDENT_HOURS
            and not NEW_ACCIDENT.isdisjoint(post.words) and NEW_ACCIDENT.isdisjoint(incident.keywords)):
        return None
    at_place = place_pairs(post.place) | place_pairs(incident.place)
    # The kind of source is weighed apart (same_source), as the place's name is: two restaurants
    # in one street share it and are two matters.
    own = {k: v for k, v in post_grams.items() if k not in at_place and not k.startswith(SOURCE)}
    shared, ratio = overlap(own, words_grams(incident.keywords, weight))
    place_shared = overlap({k: v for k, v in post_grams.items() if k in at_place}, words_grams(incident.keywords,
                                                                                               weight))[0]
    # Two media of one accident, or a follow-up of another topic family (a reply filing a quarry's
    # blasting as a licence matter), must share an event word: a reply of its unit that shares
    # none ("关于网民反映林地被毁问题的回复", placed by its account) took the unit's odour incident
    # by their kind of source alone (incidents_dev_h).
    if (cross or not compatible) and shared <= 0:
        return None
    unit_only = shared <= 0 and own_unit and compatible and not other_kind and hours <= unit_hours
    # A comment naming no place that tells of people hurt or a leak ("我老公在那个厂上班，说有几个
    # 工人被抬出来送医院了"), within hours of an incident that tells of an accident, is about it:
    # it shares no word with the first reports, and joins only (it is not relevant on its own).
    accident_comment = (shared <= 0 and post.place is None and post.unit_code is None and hours <= ACCIDENT_HOURS
                        and not ACCIDENT_CONCEPTS.isdisjoint(post.words)
                        and not ACCIDENT_CONCEPTS.isdisjoint(incident.keywords))
    # One street's name is not one event; the same kind of source in the same unit may be (weighed).
    # A follow-up, or a "still not fixed" (限期整改都过了，华山村沟沟头的水还是黑的), at the incident's
    # named place is about it even in other words.
    points_back = followup or post.role is PostRole.UNRESOLVED
    if shared <= 0 and not ((points_back and same) or unit_only or accident_comment or (same_kind and own_unit)):
        return None
    return {"overlap": ratio, "log_shared": math.log1p(shared), "same_place": float(same),
            "other_place": float(places and not same),
            "unplaced": float(post.unit_code is None or incident.unit_code is None), "log_hours": math.log1p(hours),
            "followup": float(followup), "relevant": float(post.relevant),
            "log_place_shared": math.log1p(place_shared), "followup_log_hours": float(followup) * math.log1p(hours),
            "other_topic": float(not compatible), "same_source": float(same_kind), "other_source": float(other_kind),
            "unit_only": float(unit_only), "accident_comment": float(accident_comment)}


def probability(features: Mapping[str, float], model: Mapping[str, Any]) -> float:
    """The model's probability that the pair is one event (logistic: intercept + Σ weight ×
    feature; the pack's ``[grouping.model]``)."""
    z = float(model.get("intercept", 0.0)) + sum(float(model.get(k, 0.0)) * v for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def _reason(features: Mapping[str, float], p: float) -> str:
    why = [f"同一事件概率 {p:.2f}（要素重合度 {features['overlap']:.2f}）"]
    why += [label for key, label in _REASONS.items() if features.get(key)]
    return "，".join(why)


def lookback(policy: Mapping[str, Any], role: PostRole) -> tuple[dt.timedelta, dt.timedelta]:
    """How far back a post in ``role`` looks: (since the last post of an open incident, since the
    closing of a closed one). A report looks ``window_hours`` back; anything else (an official
    reply, progress, feedback, "still not fixed") ``followup_window_days``."""
    window = dt.timedelta(hours=float(policy.get("window_hours", 72)))
    if role is not PostRole.REPORT:
        window = max(window, dt.timedelta(days=float(policy.get("followup_window_days", 30))))
    return window, dt.timedelta(days=float(policy.get("reopen_days", 30)))


def thread_match(incident: Incident, role: PostRole, now: dt.datetime, policy: Mapping[str, Any]) -> Match | None:
    """A reply joins the incident of the post it answers (its thread), whatever its words, while
    that incident is within reach: open with a post in the follow-up window, or closed within
    ``reopen_days``. A complaint reopens a closed one; anything else attaches; an incident
    dismissed as 误报 absorbs either (see the module's docstring)."""
    return _reachable(incident, role, now, policy, f"跟帖于 #{incident.id} 所在话题（同一话题下的回复/评论）")


def own_match(incident: Incident, role: PostRole, now: dt.datetime, policy: Mapping[str, Any]) -> Match | None:
    """A resident's follow-up joins the incident of its writer's latest post
    (``alerts.followups.writes_back``), as a reply joins its thread's, while that incident is
    within reach: a "still not fixed" reopens a closed one; praise and progress attach."""
    return _reachable(incident, role, now, policy, f"{_REASONS['followup']}：发帖人此前反映的事件 #{incident.id}")


def _reachable(incident: Incident, role: PostRole, now: dt.datetime, policy: Mapping[str, Any],
               why: str) -> Match | None:
    """The match of a post with the one incident its context names (its thread, its writer's
    matter), or None when that incident is merged away or out of reach (a thread stays open as
    long as follow-ups do)."""
    if incident.merged_into is not None:
        return None
    window, reopen = lookback(policy, PostRole.OFFICIAL)
    if not _within_reach(incident, now, window, reopen):
        return None
    return Match(incident, _action(incident, is_followup(role)), why, 1.0)


def find_match(post: PostFacts, candidates: Sequence[Incident], now: dt.datetime, policy: Mapping[str, Any],
               weight: Weight) -> Match | None:
    """The best incident among ``candidates`` for a post, or None (a report then opens a new
    incident; a follow-up is left alone).

    An open incident must have had a post within ``window_hours`` (``followup_window_days`` for
    any role but a report: an official reply, or "still not fixed", may come weeks after the
    complaint); a closed one must have closed within ``reopen_days``. A complaint (a report, or
    "still not fixed") joining a closed incident reopens it; a reply, progress or praise only
    attaches; an incident dismissed as 误报 absorbs it (module docstring). Open incidents are
    preferred to closed ones, then the most probable; the
    probability (:func:`probability` of :func:`pair_features`) must reach ``min_probability``.
    """
    followup = is_followup(post.role)
    window, reopen = lookback(policy, post.role)
    # A follow-up opens nothing, so the only cost of a lower bar is a reply shown on the wrong
    # incident of the same unit; the cost of a higher one is the reply lost. "Still not fixed"
    # ("说好的整改呢") points back at an answered matter days later, as a reply does.
    # But an outlet's or an office's own news (a campaign, a quarterly bulletin, an 环评 notice)
    # is progress or praise by its tone and about no complaint: it must match as well as a report.
    lenient = post.role in (PostRole.OFFICIAL, PostRole.UNRESOLVED) or (followup and post.tier == "individual")
    bar = float(policy.get("followup_min_probability" if lenient else "min_probability", 0.5))
    model = policy.get("model", {})
    unit_hours = float(policy.get("unit_window_hours", 24))
    accidents = Accidents.from_policy(policy)
    # Among the matches a report would take (min_probability), an answered incident first.
    prefer_answered, strong = answers_an_answer(post), float(policy.get("min_probability", 0.5))
    best: tuple[tuple[int, int, float], Match] | None = None
    fits: list[tuple[Incident, float]] = []  # every open candidate at or above the bar
    post_grams = words_grams(post.words, weight)
    for incident in candidates:
        if incident.merged_into is not None:
            continue
        if not _within_reach(incident, now, window, reopen):
            continue
        closed = incident.state is State.CLOSED
        features = pair_features(post, post_grams, incident, now, weight, unit_hours, accidents)
        if features is None:
            continue
        p = probability(features, model)
        if p < bar:
            continue
        if not closed:
            fits.append((incident, p))
        match = Match(incident, _action(incident, followup), _reason(features, p), p)
        key = (int(prefer_answered and p >= strong and answered(incident)), 0 if closed else 1, p)
        if best is None or key > best[0]:
            best = (key, match)
    return _with_bridges(best[1], fits, float(policy.get("bridge_probability", 1.1))) if best else None


def speaks_for_its_unit(post: PostFacts) -> bool:
    """Whether a post answers for its unit: an official reply, or an official account's or an
    outlet's progress, placed in a unit (by its words or by the account, ``alerts.followups.author_unit``)."""
    return post.unit_code is not None and (post.role is PostRole.OFFICIAL
                                           or (post.role is PostRole.PROGRESS and post.tier != "individual"))


def unit_reply_match(post: PostFacts, candidates: Sequence[Incident], now: dt.datetime,
                     policy: Mapping[str, Any]) -> Match | None:
    """The incident a reply naming only its unit answers: the one open (or recently closed)
    incident of that unit and topic, within the follow-up window, that nobody has answered
    yet; None when there is none or more than one (then it is not this rule's to guess).

    Why: a street's reply often restates none of the complaint's words ("寸滩街道回复：已协调环卫所
    对该站点积存垃圾进行全部清运", "铁山坪街道回复：已协调区水利局对沿线排口开展排查"), days after the
    complaint, so neither the words nor the unit window (``unit_window_hours``) find it; an officer
    reads it as the answer to the unit's one open matter of that medium. Not more than one: two
    matters of one medium in one street stay for the words to tell apart."""
    if not speaks_for_its_unit(post) or post.topic == GENERIC_TOPIC:
        return None
    window, reopen = lookback(policy, post.role)
    open_matters = [i for i in candidates if i.merged_into is None and i.unit_code == post.unit_code
                    and i.topic == post.topic and not answered(i) and not dismissed(i)
                    and _within_reach(i, now, window, reopen)]
    if len({i.id for i in open_matters}) != 1:
        return None
    incident = open_matters[0]
    why = f"{_REASONS['followup']}：本属地官方回应，属地内同类别仅此一件未回应事件"
    return Match(incident, _action(incident, True), why, 0.0)


def _with_bridges(match: Match, fits: Sequence[tuple[Incident, float]], bar: float) -> Match:
    """The match, naming the other open incidents of its unit the post fits at ``bar`` or above.

    Why: residents name one event by their own estates, so it is sometimes opened twice (琏珠 and
    山涧水岸, 南桥寺 and 十年城); the news item or the official 通报 that names the event as a whole
    then fits both. An officer expects one incident; merging is the desk's call (one of the two
    may already be assigned or answered), so the post's reason proposes it (并单) and the audit
    keeps it. On the development sets, at 0.7 every such pair was one event (6 of 6; at 0.6, 8 of
    9: a square dance's reply also fitted the port's night noise in one town)."""
    unit = match.incident.unit_code
    also = tuple(sorted(int(i.id) for i, p in fits if p >= bar and unit is not None and i.unit_code == unit
                        and i.id is not None and i.id != match.incident.id))
    if not also:
        return match
    names = "、".join(f"#{i}" for i in also)
    why = f"{match.reason}；与事件 {names} 也高度相似，或为同一事件，请核对并单"
    return Match(match.incident, match.action, why, match.similarity, also)


# States in which nobody but the machine has acted on an incident: the only ones the detection
# pass merges by itself (alerts.grouping.consolidable).
UNTOUCHED = frozenset({State.NEW, State.ASSIGNED})


def consolidable(joined: Incident, other: Incident, acted: Container[int] = frozenset()) -> bool:
    """Whether two open incidents a post fits both (``Match.also``) are merged by the detection
    pass itself (并单, audited) rather than proposed to the desk: of one unit and one topic, telling
    no different kinds of source, and untouched by people (新 or 已交办 by the machine: not
    signed, answered, returned, re-graded, reopened after a closing or merged by hand, no public
    reply, and not in ``acted``: the incidents a person has acted on at all, by the audit log
    (:func:`acted_by_people`): a 交办 by an officer leaves the state 已交办, as the machine's does).

    Why: the news item or the 通报 that names an event as a whole fits both halves residents
    opened from their own estates (琏珠 / 山涧水岸, 和韵家园 / 棠富园); an officer expects one
    incident. Round 8 proposed it on the desk (6 of 6 proposals one event); merging them here
    keeps one deadline clock. Never when either has been acted on (the desk's call), and never
    across topics or kinds of source: a fire's firefighting water in a creek fits the fire and
    the pig farm's creek of the same town (incidents_dev_h)."""
    if joined.id is None or other.id is None or joined.id == other.id:
        return False
    for incident in (joined, other):
        if (incident.state not in UNTOUCHED or incident.id in acted or incident.merged_into is not None
                or incident.public_reply_at
                or incident.grade_override is not None or incident.returns or incident.reopened
                or "sign_off" in incident.milestones):
            return False
    kinds = source_kinds(joined.keywords), source_kinds(other.keywords)
    return (joined.unit_code is not None and joined.unit_code == other.unit_code and joined.topic == other.topic
            and not (kinds[0] and kinds[1] and kinds[0].isdisjoint(kinds[1])))


def opened_twice(first: Incident, second: Incident, weight: Weight, policy: Mapping[str, Any]) -> str | None:
    """Why two open incidents of one unit and topic are one event opened twice, or None.

    Why: residents of two estates report one event within the hour, each naming their own estate
    (山涧水岸 / 琏珠, 鲜花港 / 石子山); the second report meets the first as "another place" and
    opens its own incident, and often no later post names both (no bridge for :func:`find_match`).
    An officer reading the two first reports side by side sees one event when they were opened
    close in time (``twice_hours`` between the openings) and tell it in the same words once the
    estates' names are set aside (the shared weight of their event words' character pairs, places
    and kinds of source apart, at least ``twice_min_shared``), or tell one of the kinds of source
    whose one instance reaches several estates at once (``twice_sources``: a factory's fumes, a
    pig farm's creek, a tap-water fault), telling no different kinds of source. Chosen on pairs
    of incidents of the development sets (docs/analysis.md, round 11): two matters of one street
    and topic in one evening (two restaurants, two worksites) share their kind of source and
    words such as 楼下 or 夜间, so neither a common kind nor a light overlap is enough."""
    hours = abs((second.opened_at - first.opened_at).total_seconds()) / 3600
    if (first.unit_code is None or first.unit_code != second.unit_code or first.topic != second.topic
            or hours > float(policy.get("twice_hours", 0.0))):
        return None
    kinds = source_kinds(first.keywords), source_kinds(second.keywords)
    if kinds[0] and kinds[1] and kinds[0].isdisjoint(kinds[1]):
        return None
    wide = kinds[0] & kinds[1] & {SOURCE + k for k in policy.get("twice_sources", ())}
    min_shared = float(policy.get("twice_min_shared", math.inf))
    if not wide and math.isinf(min_shared):  # words alone cannot make them one (the pack's default)
        return None
    at_place = place_pairs(first.place) | place_pairs(second.place)
    sides = [{k: v for k, v in words_grams(i.keywords, weight).items()
              if k not in at_place and not k.startswith(SOURCE)} for i in (first, second)]
    if not wide and overlap(sides[0], sides[1])[0] < min_shared:
        return None
    common = sorted(set(sides[0]) & set(sides[1]), key=lambda k: (-min(sides[0][k], sides[1][k]), k))[:4]
    told = f"所述相同（{'、'.join(common)}）" if common else "同一污染源"
    return f"事件 #{first.id} 与 #{second.id} 同属地、同类别，首报相隔 {hours:.1f} 小时，{told}，系同一事件，自动并单"


def acted_by_people(audit: Iterable[AuditEntry]) -> bool:
    """Whether anyone but the machine has acted on an incident, by its audit log: a 交办, an
    extension, a note, a copy to a department. Its state alone cannot tell: an officer's 交办 from
    the triage queue leaves it 已交办 exactly as the machine's assignment at opening does, and the
    officer who assigned one half has made it the desk's matter (:func:`consolidable`)."""
    return any(entry.actor != SYSTEM for entry in audit)


def fold_into(source: Incident, target: Incident, now: dt.datetime) -> None:
    """并单 in memory: the source closed as merged into the target, whose reach adds the source's,
    whose keywords take the source's after its own, and whose last post is the later of both
    (``alerts.actions.merge`` by a person, the detection pass by itself; the caller moves the
    posts, audits and regrades)."""
    assert target.id is not None
    source.state, source.merged_into, source.updated_at = State.CLOSED, target.id, now
    source.post_count = 0  # the store recounts both when it moves the posts
    source.milestones["closed"] = now
    target.reach = combine(Reach.from_dict(target.reach), Reach.from_dict(source.reach)).to_dict()
    target.keywords = merge_keywords(target.keywords, source.keywords)
    target.last_post_at = max(t for t in (target.last_post_at, source.last_post_at, target.opened_at) if t)
    target.updated_at = now
