"""Incident rules: which posts open an incident, which join or reopen one, what grade it gets (pure).

The thresholds are the pack's ``[grouping]``, ``[grading]`` and ``[workflow]`` tables; the
pieces live in :mod:`alerts.grouping` and :mod:`alerts.grading`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts.deadlines import compute_deadlines
from alerts.followups import ACCIDENT_SIGNALS, answers_back, household_accident, opens
from alerts.grading import Reach, add_post, grade_incident, source_tier
from alerts.grouping import Match, PostFacts, Weight, answered, find_match, own_match, thread_match, unit_reply_match
from core.jurisdiction import Jurisdiction
from core.models import Analysis, Incident, PostRole, RawPost, State
from nlp.analyzer import relevant_unplaced
from nlp.reposts import clean

MIN_UNIT_CONFIDENCE = 0.6  # default of [workflow] min_unit_confidence: below it the duty desk decides


@dataclass(slots=True)
class Decision:
    """What to do with one analysed post."""

    # "ignore" | "open" | "merge" | "reopen" | "attach" (a follow-up) | "absorb" (like an incident
    # dismissed as 误报: recorded with it, nothing reopened or opened; alerts.grouping.dismissed)
    action: str
    incident: Incident | None = None  # the new incident (open) or the one joined (merge, reopen, attach, absorb)
    reasons: list[str] = field(default_factory=list)
    tier: str = "individual"  # media tier of the post's source
    role: PostRole = PostRole.REPORT
    also: tuple[int, ...] = ()  # other open incidents of the unit the post fits as well (alerts.grouping.Match)


def concerns_incidents(analysis: Analysis) -> bool:
    """Whether a post is matched against incidents: a relevant one may open, join or follow one
    up; one that names no place at all and is environmental or tells of an accident (a comment
    under a thread, a reply that says only "您反映的问题", "老公在那个厂上班，现在都还在医院观察":
    neither a place nor a medium) may join or follow up one, never open it."""
    if analysis.relevant or analysis.elsewhere or analysis.unit_code is not None:
        return analysis.relevant
    if analysis.topics:
        return True
    # Not environmental by its words: only an accident told without naming any place (a comment);
    # one that names a place of ours and is not ours (a kitchen fire in 观音桥) stays out.
    return not ACCIDENT_SIGNALS.isdisjoint(analysis.signals) and not any(
        e.kind in ("place", "foreign") for e in analysis.evidence)


def matched_against_incidents(post: RawPost, analysis: Analysis, role: PostRole, policy: Mapping[str, Any]) -> bool:
    """Whether the grouping rule looks for an incident for this post: one that concerns incidents
    (:func:`concerns_incidents`), or one with a follow-up's form (``alerts.followups.answers_back``:
    an official answer, a "still not fixed", a resident telling of the fix) even when the
    environmental model doubts it; never an accident in a home (a neighbour's gas leak), which
    concerns incidents only by its leak signal. A post matched this way joins; it never opens
    (:func:`decide` opens only for a relevant post)."""
    if not analysis.relevant and household_accident(post, analysis, policy):
        return False
    return concerns_incidents(analysis) or answers_back(post, analysis, role, policy)


def placed_by_incident(analysis: Analysis, decision: Decision) -> Analysis:
    """The analysis to store once the decision is known: a post that joins an incident of ours (by
    its thread or by its words) is about our jurisdiction's environment, so it is relevant, even
    when it names no place or medium itself (the incident sets' authors label such comments so,
    and a severe one must reach the desk as relevant and negative)."""
    if analysis.relevant or decision.action not in ("merge", "reopen", "attach"):
        return analysis
    return dataclasses.replace(analysis, relevant=True)


def assigned_unit(analysis: Analysis, jurisdiction: Jurisdiction) -> str | None:
    """The unit the machine may assign to: None when unknown or not confident enough."""
    threshold = float(jurisdiction.workflow.get("min_unit_confidence", MIN_UNIT_CONFIDENCE))
    return analysis.unit_code if analysis.unit_code and analysis.confidence >= threshold else None


def _title(post: RawPost) -> str:
    """The first line of the story (a repost's furniture, "转发微博 //@某人:", left out)."""
    text = clean(post.title or post.text)
    return text.splitlines()[0][:80] if text else "(无标题)"


def _joining(match: Match, tier: str, role: PostRole) -> Decision:
    """The decision to join a matched incident; a "still not fixed" before anyone answered it
    ("又开始了") is one more complaint."""
    if role is PostRole.UNRESOLVED and not answered(match.incident):
        role = PostRole.REPORT
    return Decision(match.action, match.incident, [match.reason], tier, role, match.also)


def decide(post: RawPost, analysis: Analysis, candidates: Sequence[Incident], jurisdiction: Jurisdiction,
           now: dt.datetime, words: Sequence[str], weight: Weight, role: PostRole,
           thread: Incident | None = None, own: Incident | None = None, *, tier: str | None = None,
           matched: bool | None = None) -> Decision:
    """Decide whether a post opens an incident, joins, reopens or follows up one of
    ``candidates``, or is ignored.

    ``candidates`` are incidents the post's unit may share (see ``Tx.grouping_candidates``);
    ``words`` the post's salient words and ``weight`` their weights (``nlp.salience``); ``role``
    what the post is to an event (``alerts.followups.post_role``); ``thread`` the incident of the
    post this one answers (``Tx.thread_incident``), which it joins whatever its words say; ``own``
    the incident of its writer's latest post (``Tx.author_incident``), which a resident's
    follow-up (``alerts.followups.writes_back``) joins before its words are weighed.
    ``tier`` (``alerts.grading.source_tier``) and ``matched`` (:func:`matched_against_incidents`)
    when the caller worked them out already for this post and role: the detection pass does, and
    working them out twice a post was a few per cent of a pass (bench/pipeline.py).
    """
    tier = tier if tier is not None else source_tier(post, jurisdiction.grading)
    in_thread = thread_match(thread, role, now, jurisdiction.grouping) if thread is not None else None
    if in_thread is not None:
        return _joining(in_thread, tier, role)
    if matched is None:
        matched = matched_against_incidents(post, analysis, role, jurisdiction.followups)
    if not matched:
        return Decision("ignore", reasons=["不相关"], tier=tier)
    mine = own_match(own, role, now, jurisdiction.grouping) if own is not None else None
    if mine is not None:
        return _joining(mine, tier, role)
    unit_code = assigned_unit(analysis, jurisdiction)
    opener = analysis.relevant and not relevant_unplaced(analysis)  # may open an incident
    facts = PostFacts(unit_code, analysis.topic, analysis.place, words, role, opener, tier)
    match = (find_match(facts, candidates, now, jurisdiction.grouping, weight)
             or unit_reply_match(facts, candidates, now, jurisdiction.grouping))
    if match is not None:
        return _joining(match, tier, role)
    if not opener:
        return Decision("ignore", reasons=["未提及地点，且未找到对应事件"], tier=tier, role=role)
    if not opens(role):
        return Decision("ignore", reasons=[f"{role.label}，未找到对应事件"], tier=tier, role=role)
    reach = add_post(Reach(), post, analysis, tier)
    grade, reasons = grade_incident(reach, 1.0, jurisdiction.grading)
    unit = jurisdiction.unit(unit_code)
    department = jurisdiction.route(analysis.topic, post.full_text)
    incident = Incident(
        title=_title(post),
        unit=unit.name if unit else None,
        unit_code=unit.code if unit else None,
        topic=analysis.topic,
        grade=grade,
        state=State.ASSIGNED if unit else State.NEW,
        opened_at=now,
        updated_at=now,
        department=department.name if department else None,
        place=analysis.place,
        deadlines=compute_deadlines(jurisdiction.deadlines, grade, now),
        grade_reasons=reasons,
        reach=reach.to_dict(),
        keywords=list(words),
        last_post_at=now,
    )
    if unit:
        why = "属地明确，直接交办"
    else:
        why = ("属地不明" if not analysis.unit_code else "属地置信度低") + "，进入值班台分拣"
    return Decision("open", incident, [why], tier, role)
