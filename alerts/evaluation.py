"""Scoring the incident layer against labelled events: the incident figures of ``ecowatch eval``.

Pure: takes the gold lines and what the replay (:mod:`alerts.replay`) made of each, returns
numbers and the misses. How each figure is counted (also in docs/analysis.md):

- severe recall: over lines with ``severe: true``; right when the post came out relevant AND
  negative (what puts it in front of the duty desk). Severe events graded ≥ 重大: over events with
  a severe line, the grade of the event's incident.
- B-cubed precision/recall/F1: over every line that has a gold ``event`` or ended in an incident;
  a line's gold cluster is its event (lines without one are alone), its predicted cluster the
  incident it ended in after merges (lines in no incident are alone). So a distractor pulled into
  an incident costs precision, and a report or follow-up left out costs recall.
- follow-ups attached: over lines with a gold ``followup``; right when the line ended in its
  event's incident (the incident holding most of the event's reports).
- incidents opened by praise or official replies: incidents whose first post is, in gold, an
  ``official``/``progress``/``praise`` follow-up or not negative. Target 0.
- grade agreement: over events with a gold ``grade``; the event's incident's grade, exact and
  within one level; an event with no incident counts as missed (a disagreement). Over-grades by
  two or more levels are counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts.replay import Replay
from core.models import Grade

NOT_OPENERS = ("official", "progress", "praise")


@dataclass(slots=True)
class IncidentReport:
    """The incident figures and their misses."""

    severe_total: int = 0
    severe_right: int = 0
    severe_events: int = 0
    severe_events_high: int = 0
    bcubed_precision: float = 1.0
    bcubed_recall: float = 1.0
    followups: int = 0
    followups_attached: int = 0
    incidents: int = 0
    bad_openers: int = 0
    graded_events: int = 0
    grade_exact: int = 0
    grade_within_one: int = 0
    grade_over_two: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bcubed_f1(self) -> float:
        """Harmonic mean of B-cubed precision and recall."""
        p, r = self.bcubed_precision, self.bcubed_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def figures(self) -> dict[str, float]:
        """The headline numbers, rounded."""
        def share(a: int, b: int) -> float:
            return round(a / b, 4) if b else 1.0

        return {
            "severe_recall": share(self.severe_right, self.severe_total),
            "severe_events_graded_orange_plus": share(self.severe_events_high, self.severe_events),
            "bcubed_precision": round(self.bcubed_precision, 4),
            "bcubed_recall": round(self.bcubed_recall, 4),
            "bcubed_f1": round(self.bcubed_f1, 4),
            "followups_attached": share(self.followups_attached, self.followups),
            "incidents_opened_by_followups": float(self.bad_openers),
            "grade_exact": share(self.grade_exact, self.graded_events),
            "grade_within_one": share(self.grade_within_one, self.graded_events),
            "grade_over_by_two": float(self.grade_over_two),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: figures, counts and misses."""
        return {"figures": self.figures(),
                "counts": {"severe": [self.severe_right, self.severe_total],
                           "severe_events_orange_plus": [self.severe_events_high, self.severe_events],
                           "followups": [self.followups_attached, self.followups], "incidents": self.incidents,
                           "grades": {"exact": self.grade_exact, "within_one": self.grade_within_one,
                                      "events": self.graded_events}},
                "misses": self.misses}


