"""Small linear classifiers (environmental?, main topic, polarity) over char n-grams + lexicon cues.

Why: the lexicons alone are fitted to the words of one development set; char n-grams generalise to
words the lexicons lack (光杆杆, 冲压, 四氯乙烯) and learn which lexicon hits are slang (态度太垃圾).
The lexicon outputs are features too, so the model learns how far to trust each rule.

Training (scikit-learn logistic regression, cross-validated) lives in ``tools/train_classifiers.py``;
this module only reads the exported weights (``models/classifiers.json``) and scores in pure
Python, so the analyser needs no scikit-learn at run time. ``features`` is shared by training and
scoring, so both see exactly the same inputs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL = Path(__file__).parent / "models" / "classifiers.json"
NGRAMS = (1, 2, 3)
# Lexicon topic scores are capped: past a few hits more words say nothing new.
_TOPIC_CAP = 6.0
_CUE_CAP = 3


def features(text: str, topic_scores: Mapping[str, float], cue_counts: Mapping[str, int],
             bayes_prob: float, rule_polarity: str) -> dict[str, float]:
    """The feature dict of one text.

    - ``c:<gram>``: char 1–3-grams present, each worth 1/sqrt(number of distinct grams), so long
      and short posts weigh alike (an L2-normalised binary bag);
    - ``t:<topic>``: lexicon topic score / 2, capped; ``t:none`` when the lexicon saw no topic;
    - ``s:<cue>``: sentiment cue and frame counts, capped; ``s:prob``: Bayes probability - 0.5;
    - ``r:<polarity>``: what the cue rules alone decided.
    """
    grams: set[str] = set()
    squeezed = "".join(text.split())
    for n in NGRAMS:
        grams.update(squeezed[i:i + n] for i in range(len(squeezed) - n + 1))
    value = 1.0 / math.sqrt(len(grams)) if grams else 0.0
    feats = {f"c:{g}": value for g in grams}
    any_topic = False
    for topic, score in topic_scores.items():
        if score > 0:
            feats[f"t:{topic.rstrip('!')}"] = min(score, _TOPIC_CAP) / 2
            any_topic = True
    if not any_topic:
        feats["t:none"] = 1.0
    for cue, count in cue_counts.items():
        if count:
            feats[f"s:{cue}"] = float(min(count, _CUE_CAP))
    feats["s:prob"] = bayes_prob - 0.5
    feats[f"r:{rule_polarity}"] = 1.0
    return feats


@dataclass(slots=True)
class LinearModel:
    """One exported logistic regression: classes, intercepts, feature → per-class weights.

    Binary models store one weight per feature (for ``classes[1]``), like scikit-learn's ``coef_``.
    """

    classes: list[Any]
    intercept: list[float]
    weights: dict[str, list[float]]
    threshold: float = 0.5  # binary only: probability of classes[1] needed to pick it

    def decision(self, feats: Mapping[str, float]) -> list[float]:
        """Raw linear scores (one for binary models, one per class otherwise)."""
        scores = list(self.intercept)
        for name, value in feats.items():
            w = self.weights.get(name)
            if w is not None:
                for i, wi in enumerate(w):
                    scores[i] += wi * value
        return scores

    def probabilities(self, feats: Mapping[str, float]) -> dict[Any, float]:
        """Class probabilities (sigmoid for binary, softmax otherwise)."""
        scores = self.decision(feats)
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + math.exp(-scores[0]))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def predict(self, feats: Mapping[str, float]) -> Any:
        """The predicted class."""
        probs = self.probabilities(feats)
        if len(self.classes) == 2:
            return self.classes[1] if probs[self.classes[1]] >= self.threshold else self.classes[0]
        return max(self.classes, key=lambda c: probs[c])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"classes": self.classes, "intercept": self.intercept, "threshold": self.threshold,
                "weights": self.weights}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearModel:
        """Inverse of ``to_dict``."""
        return cls(list(data["classes"]), [float(x) for x in data["intercept"]],
                   {k: [float(x) for x in v] for k, v in data["weights"].items()},
                   float(data.get("threshold", 0.5)))


@dataclass(slots=True)
class Classifiers:
    """The three models the analyser uses: ``environmental`` (bool), ``topic`` (main topic), ``polarity``."""

    environmental: LinearModel
    topic: LinearModel
    polarity: LinearModel

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"version": 1, "features": "char 1-3 grams + lexicon cues (nlp/classifiers.py)",
                "models": {"environmental": self.environmental.to_dict(), "topic": self.topic.to_dict(),
                           "polarity": self.polarity.to_dict()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Classifiers:
        """Inverse of ``to_dict``."""
        m = data["models"]
        return cls(LinearModel.from_dict(m["environmental"]), LinearModel.from_dict(m["topic"]),
                   LinearModel.from_dict(m["polarity"]))

    @classmethod
    def load(cls, path: Path = MODEL) -> Classifiers | None:
        """Read exported weights; None when the file is absent (the analyser then uses rules only)."""
        if not path.exists():
            return None
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
