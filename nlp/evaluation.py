"""Scoring the analyser against labelled lines: the figures behind ``ecowatch eval``.

Pure: takes gold records and predicted analyses, returns numbers and a list of misses. Reading
files and printing belong to the CLI.

How each figure is counted (also in docs/analysis.md):

- relevance F1: positive class = ``relevant`` true, over every line.
- unit accuracy: over relevant gold lines whose gold ``unit_code`` is not null; a prediction is
  right when its ``unit_code`` equals the gold one (a post predicted not relevant has no unit, so
  it counts as a miss).
- topic accuracy: over relevant gold lines; the predicted main topic (first of ``topics``,
  "other" when empty) must be one of the gold ``topics`` (multi-label posts: any gold label counts
  as right for the main one, since a post about "烧垃圾冒黑烟" is both waste and air). The strict
  figure (predicted main == gold ``topic``) is reported next to it.
- negative-class F1 and polarity macro-F1: over every line, two classes (neg vs not-neg); macro-F1
  is the mean of the F1 of each class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Counts:
    """True/false positives and false negatives of one class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, pred: bool) -> None:
        """Count one decision."""
        if gold and pred:
            self.tp += 1
        elif pred:
            self.fp += 1
        elif gold:
            self.fn += 1

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Miss:
    """One line where a prediction disagreed with the gold label."""

    id: Any
    field: str  # relevant | unit | topic | polarity
    gold: Any
    predicted: Any
    text: str
    hard_case: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "field": self.field, "gold": self.gold, "predicted": self.predicted,
                "hard_case": self.hard_case, "text": self.text}


