"""Train the analyser's linear classifiers on the development sets, choosing by cross-validation.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python tools/train_classifiers.py            # CV table, then writes nlp/models/classifiers.json.gz
    .venv/bin/python tools/train_classifiers.py --cv-only  # CV table only

Data: tests/data/eval/dev.jsonl ... dev6.jsonl and the incident development sets (incidents_dev_a/b)
(``nlp.training.TRAINING_SETS``), plus the duty desk's labels given with ``--labels`` (``ecowatch
labels export``). NEVER a held-out set (a test checks the list). ``ecowatch retrain`` is the safe
way to put labels to use in a deployment: it judges the new models before they go live.
Labels: ``environmental`` = the line has gold topics (other-江北 and other-district lines are
labelled with topics too, so the model learns "is this about the environment" apart from "is it
ours", which the place resolver decides); ``topic`` = gold main topic (lines with topics);
``polarity`` = gold neg / neu / pos.

Cross-validation: stratified k-fold over all dev sets; each fold's models are exported to the same
pure-Python form the analyser uses and the out-of-fold predictions are scored with
``nlp.evaluation.score`` (the ``ecowatch eval`` figures), for all lines and for each set. The
lexicons were tuned on dev only, so the dev2–dev4 rows are the out-of-sample ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.jurisdiction import load_jurisdiction  # noqa: E402
from nlp.analyzer import Analyzer  # noqa: E402
from nlp.classifiers import MODEL, Classifiers  # noqa: E402
from nlp.evaluation import score  # noqa: E402
from nlp.training import EVAL_DIR, TRAINING_SETS, fit_all, read_sets  # noqa: E402

C_GRID = (1.0, 3.0, 10.0)
SEED = 13


def cross_validate(analyzer: Analyzer, rows: list[dict[str, Any]], feats: list[dict[str, float]],
                   cs: dict[str, float], folds: int) -> list[dict[str, Any]]:
    """Out-of-fold ``analyze`` contract dicts for every line."""
    strata = [f"{r['polarity']}:{bool(r.get('topics'))}:{'fields' in r}" for r in rows]
    predicted: list[dict[str, Any]] = [{}] * len(rows)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(rows, strata):
        models = fit_all([feats[i] for i in train], [rows[i] for i in train], cs)
        analyzer.classifiers = models
        for i in test:
            predicted[i] = analyzer.analyze(rows[i]["text"]).to_contract(rows[i].get("id"))
    return predicted


def figures(rows: list[dict[str, Any]], predicted: list[dict[str, Any]], only: str | None = None) -> dict[str, float]:
    """``ecowatch eval`` figures over all lines, or over the lines of one set."""
    pairs = [(r, p) for r, p in zip(rows, predicted, strict=True) if only is None or r["_set"] == only]
    return score([r for r, _ in pairs], [p for _, p in pairs]).figures()


def main() -> None:
    """Cross-validate a C grid per model, print the table, fit on all lines and export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv-only", action="store_true", help="print CV figures, write nothing")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sets", nargs="+", choices=TRAINING_SETS, default=list(TRAINING_SETS),
                        help="train on these development sets only (default: all)")
    parser.add_argument("--out", type=Path, default=MODEL, help="where to write the model")
    parser.add_argument("--labels", type=Path, nargs="*", default=[],
                        help="the duty desk's labels (ecowatch labels export): trained on too, each only by "
                             "the models of the fields it asserts (nlp/training.py)")
    parser.add_argument("--only", nargs="+", choices=("environmental", "topic", "polarity"),
                        help="refit only these models and keep the others' weights from the shipped model "
                             "(round 10: dev12 teaches the environmental model; the topic and polarity models "
                             "refitted on the new signal features moved dev11's polarity, docs/analysis.md)")
    parser.add_argument("--c", nargs=3, type=float, metavar=("ENV", "TOPIC", "POLARITY"),
                        help="skip the C search and use these (the search is ~15 min on 2 busy cores)")
    args = parser.parse_args()
    rows = read_sets([EVAL_DIR / f"{name}.jsonl" for name in args.sets]) + read_sets(args.labels)
    analyzer = Analyzer(load_jurisdiction("jiangbei"), use_classifiers=False)
    feats = [analyzer.features(r["text"]) for r in rows]
    keys = ("relevance_f1", "unit_accuracy", "topic_accuracy", "negative_f1", "polarity_macro_f1")

    def show(label: str, predicted: list[dict[str, Any]]) -> None:
        for only in (None, *sorted({r["_set"] for r in rows})):
            f = figures(rows, predicted, only)
            print(f"{label:<38} {only or 'all':<9}", "  ".join(f"{f[k]:.3f}" for k in keys))

    print(f"{'':<38} {'lines':<9}", "  ".join(k.replace("_accuracy", "").replace("_f1", "") for k in keys))
    show("rules only (no classifiers)", [analyzer.analyze(r["text"]).to_contract(r.get("id")) for r in rows])
    # Choose C for each model in turn, the others held at 10.0, by the figure that model drives.
    target = {"environmental": "relevance_f1", "topic": "topic_accuracy", "polarity": "polarity_macro_f1"}
    cs = dict.fromkeys(target, 10.0)
    if args.c:
        cs = dict(zip(target, args.c, strict=True))
    for model, metric in ([] if args.c else target.items()):
        best: tuple[float, float] | None = None
        for c in C_GRID:
            trial = {**cs, model: c}
            predicted = cross_validate(analyzer, rows, feats, trial, args.folds)
            value = figures(rows, predicted)[metric]
            print(f"  {model} C={c:<5} CV {metric} = {value:.4f}")
            if best is None or value > best[0]:
                best = (value, c)
        assert best is not None
        cs[model] = best[1]
    predicted = cross_validate(analyzer, rows, feats, cs, args.folds)
    show(f"classifiers, {args.folds}-fold CV, C={cs}", predicted)
    if args.cv_only:
        return
    models = fit_all(feats, rows, cs)
    if args.only:
        shipped = Classifiers.load(MODEL)
        assert shipped is not None, f"--only needs the shipped model at {MODEL}"
        models = Classifiers(*(getattr(models if name in args.only else shipped, name)
                               for name in ("environmental", "topic", "polarity")))
    models.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB); C = {cs}")


if __name__ == "__main__":
    main()
