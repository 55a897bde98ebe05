"""Training the analyser's classifiers, and retraining them safely on the duty desk's labels.

``fit_all`` is what ``tools/train_classifiers.py`` exports with; ``retrain`` is what ``ecowatch
retrain`` runs: the bundled development sets plus the exported labels (alerts.labelling) train
new models; they are judged against the live ones on the held-out sets (never trained on) and on
the most recent labels (kept out of training for that), and are good enough to go live only when
no figure drops by more than the margin. Needs scikit-learn (``pip install -e '.[train]'``),
imported only when training.

A label trains only the models whose field the desk asserted (its ``fields``): a 误报 "not about
the environment" teaches the environmental model, a 修正 of the topic the topic model; a 改派
teaches none of them (places are the gazetteer's business, not a learnt model's).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.analyzer import Analyzer
from nlp.classifiers import Classifiers, LinearModel
from nlp.evaluation import score

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "eval"
TRAINING_SETS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev10", "dev12", "dev14", "incidents_dev_a",
                 "incidents_dev_b")
# Sets written for one decision, which teach only its model: dev10 holds severe posts told without a
# topic word and their look-alikes (half accidents, half distractors), written for "is this about the
# environment". Its topics and polarities are of that skewed mix; taught to the topic and polarity
# models too (round 9, docs/analysis.md), they left dev11's severe recall where it was, raised its
# polarity macro-F1 (0.835 → 0.869) and moved ordinary complaints of the held-out sets the other way
# (sarcasm read as praise, a school question as a complaint).
# dev12 (round 10) is of the same kind: ill children told by their parents, a tanker's acid and an
# evacuation, deaths, a fire's comments, and their non-environmental look-alikes.
# dev14 (round 11) too: accident news and 通报 with people hurt, condolences, fire engines seen, a
# burned foot, and their look-alikes (traffic, a property protest, a home's gas, routine notices).
RELEVANCE_ONLY_SETS = ("dev10", "dev12", "dev14")
HOLDOUT_SETS = ("holdout", "holdout2")
MIN_DF = 2  # a char gram seen in one training line only is noise, and bloats the model file
DEFAULT_C = {"environmental": 10.0, "topic": 10.0, "polarity": 10.0}
MODELS = ("environmental", "topic", "polarity")
# Which asserted field (a label's ``fields``) teaches which model.
TEACHES = {"relevant": "environmental", "topics": "environmental", "topic": "topic", "polarity": "polarity"}
# The figures a promotion is judged by (nlp.evaluation.Report.figures).
JUDGED = ("relevance_f1", "unit_accuracy", "topic_accuracy", "negative_f1", "polarity_macro_f1")
DEFAULT_MARGIN = 0.02
DEFAULT_RECENT = 0.2


def read_sets(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Labelled lines of the given files, each tagged with its file stem."""
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["_set"] = path.stem
                rows.append(row)
    return rows


def teaches(row: Mapping[str, Any]) -> set[str]:
    """The models a line trains: all three for a line of a bundled set (fully labelled; only the
    environmental model for a set in ``RELEVANCE_ONLY_SETS``), only those of the asserted fields
    for a desk label. A 误报 "not in this jurisdiction" of an
    environmental post asserts no topic: it teaches the environmental model nothing either."""
    if row.get("_set") in RELEVANCE_ONLY_SETS:
        return {"environmental"}
    if "fields" not in row:
        return set(MODELS)
    asserted = set(row["fields"])
    out = {TEACHES[f] for f in asserted if f in TEACHES}
    if "environmental" in out and "topics" not in asserted and not row.get("relevant"):
        out.discard("environmental")  # not ours, but maybe environmental: nothing said about that
    return out


def fit(feats: list[dict[str, float]], labels: list[Any], c: float) -> LinearModel:
    """Logistic regression on the features seen in ≥ MIN_DF lines, exported to a LinearModel."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    df = Counter(k for f in feats for k in f)
    kept = [{k: v for k, v in f.items() if df[k] >= MIN_DF} for f in feats]
    vec = DictVectorizer()
    x = vec.fit_transform(kept)
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(x, labels)
    names = vec.get_feature_names_out()
    coef = clf.coef_
    weights = {}
    for j, name in enumerate(names):
        w = [round(float(coef[i, j]), 3) for i in range(coef.shape[0])]
        if any(abs(v) >= 1e-2 for v in w):  # smaller weights change no decision measurably
            weights[str(name)] = w
    classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
    return LinearModel(classes, [round(float(b), 5) for b in clf.intercept_], weights)


def fit_all(feats: list[dict[str, float]], rows: list[dict[str, Any]], cs: Mapping[str, float]) -> Classifiers:
    """Fit the three models, each on the lines that teach it (``teaches``)."""
    taught = [teaches(r) for r in rows]
    env = [i for i, t in enumerate(taught) if "environmental" in t]
    on_topic = [i for i, t in enumerate(taught) if "topic" in t and rows[i].get("topics")]
    pol = [i for i, t in enumerate(taught) if "polarity" in t]
    return Classifiers(
        fit([feats[i] for i in env], [bool(rows[i].get("topics")) for i in env], cs["environmental"]),
        fit([feats[i] for i in on_topic], [rows[i].get("topic") or "other" for i in on_topic], cs["topic"]),
        fit([feats[i] for i in pol], [rows[i]["polarity"] for i in pol], cs["polarity"]))


def predict(analyzer: Analyzer, models: Classifiers | None, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ecowatch analyze`` lines for the rows with these models (None: rules only)."""
    analyzer.classifiers = models
    return [analyzer.analyze(str(r["text"])).to_contract(r.get("id")) for r in rows]