def bcubed(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """B-cubed precision and recall of a clustering: item i's precision is the share of its
    predicted cluster that shares its gold cluster, its recall the share of its gold cluster
    that shares its predicted cluster; both averaged over items."""
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_size, pred_size = Counter(gold), Counter(predicted)
    n = len(gold)
    if not n:
        return 1.0, 1.0
    precision = sum(pairs[g, p] / pred_size[p] for g, p in zip(gold, predicted, strict=True)) / n
    recall = sum(pairs[g, p] / gold_size[g] for g, p in zip(gold, predicted, strict=True)) / n
    return precision, recall


def _event_incidents(rows: Sequence[Mapping[str, Any]], result: Replay) -> dict[str, int | None]:
    """Each gold event's incident: the one holding most of its reports (its follow-ups when it
    has no report in any incident); None when no line of it is in an incident."""
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    fallback: dict[str, Counter[int]] = defaultdict(Counter)
    for row, post in zip(rows, result.posts, strict=True):
        event = row.get("event")
        if event and post.incident is not None:
            (fallback if row.get("followup") else votes)[str(event)][post.incident] += 1
    events = {str(r["event"]) for r in rows if r.get("event")}
    out: dict[str, int | None] = {}
    for event in events:
        tally = votes.get(event) or fallback.get(event)
        out[event] = tally.most_common(1)[0][0] if tally else None
    return out


def score_incidents(rows: Sequence[Mapping[str, Any]], result: Replay) -> IncidentReport:
    """Score the replay of ``rows`` (same order) against their gold events."""
    report = IncidentReport(incidents=len(result.openers))
    event_incident = _event_incidents(rows, result)

    # Severe recall.
    severe_events: set[str] = set()
    for row, post in zip(rows, result.posts, strict=True):
        if row.get("severe"):
            report.severe_total += 1
            if row.get("event"):
                severe_events.add(str(row["event"]))
            if post.relevant and post.polarity == "neg":
                report.severe_right += 1
            else:
                report.misses.append({"kind": "severe", "id": row.get("id"), "relevant": post.relevant,
                                      "polarity": post.polarity, "text": str(row.get("text", ""))[:80]})

    # B-cubed over lines with an event or an incident.
    gold, pred = [], []
    for row, post in zip(rows, result.posts, strict=True):
        if row.get("event") or post.incident is not None:
            gold.append(f"e:{row['event']}" if row.get("event") else f"alone:{row.get('id')}")
            pred.append(f"i:{post.incident}" if post.incident is not None else f"alone:{row.get('id')}")
    report.bcubed_precision, report.bcubed_recall = bcubed(gold, pred)
    by_event: dict[str, Counter[str]] = defaultdict(Counter)
    by_incident: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        by_event[g][p] += 1
        by_incident[p][g] += 1
    for g, parts in sorted(by_event.items()):
        if g.startswith("e:") and len(parts) > 1:
            report.misses.append({"kind": "split", "event": g[2:], "parts": dict(parts)})
    for p, parts in sorted(by_incident.items()):
        if p.startswith("i:") and len(parts) > 1:
            report.misses.append({"kind": "impure", "incident": int(p[2:]), "events": dict(parts)})

    # Follow-ups.
    for row, post in zip(rows, result.posts, strict=True):
        if not row.get("followup"):
            continue
        report.followups += 1
        target = event_incident.get(str(row.get("event")))
        if target is not None and post.incident == target:
            report.followups_attached += 1
        else:
            report.misses.append({"kind": "followup", "id": row.get("id"), "followup": row["followup"],
                                  "event": row.get("event"), "incident": post.incident, "event_incident": target,
                                  "relevant": post.relevant, "polarity": post.polarity,
                                  "text": str(row.get("text", ""))[:80]})

    # Incidents opened by a follow-up or a non-negative post.
    for incident, index in sorted(result.openers.items()):
        row = rows[index]
        if row.get("followup") in NOT_OPENERS or row.get("polarity") != "neg":
            report.bad_openers += 1
            report.misses.append({"kind": "opened_by", "incident": incident, "id": row.get("id"),
                                  "followup": row.get("followup"), "polarity": row.get("polarity"),
                                  "text": str(row.get("text", ""))[:80]})

    # Grades per event.
    gold_grades = {str(r["event"]): str(r["grade"]) for r in rows if r.get("event") and r.get("grade")}
    for event, gold_grade in sorted(gold_grades.items()):
        report.graded_events += 1
        target = event_incident.get(event)
        got = result.grades.get(target) if target is not None else None
        want = Grade(gold_grade).rank
        if event in severe_events:
            report.severe_events += 1
            report.severe_events_high += int(got is not None and Grade(got).rank >= Grade.ORANGE.rank)
        if got is None:
            report.misses.append({"kind": "grade", "event": event, "gold": gold_grade, "predicted": None})
            continue
        diff = Grade(got).rank - want
        report.grade_exact += int(diff == 0)
        report.grade_within_one += int(abs(diff) <= 1)
        report.grade_over_two += int(diff >= 2)
        if diff:
            report.misses.append({"kind": "grade", "event": event, "gold": gold_grade, "predicted": got,
                                  "incident": target, "reasons": result.reasons.get(int(target or 0), [])[1:]})
    return report


def format_incident_report(report: IncidentReport) -> str:
    """Human-readable incident figures, then the misses by kind."""
    f = report.figures()
    lines = ["incidents (import + process in published-time order)",
             f"severe recall       {f['severe_recall']:.3f}  ({report.severe_right}/{report.severe_total} severe posts "
             f"relevant and negative); severe events graded ≥ 重大 {report.severe_events_high}/{report.severe_events}",
             f"B-cubed             P {f['bcubed_precision']:.3f}  R {f['bcubed_recall']:.3f}  "
             f"F1 {f['bcubed_f1']:.3f}  ({report.incidents} incidents)",
             f"follow-ups attached {f['followups_attached']:.3f}  ({report.followups_attached}/{report.followups})",
             f"opened by follow-up {report.bad_openers}  (incidents whose first post is praise, an official reply "
             f"or not negative)",
             f"grade agreement     exact {f['grade_exact']:.3f}, within one level {f['grade_within_one']:.3f} "
             f"({report.graded_events} events); over by two or more: {report.grade_over_two}"]
    lines.append(f"incident misses ({len(report.misses)}):")
    for miss in report.misses:
        lines.append("  " + " ".join(f"{k}={v}" for k, v in miss.items()))
    return "\n".join(lines)