@dataclass(slots=True)
class Report:
    """All figures of one evaluation run."""

    lines: int = 0
    relevance: Counts = field(default_factory=Counts)
    unit_total: int = 0
    unit_right: int = 0
    topic_total: int = 0
    topic_right: int = 0
    topic_strict_right: int = 0
    negative: Counts = field(default_factory=Counts)
    not_negative: Counts = field(default_factory=Counts)
    misses: list[Miss] = field(default_factory=list)
    by_hard_case: dict[str, list[int]] = field(default_factory=dict)  # case → [right, total]

    @property
    def unit_accuracy(self) -> float:
        """Share of relevant, placed gold lines whose unit was found."""
        return self.unit_right / self.unit_total if self.unit_total else 1.0

    @property
    def topic_accuracy(self) -> float:
        """Share of relevant gold lines whose predicted main topic is one of the gold topics."""
        return self.topic_right / self.topic_total if self.topic_total else 1.0

    @property
    def topic_strict_accuracy(self) -> float:
        """Share of relevant gold lines whose predicted main topic equals the gold main topic."""
        return self.topic_strict_right / self.topic_total if self.topic_total else 1.0

    @property
    def polarity_macro_f1(self) -> float:
        """Mean F1 of the two classes negative / not negative."""
        return (self.negative.f1 + self.not_negative.f1) / 2

    def figures(self) -> dict[str, float]:
        """The headline numbers, rounded."""
        return {
            "relevance_f1": round(self.relevance.f1, 4),
            "relevance_precision": round(self.relevance.precision, 4),
            "relevance_recall": round(self.relevance.recall, 4),
            "unit_accuracy": round(self.unit_accuracy, 4),
            "topic_accuracy": round(self.topic_accuracy, 4),
            "topic_strict_accuracy": round(self.topic_strict_accuracy, 4),
            "negative_f1": round(self.negative.f1, 4),
            "polarity_macro_f1": round(self.polarity_macro_f1, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts, figures, per-hard-case accuracy and misses."""
        return {
            "lines": self.lines,
            "figures": self.figures(),
            "counts": {"unit": [self.unit_right, self.unit_total], "topic": [self.topic_right, self.topic_total],
                       "relevance": {"tp": self.relevance.tp, "fp": self.relevance.fp, "fn": self.relevance.fn},
                       "negative": {"tp": self.negative.tp, "fp": self.negative.fp, "fn": self.negative.fn}},
            "hard_cases": {k: {"right": v[0], "total": v[1]} for k, v in sorted(self.by_hard_case.items())},
            "misses": [m.to_dict() for m in self.misses],
        }


def _main_topic(topics: Iterable[str] | None) -> str:
    topics = list(topics or [])
    return topics[0] if topics else "other"


def score(gold: Iterable[Mapping[str, Any]], predicted: Iterable[Mapping[str, Any]]) -> Report:
    """Score predictions (``ecowatch analyze`` contract dicts) against gold lines, pairwise in order."""
    report = Report()
    for g, p in zip(gold, predicted, strict=True):
        report.lines += 1
        text = str(g.get("text", ""))
        hard = g.get("hard_case")
        ok = True

        def miss(name: str, gold_value: Any, pred_value: Any, _g: Mapping[str, Any] = g, _t: str = text,
                 _h: Any = hard) -> None:
            report.misses.append(Miss(_g.get("id"), name, gold_value, pred_value, _t, _h))

        gold_rel, pred_rel = bool(g.get("relevant")), bool(p.get("relevant"))
        report.relevance.add(gold_rel, pred_rel)
        if gold_rel != pred_rel:
            ok = False
            miss("relevant", gold_rel, pred_rel)
        if gold_rel:
            if g.get("unit_code"):
                report.unit_total += 1
                if p.get("unit_code") == g["unit_code"]:
                    report.unit_right += 1
                else:
                    ok = False
                    miss("unit", g.get("unit"), p.get("unit"))
            report.topic_total += 1
            gold_topics = set(g.get("topics") or []) | {g.get("topic") or "other"}
            main = _main_topic(p.get("topics"))
            if main in gold_topics:
                report.topic_right += 1
            else:
                ok = False
                miss("topic", g.get("topic"), main)
            if main == (g.get("topic") or "other"):
                report.topic_strict_right += 1
        gold_neg, pred_neg = g.get("polarity") == "neg", p.get("polarity") == "neg"
        report.negative.add(gold_neg, pred_neg)
        report.not_negative.add(not gold_neg, not pred_neg)
        if gold_neg != pred_neg:
            ok = False
            miss("polarity", g.get("polarity"), p.get("polarity"))
        if hard:
            tally = report.by_hard_case.setdefault(str(hard), [0, 0])
            tally[0] += ok
            tally[1] += 1
    return report


def format_report(report: Report, name: str = "", max_misses: int | None = None) -> str:
    """Human-readable report: figures, per-hard-case tallies, then the confusion list of misses."""
    f = report.figures()
    lines = [f"{name} ({report.lines} lines)" if name else f"{report.lines} lines",
             f"relevance F1        {f['relevance_f1']:.3f}  (P {f['relevance_precision']:.3f}, "
             f"R {f['relevance_recall']:.3f})",
             f"unit accuracy       {f['unit_accuracy']:.3f}  ({report.unit_right}/{report.unit_total} relevant "
             f"posts with a gold unit)",
             f"topic accuracy      {f['topic_accuracy']:.3f}  ({report.topic_right}/{report.topic_total}; main "
             f"topic in gold topics; strict main==main {f['topic_strict_accuracy']:.3f})",
             f"negative F1         {f['negative_f1']:.3f}",
             f"polarity macro-F1   {f['polarity_macro_f1']:.3f}  (neg vs not-neg)"]
    if report.by_hard_case:
        lines.append("hard cases (all fields right / total):")
        for case, (right, total) in sorted(report.by_hard_case.items()):
            lines.append(f"  {case:<18} {right}/{total}")
    misses = report.misses if max_misses is None else report.misses[:max_misses]
    lines.append(f"misses ({len(report.misses)}):")
    for m in misses:
        lines.append(f"  {m.id} {m.field}: gold={m.gold} predicted={m.predicted} [{m.hard_case or '-'}] "
                     f"{m.text[:60]}")
    if len(misses) < len(report.misses):
        lines.append(f"  ... {len(report.misses) - len(misses)} more (--json for all)")
    return "\n".join(lines)