def label_figures(rows: Sequence[Mapping[str, Any]], predicted: Sequence[Mapping[str, Any]]
                  ) -> tuple[dict[str, float], dict[str, int]]:
    """Accuracy on desk labels, each field over the lines whose label asserts it (the rest of a
    label line is the old analysis and proves nothing): relevance, unit, main topic, polarity;
    and how many lines each figure counts."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for g, p in zip(rows, predicted, strict=True):
        asserted = set(g.get("fields", ()))
        checks = {"relevant": bool(p.get("relevant")) == bool(g.get("relevant")),
                  "unit_code": p.get("unit_code") == g.get("unit_code"),
                  "topic": (p.get("topics") or ["other"])[0] == g.get("topic"),
                  "polarity": p.get("polarity") == g.get("polarity")}
        for name, ok in checks.items():
            if name in asserted and (name == "relevant" or g.get("relevant")):
                total[name] += 1
                right[name] += ok
    return ({f"labels_{name}_accuracy": round(right[name] / total[name], 4) for name in total},
            {f"labels_{name}_accuracy": total[name] for name in total})


@dataclass(slots=True)
class Judgement:
    """New models against the live ones: every figure of both, and what dropped beyond the margin."""

    old: dict[str, float] = field(default_factory=dict)
    new: dict[str, float] = field(default_factory=dict)
    margin: float = DEFAULT_MARGIN
    sizes: dict[str, int] = field(default_factory=dict)  # lines behind a label figure
    trained_lines: int = 0
    trained_labels: int = 0
    recent_labels: int = 0

    def allowed(self, figure: str) -> float:
        """How far ``figure`` may fall: the margin, or one line's worth on a figure over few
        labels (on 28 recent labels one line moves it by 0.036: one line is noise, not a trend)."""
        size = self.sizes.get(figure)
        return max(self.margin, 1 / size) if size else self.margin

    @property
    def drops(self) -> dict[str, float]:
        """Figures that fell by more than allowed (give or take the rounding to 4 places), by how much."""
        return {k: round(self.old[k] - self.new[k], 4) for k in self.new
                if k in self.old and self.old[k] - self.new[k] > self.allowed(k) + 1e-3}

    @property
    def promotable(self) -> bool:
        """No figure fell by more than the margin."""
        return not self.drops

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the report kept beside the model)."""
        return {"old": self.old, "new": self.new, "margin": self.margin, "label_lines": self.sizes,
                "drops": self.drops,
                "promotable": self.promotable, "trained_lines": self.trained_lines,
                "trained_labels": self.trained_labels, "recent_labels": self.recent_labels}


def split_recent(labels: Sequence[dict[str, Any]], share: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(older labels to train on, the most recent ``share`` of them to judge by), by label time."""
    ordered = sorted(labels, key=lambda r: str(r.get("at") or ""))
    held = math.ceil(len(ordered) * share) if len(ordered) >= 2 else 0
    return ordered[:len(ordered) - held], ordered[len(ordered) - held:]


def retrain(analyzer: Analyzer, live: Classifiers | None, labels: Sequence[dict[str, Any]], *,
            sets: Sequence[str] = TRAINING_SETS, holdouts: Sequence[str] = HOLDOUT_SETS,
            eval_dir: Path = EVAL_DIR, cs: Mapping[str, float] = DEFAULT_C, recent: float = DEFAULT_RECENT,
            margin: float = DEFAULT_MARGIN) -> tuple[Classifiers, Judgement]:
    """Train on the bundled ``sets`` plus the older labels; judge against ``live`` on each held-out
    set and on the recent labels. ``analyzer`` is used for features and scoring (its models are
    swapped; it is left with the new ones)."""
    missing = [name for name in (*sets, *holdouts) if not (eval_dir / f"{name}.jsonl").exists()]
    if missing:
        raise FileNotFoundError(f"labelled sets not found in {eval_dir}: {', '.join(missing)}")
    overlap = set(sets) & set(holdouts)
    if overlap:
        raise ValueError(f"a held-out set is never trained on: {', '.join(sorted(overlap))}")
    older, newest = split_recent(labels, recent)
    rows = read_sets(eval_dir / f"{name}.jsonl" for name in sets) + [dict(r) for r in older]
    analyzer.classifiers = None
    feats = [analyzer.features(str(r["text"])) for r in rows]
    models = fit_all(feats, rows, cs)
    judgement = Judgement(margin=margin, trained_lines=len(rows), trained_labels=len(older),
                          recent_labels=len(newest))
    for name in holdouts:
        gold = read_sets([eval_dir / f"{name}.jsonl"])
        for side, which in ((judgement.old, live), (judgement.new, models)):
            side.update({f"{name}:{k}": v for k, v in score(gold, predict(analyzer, which, gold)).figures().items()
                         if k in JUDGED})
    if newest:
        old, judgement.sizes = label_figures(newest, predict(analyzer, live, newest))
        judgement.old.update(old)
        judgement.new.update(label_figures(newest, predict(analyzer, models, newest))[0])
    analyzer.classifiers = models
    return models, judgement
