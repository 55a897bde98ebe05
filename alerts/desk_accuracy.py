"""Where the machine is weak, by the duty desk's corrections (live accuracy; pure).

For a period: how many corrections of each kind the desk made (改派 for a wrong unit, 误报, 并单,
拆分, 移帖, 调整等级, 修正) and on how many incidents; and over the posts of the period's incidents,
how often the analysis stood: a post counts as right on a field unless a live label says otherwise
(relevant, unit, main topic, polarity), per field, per unit and per topic. A post the desk never
touched is taken as right: the desk reads every incident, and what it let stand it accepted.
The statistics page (``GET /api/stats``) and the weekly briefing read this one module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.models import Analysis, Correction, Label

FIELDS = ("relevant", "unit_code", "topic", "polarity")


@dataclass(slots=True)
class GroupAccuracy:
    """The posts of one unit or one topic: how many, how many the desk corrected."""

    key: str | None
    posts: int = 0
    corrected: int = 0

    @property
    def accuracy(self) -> float | None:
        """Share of posts the desk let stand; None without posts."""
        return round(1 - self.corrected / self.posts, 4) if self.posts else None


@dataclass(slots=True)
class DeskAccuracy:
    """Corrections made in the period and the analysis' accuracy against them."""

    corrections: dict[str, int] = field(default_factory=dict)  # Correction value → how many made
    corrected_incidents: int = 0
    posts: int = 0
    wrong: dict[str, int] = field(default_factory=dict)  # field → posts where the desk said otherwise
    by_unit: list[GroupAccuracy] = field(default_factory=list)
    by_topic: list[GroupAccuracy] = field(default_factory=list)

    def field_accuracy(self) -> dict[str, float | None]:
        """Per field, the share of posts whose analysis the desk let stand."""
        return {f: round(1 - self.wrong.get(f, 0) / self.posts, 4) if self.posts else None for f in FIELDS}


def _disagrees(name: str, asserted: object, analysis: Analysis | None) -> bool:
    if analysis is None:
        return True
    predicted = {"relevant": analysis.relevant, "unit_code": analysis.unit_code, "topic": analysis.topic,
                 "polarity": analysis.polarity.value}[name]
    return asserted != predicted


def wrong_fields(analysis: Analysis | None, labels: Iterable[Label]) -> set[str]:
    """The fields of a post's analysis its live labels contradict (the latest label of a field
    wins; a unit is judged only on a post the desk says is relevant)."""
    final: dict[str, object] = {}
    for label in labels:
        final.update({k: v for k, v in label.fields.items() if k in FIELDS})
    if final.get("relevant") is False:
        final.pop("unit_code", None)
    return {name for name, value in final.items() if _disagrees(name, value, analysis)}


def desk_accuracy(period_labels: Sequence[Label], posts: Sequence[tuple[int, int, Analysis | None]],
                  post_labels: Mapping[int, Sequence[Label]], incident_units: Mapping[int, str | None]
                  ) -> DeskAccuracy:
    """``period_labels``: the live labels made in the period (what was corrected, and how);
    ``posts``: (incident, post, analysis) of the period's incidents; ``post_labels``: every live
    label of those posts; ``incident_units``: each incident's unit code (the unit a post counts for)."""
    out = DeskAccuracy()
    kinds: dict[str, set[object]] = {}
    for label in period_labels:
        kinds.setdefault(label.kind, set()).add(label.audit_id if label.audit_id is not None else label.id)
    out.corrections = {c.value: len(kinds.get(c.value, ())) for c in Correction}
    out.corrected_incidents = len({lab.incident_id for lab in period_labels if lab.incident_id is not None})
    units: dict[str | None, GroupAccuracy] = {}
    topics: dict[str | None, GroupAccuracy] = {}
    wrong: Counter[str] = Counter()
    for incident_id, post_id, analysis in posts:
        labels = post_labels.get(post_id, ())
        bad = wrong_fields(analysis, labels)
        wrong.update(bad)
        topic = next((lab.fields["topic"] for lab in reversed(labels) if "topic" in lab.fields),
                     analysis.topic if analysis is not None else None)
        for groups, key in ((units, incident_units.get(incident_id)), (topics, topic)):
            group = groups.setdefault(key, GroupAccuracy(key))
            group.posts += 1
            group.corrected += bool(bad)
    out.posts = len(posts)
    out.wrong = dict(wrong)
    out.by_unit = sorted(units.values(), key=lambda g: (-g.posts, g.key or ""))
    out.by_topic = sorted(topics.values(), key=lambda g: (-g.posts, g.key or ""))
    return out
