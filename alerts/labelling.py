"""Labels from the duty desk's work (从值班台学习): which correction says what about which post, and
the ``ecowatch eval`` line a labelled post becomes.

A correction asserts only what the desk decided: 改派 the unit, 误报 that the post is not ours,
并单/拆分/移帖 which matter (event) it belongs to, 调整等级 the grade, 修正 a unit, topic or
polarity. Everything else on an exported line is what the analysis said (the desk let it stand),
and ``fields`` names what the desk asserted, so accuracy and retraining count only those.
Labels are written in the transaction of the correction (alerts.actions, alerts.corrections), so
a correction never exists without its labels nor a label without its correction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.models import Analysis, Correction, Incident, Label, PostRole
from storage.labels import LabelledPost
from storage.sql import Tx

# The classifiers' fields (relevant, unit, topic, polarity) and the incident's (event, grade).
POST_FIELDS = ("relevant", "unit_code", "topic", "polarity")
# What an incident set calls a follow-up (tests/data/eval/LABELLING.md ``followup``).
FOLLOWUP_NAMES = {PostRole.OFFICIAL: "official", PostRole.PROGRESS: "progress", PostRole.PRAISE: "praise",
                  PostRole.UNRESOLVED: "still_not_fixed"}
# Contact data never leaves in an export: mobile and landline numbers, e-mail addresses.
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def event_name(incident_id: int) -> str:
    """The ``event`` of a post in an incident, as an exported line spells it."""
    return f"incident-{incident_id}"


def in_incident(incident: Incident) -> dict[str, Any]:
    """What belonging to this incident asserts: the matter (event) and its grade."""
    assert incident.id is not None
    return {"event": event_name(incident.id), "grade": incident.grade.value}


def write_labels(tx: Tx, kind: Correction, incident: Incident | None, post_ids: Iterable[int],
                 fields: Mapping[str, Any], actor: str, at: dt.datetime, audit_of: int | None = None) -> int:
    """One label per post for this correction, tied to the audit entry just written on
    ``audit_of`` (default: the incident); returns how many."""
    audit_incident = audit_of if audit_of is not None else (incident.id if incident is not None else None)
    audit_id = tx.last_audit_id(audit_incident) if audit_incident is not None else None
    rows = [Label(post_id=pid, incident_id=incident.id if incident is not None else audit_incident,
                  kind=kind.value, fields=dict(fields), actor=actor, at=at, audit_id=audit_id)
            for pid in post_ids]
    tx.add_labels(rows)
    return len(rows)


def incident_post_ids(tx: Tx, incident_id: int) -> list[int]:
    """Every post of the incident (reports and follow-ups)."""
    return [post.id for post, _analysis, _role in tx.incident_post_rows(incident_id) if post.id is not None]


def label_unit(tx: Tx, incident: Incident, old_unit_code: str | None, actor: str, at: dt.datetime) -> int:
    """改派, or 交办 after a 退单, to another unit than the one it had: the unit was wrong. Only the
    posts that named a place (the analysis found a unit) learn it: a comment naming none keeps
    ``unit_code`` null, as LABELLING.md has it."""
    if old_unit_code is None or old_unit_code == incident.unit_code or incident.id is None:
        return 0
    placed = [p.id for p, a, _r in tx.incident_post_rows(incident.id) if p.id is not None and a and a.unit_code]
    fields = {"relevant": True, "unit_code": incident.unit_code, "unit": incident.unit, **in_incident(incident)}
    return write_labels(tx, Correction.WRONG_UNIT, incident, placed, fields, actor, at)


def label_incident(tx: Tx, kind: Correction, incident: Incident, actor: str, at: dt.datetime,
                   audit_of: int | None = None) -> int:
    """并单 or 调整等级: every post of the incident is of this matter, at this grade."""
    assert incident.id is not None
    return write_labels(tx, kind, incident, incident_post_ids(tx, incident.id), in_incident(incident), actor, at,
                        audit_of)


def not_ours(scope: str, analysis: Analysis | None) -> dict[str, Any]:
    """What a 误报 asserts: not relevant, no unit, no matter; and, when it is not about the
    environment at all, no topic either (LABELLING.md: ``"topic": "other", "topics": []``)."""
    fields: dict[str, Any] = {"relevant": False, "unit_code": None, "unit": None, "event": None, "grade": None}
    if scope == "environment" or (analysis is not None and not analysis.topics):
        fields.update(topic="other", topics=[])
    return fields


def _mask(text: str) -> str:
    return _EMAIL.sub("[邮箱]", _PHONE.sub("[电话]", text))


def export_line(item: LabelledPost, *, anonymise: bool = False) -> dict[str, Any]:
    """The ``ecowatch eval`` line of a labelled post: the analysis as it was, with every live label
    laid over it in order (the latest wins), plus who corrected it when and what the analysis said.

    Never in it: user passwords or tokens (labels hold only the actor's login name), contact data
    (phone numbers and e-mail addresses in the text are masked). ``anonymise`` also drops the
    post's author and address and the officers' names."""
    post, a = item.post, item.analysis
    topics = list(a.topics) if a is not None else []
    line: dict[str, Any] = {
        "id": f"label-{post.id}", "text": _mask(post.full_text),
        "relevant": a.relevant if a is not None else False,
        "unit": a.unit if a is not None else None, "unit_code": a.unit_code if a is not None else None,
        "topic": topics[0] if topics else "other", "topics": topics,
        "polarity": a.polarity.value if a is not None else "neu",
    }
    asserted: list[str] = []
    for label in item.labels:
        line.update(label.fields)
        asserted += [f for f in label.fields if f not in asserted]
    if "topic" in asserted and "topics" not in asserted:  # 修正 of the main topic: the others stay
        line["topics"] = [line["topic"], *(t for t in topics if t != line["topic"])]
    if not line["relevant"]:
        line.update(unit=None, unit_code=None, event=None, grade=None)
    line.setdefault("event", None)
    line.setdefault("grade", None)
    last = item.labels[-1]
    when = post.published_at or post.fetched_at
    line.update({
        "followup": FOLLOWUP_NAMES.get(item.role) if item.role is not None else None,
        "published_at": when.isoformat() if when else None, "source": post.source,
        **{k: int(post.engagement.get(k, 0)) for k in ("reposts", "comments", "likes", "followers")},
        "fields": asserted, "corrections": [lab.kind for lab in item.labels],
        "at": last.at.isoformat(), "post_id": post.id, "incident_id": last.incident_id,
        "predicted": ({"relevant": a.relevant, "unit_code": a.unit_code, "topic": a.topic,
                       "polarity": a.polarity.value} if a is not None else None),
    })
    if not anonymise:
        line.update(by=sorted({lab.actor for lab in item.labels}), author=post.author, url=post.url)
    return line
