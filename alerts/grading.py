"""Grade an incident from its aggregated reach, sources, signals, velocity and negativity (pure).

The thresholds are data: the pack's ``[grading]`` table. Every rule that fires is a reason, so an
officer can see why an incident is 重大 and not 一般.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.models import Analysis, Grade, RawPost

TIERS = ("central", "provincial", "official", "local", "individual")
TIER_LABELS = {"central": "中央媒体", "provincial": "省级媒体", "official": "官方账号", "local": "本地媒体",
               "individual": "个人"}
_METRICS = ("reposts", "comments", "likes", "followers")
_GRADES = tuple(Grade)  # lowest first; iterating the enum itself cost more than the rules (bench/pipeline.py)


@dataclass(slots=True)
class Reach:
    """What the posts of one incident add up to. Stored on the incident as a JSON object."""

    reposts: int = 0
    comments: int = 0
    likes: int = 0
    followers: int = 0
    authors: list[str] = field(default_factory=list)  # distinct, capped (see MAX_AUTHORS)
    author_count: int = 0
    posts: int = 0
    neg_sum: float = 0.0  # Σ (1 - sentiment)
    tiers: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    # Distinct places the reports name (the community or landmark, else the unit), capped: a tap
    # water complaint from two estates is several estates' water, whoever wrote it.
    places: list[str] = field(default_factory=list)
    # The reports alone, without the comments and reposts collected under a thread (``reply_to``):
    # a comment under a post is not a new report of the event (pack ``[grading]``, "who counts"), so
    # the authors rule, the combos' authors, the one-complaint cap and the negativity read these.
    # ``-1``: a row stored before they were kept, read as if every post were a report.
    reporters: list[str] = field(default_factory=list)  # distinct, capped like ``authors``
    reporter_count: int = -1
    reports: int = -1
    report_neg_sum: float = 0.0
    reply_tiers: list[str] = field(default_factory=list)  # tiers seen only under a thread

    def __post_init__(self) -> None:
        if self.reporter_count < 0:  # an older row: everyone counted was a reporter
            self.reporters, self.reporter_count = list(self.authors), self.author_count
            self.reports, self.report_neg_sum = self.posts, self.neg_sum

    MAX_AUTHORS = 2000  # beyond this the count goes on but names are not kept
    MAX_PLACES = 50  # enough to tell "several"; rows stay small

    @property
    def total(self) -> int:
        """Reposts + comments + likes: how far the matter has spread."""
        return self.reposts + self.comments + self.likes

    @property
    def negativity(self) -> float:
        """Mean negativity (1 - probability of positive) of the posts, 0 when empty."""
        return self.neg_sum / self.posts if self.posts else 0.0

    @property
    def report_negativity(self) -> float:
        """Mean negativity of the reports alone (comments under a thread left out), 0 when none."""
        return self.report_neg_sum / self.reports if self.reports > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"reposts": self.reposts, "comments": self.comments, "likes": self.likes,
                "followers": self.followers, "authors": self.authors, "author_count": self.author_count,
                "posts": self.posts, "neg_sum": round(self.neg_sum, 6), "tiers": self.tiers,
                "signals": self.signals, "places": self.places, "reporters": self.reporters,
                "reporter_count": self.reporter_count, "reports": self.reports,
                "report_neg_sum": round(self.report_neg_sum, 6), "reply_tiers": self.reply_tiers}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Reach:
        """Inverse of :meth:`to_dict`; tolerant of missing keys (older rows)."""
        data = data or {}
        return cls(**{k: data[k] for k in ("reposts", "comments", "likes", "followers", "authors",
                                           "author_count", "posts", "neg_sum", "tiers", "signals", "places",
                                           "reporters", "reporter_count", "reports", "report_neg_sum",
                                           "reply_tiers")
                                           if k in data})


def source_tier(post: RawPost, policy: Mapping[str, Any]) -> str:
    """The media tier of a post's source: central, provincial, official, local or individual.

    A letter on a message board (人民网领导留言板, a district's 问政 page, 12345) is a resident's,
    whatever site hosts it (``boards``): counting it as central media or an official account made
    every such letter 重大 or 较大."""
    if any(word and word in (post.source or "") for word in policy.get("boards", [])):
        return "individual"
    host = urlsplit(post.url).netloc.lower() if post.url else ""
    haystack = " ".join((post.source or "", post.author or "", host))
    for tier in ("central", "provincial", "official", "local"):
        if any(word and word in haystack for word in policy.get("source_tiers", {}).get(tier, [])):
            return tier
    return "individual"


def _count_author(names: list[str], count: int, author: str) -> int:
    """``count`` plus one when ``author`` is not among ``names`` yet (whose list stops growing at
    ``Reach.MAX_AUTHORS`` while the count goes on)."""
    if author in names:
        return count
    if len(names) < Reach.MAX_AUTHORS:
        names.append(author)
    return count + 1


def add_post(reach: Reach, post: RawPost, analysis: Analysis, tier: str) -> Reach:
    """Fold one post into the reach (mutates and returns it).

    Engagement figures are added, not maxed: a repeat complaint by another author is another
    audience. Followers count only for people (individual and local tiers): a media or official
    account's audience is what its tier already grades, and adding its millions of followers made
    every report by a provincial outlet 重大. The same post stored twice never gets here (the
    store de-duplicates it).

    A post collected under another (``reply_to``: a comment, a reply, a repost in a thread) adds its
    interactions, signals and place, and its author to ``authors`` (who took part), but it is no
    report: not a reporter, not a report's negativity, and its tier is a reply's (``reply_tiers``,
    which the pack's ``thread_tiers`` decide on).
    """
    for key in _METRICS:
        value = int(post.engagement.get(key, 0) or 0)
        if key == "followers" and tier not in ("individual", "local"):
            continue
        setattr(reach, key, getattr(reach, key) + max(value, 0))
    author = (post.author or "").strip() or f"anon:{post.source}:{post.id}"
    reach.author_count = _count_author(reach.authors, reach.author_count, author)
    reach.posts += 1
    reach.neg_sum += 1.0 - float(analysis.sentiment)
    if post.reply_to:
        if tier not in reach.tiers and tier not in reach.reply_tiers:
            reach.reply_tiers.append(tier)
    else:
        reach.reporter_count = _count_author(reach.reporters, reach.reporter_count, author)
        reach.reports += 1
        reach.report_neg_sum += 1.0 - float(analysis.sentiment)
        if tier not in reach.tiers:
            reach.tiers.append(tier)
        if tier in reach.reply_tiers:
            reach.reply_tiers.remove(tier)
    for signal in analysis.signals:
        if signal not in reach.signals:
            reach.signals.append(signal)
    place = analysis.place or analysis.unit
    if place and place not in reach.places and len(reach.places) < Reach.MAX_PLACES:
        reach.places.append(place)
    return reach


def _grade(name: str | None) -> Grade | None:
    try:
        return Grade(name) if name else None
    except ValueError:
        return None


def _threshold_grade(value: float, thresholds: Mapping[str, Any]) -> Grade | None:
    best = None
    for grade in _GRADES:
        limit = thresholds.get(grade)  # a StrEnum member is its value as a key, without Enum's slow .value
        if limit is not None and value >= float(limit):
            best = grade
    return best


def grade_incident(reach: Reach, velocity: float, policy: Mapping[str, Any]) -> tuple[Grade, list[str]]:
    """The grade the aggregated facts justify, with one reason per rule that fired.

    ``velocity`` is posts per hour over the last hour. The highest grade any rule gives wins.
    Authors, negativity and velocity count the reports, not the comments under a thread (the pack's
    "who counts"): the velocity given counts every post, so it is scaled by the reports' share.
    """
    grade, reasons = Grade.BLUE, ["相关负面舆情"]
    if reach.posts > reach.reports >= 0:
        velocity = round(velocity * reach.reports / reach.posts, 2)
    tiers = reach.tiers + [t for t in reach.reply_tiers if t in policy.get("thread_tiers", ()) and t not in reach.tiers]

    def lift(to: Grade | None, reason: str) -> None:
        nonlocal grade
        if to is None:
            return
        reasons.append(f"{reason} → {to.label}")
        if to.rank > grade.rank:
            grade = to

    lift(_threshold_grade(reach.total, policy.get("reach", {})), f"传播量 {reach.total}")
    lift(_threshold_grade(reach.followers, policy.get("followers", {})), f"作者粉丝合计 {reach.followers}")
    lift(_threshold_grade(reach.reporter_count, policy.get("authors", {})), f"{reach.reporter_count} 个不同作者")
    lift(_threshold_grade(velocity, policy.get("velocity", {})), f"传播速度 {velocity:g} 帖/小时")
    negativity = policy.get("negativity", {})
    if reach.reports >= int(negativity.get("min_posts", 1)):
        lift(_threshold_grade(reach.report_negativity, {k: v for k, v in negativity.items() if k != "min_posts"}),
             f"负面程度 {reach.report_negativity:.2f}")
    for tier in tiers:
        to = _grade(policy.get("tiers", {}).get(tier))
        if to is not None and to is not Grade.BLUE:
            lift(to, f"来源: {TIER_LABELS.get(tier, tier)}")
    signal_grades = {s: _grade(policy.get("signals", {}).get(s)) for s in reach.signals}
    fired = {s: g for s, g in signal_grades.items() if g is not None}
    for signal, to in sorted(fired.items()):
        lift(to, f"敏感信号: {signal}")
    harm = False  # a combination meaning harm to many or to children counts as severe
    for combo in policy.get("combos", []):
        needs = list(combo.get("all", []))
        # Harm counts everyone who tells it ("我家也是！放了十分钟还是黄的" under a neighbour's post is
        # another household's tap water); a step taken (12345, "再不管就…") counts its reporters.
        is_harm = bool(combo.get("harm", True))
        who = reach.author_count if is_harm else reach.reporter_count
        if (all(s in reach.signals for s in needs) and who >= int(combo.get("min_authors", 0))
                and len(reach.places) >= int(combo.get("min_places", 0))):
            harm = harm or is_harm
            extra = f"，{who} 个作者" if combo.get("min_authors") else ""
            extra += f"，{len(reach.places)} 处地点" if combo.get("min_places") else ""
            lift(_grade(combo.get("grade")), f"信号组合: {'+'.join(needs)}{extra}")
    severe = [s for s in fired if s in policy.get("severe_signals", [])]
    cap = _grade(policy.get("combined_signals_cap"))
    if severe and len(fired) >= 2 and cap is not None:
        top = max(fired.values(), key=lambda g: g.rank)
        combined = _GRADES[min(top.rank + 1, cap.rank)]
        if combined.rank > top.rank:
            lift(combined, f"严重信号叠加 ({', '.join(sorted(fired))})")
    # One low-reach complaint is never above the cap unless a severe signal or a harm combination
    # says so: the sensitive-but-harmless signals (a school nearby, 12345, a reporter) only add up to it.
    single = _grade(policy.get("single_complaint_cap"))
    reach_limit = float(policy.get("reach", {}).get("orange", float("inf")))
    followers_limit = float(policy.get("followers", {}).get("orange", float("inf")))
    velocity_limit = float(policy.get("velocity", {}).get("orange", float("inf")))
    if (single is not None and not severe and not harm and reach.reporter_count <= 1 and grade.rank > single.rank
            and reach.total < reach_limit and reach.followers < followers_limit and velocity < velocity_limit
            and "central" not in tiers):
        grade = single
        reasons.append(f"单条低传播投诉，无严重信号 → 不高于{single.label}")
    return grade, reasons


def effective_grade(computed: Grade, override: Mapping[str, Any] | None) -> Grade:
    """An officer's override holds unless the facts later justify a higher grade."""
    manual = _grade(override.get("grade")) if override else None
    if manual is None:
        return computed
    return computed if computed.rank > manual.rank else manual


def highest(grades: Iterable[Grade]) -> Grade:
    """The highest of some grades (blue when none)."""
    return max(grades, key=lambda g: g.rank, default=Grade.BLUE)


def combine(a: Reach, b: Reach) -> Reach:
    """The reach of two incidents merged into one (并单): figures add up, authors are united."""
    out = Reach.from_dict(a.to_dict())
    for key in _METRICS:
        setattr(out, key, getattr(a, key) + getattr(b, key))
    new_authors = [x for x in b.authors if x not in a.authors]
    out.authors = (a.authors + new_authors)[:Reach.MAX_AUTHORS]
    # Names beyond the cap are unknown: count b's unnamed ones as new (an upper bound, never a loss).
    out.author_count = a.author_count + len(new_authors) + max(b.author_count - len(b.authors), 0)
    out.posts, out.neg_sum = a.posts + b.posts, a.neg_sum + b.neg_sum
    new_reporters = [x for x in b.reporters if x not in a.reporters]
    out.reporters = (a.reporters + new_reporters)[:Reach.MAX_AUTHORS]
    out.reporter_count = a.reporter_count + len(new_reporters) + max(b.reporter_count - len(b.reporters), 0)
    out.reports, out.report_neg_sum = a.reports + b.reports, a.report_neg_sum + b.report_neg_sum
    out.tiers = a.tiers + [t for t in b.tiers if t not in a.tiers]
    out.reply_tiers = list(dict.fromkeys(t for t in a.reply_tiers + b.reply_tiers if t not in out.tiers))
    out.signals = a.signals + [s for s in b.signals if s not in a.signals]
    out.places = (a.places + [p for p in b.places if p not in a.places])[:Reach.MAX_PLACES]
    return out
