"""Small linear classifiers (environmental?, main topic, polarity) over char n-grams + lexicon cues.

Why: the lexicons alone are fitted to the words of one development set; char n-grams generalise to
words the lexicons lack (光杆杆, 冲压, 四氯乙烯) and learn which lexicon hits are slang (态度太垃圾).
The lexicon outputs are features too, so the model learns how far to trust each rule.

Training (scikit-learn logistic regression, cross-validated) lives in ``tools/train_classifiers.py``;
this module only reads the exported weights (``models/classifiers.json.gz``) and scores in pure
Python, so the analyser needs no scikit-learn at run time. ``features`` is shared by training and
scoring, so both see exactly the same inputs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import add
from pathlib import Path
from typing import Any

import numpy as np

MODEL = Path(__file__).parent / "models" / "classifiers.json.gz"  # gzip: 2 MB of JSON is ~0.4 MB
MODEL_FILE = MODEL.name
RULES_ONLY = "rules"  # the version an analysis names when no trained model took part
# Lexicon topic scores are capped: past a few hits more words say nothing new.
_TOPIC_CAP = 6.0
_CUE_CAP = 3


def char_grams(text: str) -> tuple[set[str], float]:
    """The distinct char 1–3-grams of a text (whitespace squeezed out) and the value each is worth:
    1/sqrt(number of grams), so long and short posts weigh alike (an L2-normalised binary bag)."""
    squeezed = "".join(text.split())
    # map(add, ...) builds the 2- and 3-grams in C: ~25 % faster than slicing in a generator.
    bigrams = list(map(add, squeezed, squeezed[1:]))
    grams = set(squeezed)
    grams.update(bigrams)
    grams.update(map(add, bigrams, squeezed[2:]))
    return grams, (1.0 / math.sqrt(len(grams)) if grams else 0.0)


def cue_features(topic_scores: Mapping[str, float], cue_counts: Mapping[str, int], bayes_prob: float,
                 rule_polarity: str) -> dict[str, float]:
    """The features from the lexicons and cue rules (everything but the char grams)."""
    feats: dict[str, float] = {}
    for topic, score in topic_scores.items():
        if score > 0:
            feats[f"t:{topic.rstrip('!')}"] = min(score, _TOPIC_CAP) / 2
    if not feats:
        feats["t:none"] = 1.0
    for cue, count in cue_counts.items():
        if count:
            feats[f"s:{cue}"] = float(min(count, _CUE_CAP))
    feats["s:prob"] = bayes_prob - 0.5
    feats[f"r:{rule_polarity}"] = 1.0
    return feats


def features(text: str, topic_scores: Mapping[str, float], cue_counts: Mapping[str, int],
             bayes_prob: float, rule_polarity: str) -> dict[str, float]:
    """The feature dict of one text (what training sees).

    - ``c:<gram>``: char 1–3-grams present (``char_grams``);
    - ``t:<topic>``: lexicon topic score / 2, capped; ``t:none`` when the lexicon saw no topic;
    - ``s:<cue>``: sentiment cue and frame counts, capped; ``s:prob``: Bayes probability - 0.5;
    - ``r:<polarity>``: what the cue rules alone decided.
    """
    grams, value = char_grams(text)
    feats = {f"c:{g}": value for g in grams}
    feats.update(cue_features(topic_scores, cue_counts, bayes_prob, rule_polarity))
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


@dataclass(slots=True, frozen=True)
class Prediction:
    """What the three models say about one text."""

    environmental: bool
    topic: Any
    polarity: Any


class _Table:
    """The three models' weights as one matrix, so scoring a text is one gather and one sum.

    Why: scoring the models feature by feature in Python took about a quarter of ``analyze``
    (profiled: ~150 grams x 3 models of dict lookups and list additions per text). Each feature
    has one row holding every model's weights side by side; char grams are keyed without their
    ``c:`` prefix so the text's grams are looked up as they are.
    """

    def __init__(self, models: tuple[LinearModel, ...]) -> None:
        self.models = models
        self.widths = [len(m.intercept) for m in models]
        self.offsets = [sum(self.widths[:i]) for i in range(len(models))]
        names = sorted({name for m in models for name in m.weights})
        weights = np.zeros((len(names) + 1, sum(self.widths)))  # last row: zeros, for padding
        for row, name in enumerate(names):
            for m, offset, width in zip(models, self.offsets, self.widths, strict=True):
                w = m.weights.get(name)
                if w is not None:
                    weights[row, offset:offset + width] = w
        self.weights = weights
        self.intercept = np.concatenate([np.asarray(m.intercept, dtype=float) for m in models])
        self.grams = {name[2:]: row for row, name in enumerate(names) if name.startswith("c:")}
        self.others = {name: row for row, name in enumerate(names) if not name.startswith("c:")}

    def scores(self, grams: set[str], value: float, others: Mapping[str, float]) -> list[list[float]]:
        """Each model's raw linear scores (as ``LinearModel.decision``)."""
        rows = [r for r in map(self.grams.get, grams) if r is not None]
        total = self.intercept + value * self.weights[rows].sum(axis=0) if rows else self.intercept.copy()
        for name, v in others.items():
            r = self.others.get(name)
            if r is not None:
                total += v * self.weights[r]
        return [total[o:o + w].tolist() for o, w in zip(self.offsets, self.widths, strict=True)]


