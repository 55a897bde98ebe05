"""Incident rules: which posts open an incident, which join one, what grade it gets (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from alerts.deadlines import compute_deadlines
from core.jurisdiction import Jurisdiction
from core.models import Analysis, Grade, Incident, Polarity, RawPost, State

MERGE_WINDOW = dt.timedelta(hours=72)
MIN_UNIT_CONFIDENCE = 0.6  # below this the duty desk decides, not the machine

# Signals that alone lift a grade, and to what.
_SIGNAL_GRADES: dict[str, Grade] = {
    "casualty": Grade.ORANGE, "explosion": Grade.ORANGE, "poisoning": Grade.ORANGE,
    "leak": Grade.YELLOW, "drinking_water": Grade.YELLOW, "gathering": Grade.YELLOW,
    "petition": Grade.YELLOW, "escalation": Grade.YELLOW, "school": Grade.YELLOW, "hospital": Grade.YELLOW,
    "media": Grade.YELLOW,
}


@dataclass(slots=True)
class Decision:
    """What to do with one analysed post."""

    action: str  # "ignore" | "open" | "merge"
    incident: Incident | None = None  # the new incident (open) or the one joined (merge)
    reasons: list[str] = field(default_factory=list)


def opens_incident(analysis: Analysis) -> bool:
    """A relevant, negative post is worth an incident."""
    return analysis.relevant and analysis.polarity is Polarity.NEG


def grade_post(analysis: Analysis, post: RawPost) -> tuple[Grade, list[str]]:
    """The grade one post justifies on its own, with the reasons."""
    grade, reasons = Grade.BLUE, ["相关负面舆情"]
    for signal in analysis.signals:
        lifted = _SIGNAL_GRADES.get(signal)
        if lifted and lifted.rank > grade.rank:
            grade = lifted
        if lifted:
            reasons.append(f"敏感信号: {signal}")
    reach = sum(int(post.engagement.get(k, 0)) for k in ("reposts", "comments", "likes"))
    if reach >= 10000 and grade.rank < Grade.ORANGE.rank:
        grade = Grade.ORANGE
        reasons.append(f"传播量 {reach} ≥ 10000")
    elif reach >= 1000 and grade.rank < Grade.YELLOW.rank:
        grade = Grade.YELLOW
        reasons.append(f"传播量 {reach} ≥ 1000")
    return grade, reasons


def _title(post: RawPost, analysis: Analysis) -> str:
    title = (post.title or post.text).strip().splitlines()[0] if (post.title or post.text).strip() else "(无标题)"
    return title[:80]


def decide(post: RawPost, analysis: Analysis, candidates: Sequence[Incident], jurisdiction: Jurisdiction,
           now: dt.datetime) -> Decision:
    """Decide whether a post opens an incident, joins one of ``candidates``, or is ignored.

    ``candidates`` are the open incidents of the same unit and topic in the merge window.
    """
    if not opens_incident(analysis):
        return Decision("ignore", reasons=["不相关或非负面"])
    unit_code = analysis.unit_code if analysis.confidence >= MIN_UNIT_CONFIDENCE else None
    for incident in candidates:
        if incident.unit_code != unit_code or incident.topic != analysis.topic:
            continue
        if now - incident.opened_at > MERGE_WINDOW:
            continue
        if incident.place and analysis.place and incident.place != analysis.place:
            continue
        return Decision("merge", incident, ["同属地、同主题、同地点，72小时内"])
    grade, reasons = grade_post(analysis, post)
    unit = jurisdiction.unit(unit_code)
    department = jurisdiction.route(analysis.topic, post.full_text)
    incident = Incident(
        title=_title(post, analysis),
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
    )
    return Decision("open", incident, ["属地明确，直接交办" if unit else "属地不明，进入值班台分拣"])
