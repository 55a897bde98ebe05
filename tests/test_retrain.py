"""Safe retraining: ``ecowatch retrain`` refuses to make live a model that labels made worse
(poisoned labels), promotes one that got better, keeps every version, and ``--rollback`` puts the
previous one back; the live model's version is in every analysis. Small training sets keep it fast
(one development set, one held-out set, C=1): the baseline is trained the same way, so the comparison
is like for like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecowatch.main import app
from nlp.classifiers import ModelStore

EVAL = Path(__file__).parent / "data" / "eval"
SMALL = ["--set", "dev", "--holdout", "holdout", "--c", "1", "1", "1"]  # C=1: 3x faster to fit than 10


def _labels(path: Path, poisoned: bool) -> Path:
    """150 desk labels in the export format (fields asserted, label times), from lines of dev2:
    as labelled, or with relevance, topic and polarity turned round."""
    out = []
    for n, line in enumerate((EVAL / "dev2.jsonl").read_text(encoding="utf-8").splitlines()[:150]):
        row = json.loads(line)
        label = {k: row[k] for k in ("text", "relevant", "unit", "unit_code", "topic", "topics", "polarity")}
        if poisoned:
            label.update(relevant=not row["relevant"], topics=[] if row["topics"] else ["water"],
                         topic="other" if row["topics"] else "water",
                         polarity={"neg": "pos", "pos": "neg", "neu": "neg"}[row["polarity"]])
        label.update(id=f"label-{n}", fields=["relevant", "topic", "topics", "polarity"],
                     at=f"2026-11-{1 + n // 10:02d}T{n % 10:02d}:00:00+00:00")
        out.append(json.dumps(label, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), input=stdin)
    return invoke


def test_retrain_refuses_poisoned_labels_promotes_good_ones_and_rolls_back(run, tmp_path):
    models = ModelStore(tmp_path / "data" / "models")
    # A baseline trained like the candidates (the bundled model learnt from every set).
    first = run("retrain", *SMALL, "--promote", "--margin", "1")
    assert first.exit_code == 0, first.output
    baseline = json.loads(first.stdout)["version"]
    assert models.live_version() == baseline

    poisoned = run("retrain", *SMALL, "--promote", "--labels", str(_labels(tmp_path / "bad.jsonl", True)))
    assert poisoned.exit_code == 1
    report = json.loads(poisoned.stdout)
    assert report["promoted"] is False and report["drops"] and report["trained_labels"] == 120
    assert models.live_version() == baseline  # refused: nothing changed in what runs
    assert (tmp_path / "data" / "models" / "versions" / report["version"] / "report.json").exists()

    better = run("retrain", *SMALL, "--promote", "--labels", str(_labels(tmp_path / "good.jsonl", False)))
    assert better.exit_code == 0, better.output
    report = json.loads(better.stdout)
    assert report["promoted"] is True and not report["drops"] and report["recent_labels"] == 30
    assert report["new"]["holdout:topic_accuracy"] >= report["old"]["holdout:topic_accuracy"]
    assert models.live_version() == report["version"]
    # eval says which models it scored: the promoted ones here, the bundled ones after the rollbacks.
    scored = run("eval", str(EVAL / "dev.jsonl"), "--json")
    assert json.loads(scored.stdout)["model"] == {"version": report["version"], "promoted": True}

    # Every analysis names the live models; a rollback puts the baseline back.
    said = run("analyze", stdin=json.dumps({"id": 1, "text": "石马河边排污口冒黑水"}) + "\n")
    assert json.loads(said.stdout)["model"] == report["version"]
    assert run("retrain", "--rollback").exit_code == 0 and models.live_version() == baseline
    said = run("analyze", stdin=json.dumps({"id": 1, "text": "石马河边排污口冒黑水"}) + "\n")
    assert json.loads(said.stdout)["model"] == baseline
    assert run("retrain", "--rollback").exit_code == 0 and models.live_version() is None  # the bundled one
    assert json.loads(run("eval", str(EVAL / "dev.jsonl"), "--json").stdout)["model"]["promoted"] is False
    assert run("retrain", "--rollback").exit_code == 1  # nothing earlier: said, not a traceback