def _pick(model: LinearModel, scores: list[float]) -> Any:
    """The class a model's raw scores choose (as ``LinearModel.predict``)."""
    if len(model.classes) == 2:
        p = 1.0 / (1.0 + math.exp(-scores[0]))
        return model.classes[1] if p >= model.threshold else model.classes[0]
    return model.classes[max(range(len(scores)), key=scores.__getitem__)]


@dataclass(slots=True)
class Classifiers:
    """The three models the analyser uses: ``environmental`` (bool), ``topic`` (main topic), ``polarity``."""

    environmental: LinearModel
    topic: LinearModel
    polarity: LinearModel
    # Which weights these are (``model_version`` of the file they were read from): every analysis
    # names it, so an audit entry or a label says which models concluded what.
    version: str = field(default="", compare=False)
    _table: _Table | None = field(default=None, init=False, repr=False, compare=False)

    def predict(self, text: str, topic_scores: Mapping[str, float], cue_counts: Mapping[str, int],
                bayes_prob: float, rule_polarity: str) -> Prediction:
        """All three predictions for one text, from the same inputs as ``features``.

        Same answers as calling each model's ``predict`` on ``features(...)`` (a test checks it),
        several times faster."""
        if self._table is None:
            self._table = _Table((self.environmental, self.topic, self.polarity))
        grams, value = char_grams(text)
        env, topic, pol = self._table.scores(grams, value, cue_features(topic_scores, cue_counts, bayes_prob,
                                                                         rule_polarity))
        return Prediction(bool(_pick(self.environmental, env)), _pick(self.topic, topic), _pick(self.polarity, pol))

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
        stored = path.read_bytes()
        raw = gzip.decompress(stored) if stored[:2] == b"\x1f\x8b" else stored
        models = cls.from_dict(json.loads(raw.decode("utf-8")))
        models.version = model_version(raw)
        return models

    def save(self, path: Path = MODEL) -> str:
        """Write the weights (gzip-compressed JSON when the name ends in .gz; mtime 0 keeps the bytes
        reproducible, so retraining on the same data changes nothing in git); returns their version."""
        raw = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        path.write_bytes(gzip.compress(raw, 9, mtime=0) if path.suffix == ".gz" else raw)
        self.version = model_version(raw)
        return self.version


def model_version(raw: bytes) -> str:
    """The version of a model file: a digest of its weights (the same weights, the same version,
    wherever the file lies)."""
    return "clf-" + hashlib.sha1(raw).hexdigest()[:10]


class ModelStore:
    """A deployment's models, under its data folder (``Settings.models_dir``), never inside the
    installed package (an upgrade would overwrite them, and the package may be read-only):

    - ``versions/<version>/classifiers.json.gz`` and ``report.json``: every model ``ecowatch
      retrain`` made, with the figures it was judged by; none is ever deleted by ecowatch;
    - ``LIVE``: the version in use (absent: the model bundled with the package);
    - ``HISTORY``: the versions that were live before, oldest first (``--rollback`` goes back one).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _read(self, name: str) -> list[str]:
        path = self.root / name
        return path.read_text(encoding="utf-8").split() if path.exists() else []

    def _write(self, name: str, lines: list[str]) -> None:
        # Written aside and renamed: an analyser starting meanwhile reads the old or the new, whole.
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.{os.getpid()}"
        tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        tmp.replace(self.root / name)

    def live_version(self) -> str | None:
        """The version in use, or None for the bundled model."""
        live = self._read("LIVE")
        return live[0] if live else None

    def path_of(self, version: str | None) -> Path:
        """The model file of a version (the bundled one for None)."""
        return MODEL if version is None else self.root / "versions" / version / MODEL_FILE

    def live(self) -> Classifiers | None:
        """The models in use (the bundled ones until a version is promoted)."""
        return Classifiers.load(self.path_of(self.live_version()))

    def add(self, models: Classifiers, report: Mapping[str, Any]) -> str:
        """Keep a newly trained model beside the others, with its report; returns its version."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".new.{os.getpid()}{MODEL_FILE}"
        version = models.save(tmp)
        folder = self.root / "versions" / version
        folder.mkdir(parents=True, exist_ok=True)
        tmp.replace(folder / MODEL_FILE)
        (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        return version

    def promote(self, version: str) -> None:
        """Make a kept version live; the one live before goes on the history."""
        if not self.path_of(version).exists():
            raise FileNotFoundError(f"no model version {version} under {self.root}")
        current = self.live_version()
        self._write("HISTORY", [*self._read("HISTORY"), current or "bundled"])
        self._write("LIVE", [version])

    def rollback(self) -> str | None:
        """Put the previously live version back; returns it (None: the bundled model). Raises
        LookupError when nothing was ever promoted."""
        history = self._read("HISTORY")
        if not history:
            raise LookupError("no earlier model to roll back to")
        previous = history.pop()
        self._write("HISTORY", history)
        self._write("LIVE", [] if previous == "bundled" else [previous])
        return None if previous == "bundled" else previous
