"""``ecowatch eval``, the scoring module, the sentiment model and the near-duplicate index."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.bayes import NaiveBayes, features
from nlp.evaluation import score
from nlp.reposts import clean
from tests.near_duplicates import NearDuplicateIndex

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "data" / "eval"


def _gold(**kw):
    base = {"id": "x", "text": "t", "relevant": True, "unit_code": "1", "topic": "air", "topics": ["air"],
            "polarity": "neg"}
    return base | kw


def test_scoring_counts_each_figure():
    gold = [_gold(id=1), _gold(id=2, topics=["waste", "air"], topic="waste"), _gold(id=3, relevant=False,
            unit_code=None, polarity="neu"), _gold(id=4, unit_code=None, polarity="pos")]
    pred = [{"relevant": True, "unit_code": "1", "topics": ["air"], "polarity": "neg"},
            {"relevant": True, "unit_code": "2", "topics": ["air"], "polarity": "neu"},  # wrong unit, neg missed
            {"relevant": True, "unit_code": "1", "topics": ["water"], "polarity": "neu"},  # false relevant
            {"relevant": True, "unit_code": None, "topics": ["noise"], "polarity": "pos"}]  # wrong topic
    report = score(gold, pred)
    f = report.figures()
    assert (report.unit_right, report.unit_total) == (1, 2)  # line 4 has no gold unit: not counted
    assert (report.topic_right, report.topic_total) == (2, 3)  # "air" is one of line 2's gold topics
    assert report.topic_strict_right == 1
    assert f["relevance_precision"] == 0.75 and f["relevance_recall"] == 1.0
    assert f["negative_f1"] == pytest.approx(2 / 3, abs=1e-3)  # tp 1, fn 1
    assert {(m.id, m.field) for m in report.misses} == {(2, "unit"), (2, "polarity"), (3, "relevant"), (4, "topic")}


def _run(args):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=env, cwd=ROOT)


def test_eval_command_prints_every_metric_and_the_misses(tmp_path):
    lines = [json.loads(x) for x in (EVAL / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:40]]
    lines[0]["relevant"] = not lines[0]["relevant"]  # a sure miss
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    proc = _run(["eval", str(sample)])
    assert proc.returncode == 0, proc.stderr
    for label in ("relevance F1", "unit accuracy", "topic accuracy", "negative F1", "polarity macro-F1", "misses"):
        assert label in proc.stdout
    assert f"{lines[0]['id']} relevant:" in proc.stdout
    machine = json.loads(_run(["eval", str(sample), "--json"]).stdout)
    assert machine["lines"] == 40
    assert set(machine["figures"]) >= {"relevance_f1", "unit_accuracy", "topic_accuracy", "negative_f1",
                                       "polarity_macro_f1"}
    assert any(m["id"] == lines[0]["id"] and m["field"] == "relevant" for m in machine["misses"])


def test_eval_command_rejects_a_bad_line_clearly(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "relevant": true}\n{oops\n', encoding="utf-8")
    proc = _run(["eval", str(bad)])
    assert proc.returncode != 0 and "bad.jsonl:2" in proc.stderr


def test_training_code_never_reads_the_eval_sets():
    """The sentiment trainer's sources are public sets only; it names no file under tests/."""
    source = (ROOT / "tools" / "train_sentiment.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    strings = [n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]
    assert not any("holdout" in s or "dev.jsonl" in s or "tests/" in s for s in strings)
    sys.path.insert(0, str(ROOT / "tools"))
    import train_sentiment

    for _name, rel in [*train_sentiment.WEIBO_SETS, *train_sentiment.REVIEW_SETS]:
        assert rel.startswith("sentiment/")
    assert all(rel.startswith("complaints/") for rel in train_sentiment.COMPLAINT_FILES)


def test_no_eval_text_is_in_the_training_data():
    data = ROOT.parent / "shared" / "data"
    if not (data / "sentiment").is_dir():
        pytest.skip("public training data not present")
    sys.path.insert(0, str(ROOT / "tools"))
    import train_sentiment

    trained = {text.strip() for _n, text, _l in train_sentiment.read_sets(data)}
    for path in sorted(EVAL.glob("*.jsonl")):
        texts = {json.loads(x)["text"].strip() for x in path.read_text(encoding="utf-8").splitlines()}
        assert not texts & trained, path.name


def test_bundled_model_matches_snownlp_bayes(tmp_path):
    """The fast reader gives snownlp's own probabilities on the bundled model."""
    from snownlp.classification.bayes import Bayes

    model = ROOT / "nlp" / "models" / "sentiment.marshal"
    assert model.stat().st_size < 1_000_000  # keep the package small
    (tmp_path / "m.3").write_bytes(model.read_bytes())  # snownlp appends ".3" on Python 3
    reference = Bayes()
    reference.load(str(tmp_path / "m"))
    ours = NaiveBayes.load(model)
    for tokens in (["臭", "受不了", "投诉"], ["感谢", "点赞", "干净"], ["江北区", "今天"]):
        label, prob = reference.classify(features(tokens))
        expected = prob if label == "pos" else 1 - prob
        assert ours.probability(features(tokens)) == pytest.approx(expected, abs=1e-9)
    assert ours.probability(["臭死了", "受不了", "投诉"]) < 0.5 < ours.probability(["感谢", "点赞", "开心"])


STORY = ("江北区石马河街道鲜花港社区后面的山坡，最近有人在私自挖山砍树，好多树都被推倒了，"
         "山体已经挖出一个大缺口。请林业和规划部门核查。")


def test_near_duplicates_find_reposts_and_light_edits_not_other_posts(analyzer):
    def tokens(text: str) -> list[str]:
        return analyzer.segmenter.cut(clean(text))

    index = NearDuplicateIndex(threshold=0.5)
    index.add("original", tokens(STORY))
    index.add("other", tokens("五里店街道莺花厢社区楼下餐馆油烟直排，熏得窗户都不敢开，投诉几次都没用"))
    repost = "转发微博 //@江北热心市民: 太过分了 " + STORY + " http://t.cn/abc"
    edited = STORY.replace("好多树", "很多树").replace("请林业和规划部门核查。", "希望有关部门来看看")
    same_matter = "石马河街道鲜花港社区后面的山坡上有人在私自砍树，已经砍了一大片，请林业部门管一管"
    assert [k for k, _ in index.query(tokens(repost))] == ["original"]
    assert [k for k, _ in index.query(tokens(edited))] == ["original"]
    assert index.query(tokens(same_matter)) == []  # a new post on the same matter is not a copy
    assert index.add_or_match("copy", tokens(repost)) == "original"
    assert "copy" not in index and len(index) == 2
    assert clean(repost).startswith("太过分了 江北区石马河街道")  # the title an incident gets


def test_near_duplicate_threshold_is_validated():
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=1.5)


def _eval_sets() -> dict[str, list[dict]]:
    return {p.stem: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
            for p in sorted(EVAL.glob("*.jsonl"))}


def test_every_labelled_line_follows_the_labelling_guide():
    """tests/data/eval/LABELLING.md: fields, unit codes of real streets/towns, topic order."""
    from core.jurisdiction import load_jurisdiction

    units = {u.code: u.name for u in load_jurisdiction("jiangbei").units.values()}
    topics = {"water", "air", "noise", "waste", "soil", "ecology", "other"}
    sets = _eval_sets()
    assert {"dev", "dev2", "dev3", "dev4", "dev5", "holdout", "holdout2"} <= sets.keys()
    for name, rows in sets.items():
        assert len({r["id"] for r in rows}) == len(rows), name
        for r in rows:
            where = f"{name}:{r['id']}"
            assert r["polarity"] in {"neg", "neu", "pos"} and set(r["topics"]) <= topics, where
            assert (r["unit_code"] is None) == (r["unit"] is None), where
            if r["unit_code"] is not None:
                assert r["relevant"] and units[r["unit_code"]] == r["unit"], where
            if r["topics"]:
                assert r["topic"] == r["topics"][0], where
            assert not r["relevant"] or r["topics"], where  # relevant means environmental


def test_held_out_texts_appear_in_no_development_set():
    """A held-out line copied (or lightly edited) into a training set would make its figures a lie."""

    def grams(text: str) -> list[str]:  # char bigrams: a light edit keeps most of them
        return [text[i:i + 2] for i in range(len(text) - 1)]

    sets = _eval_sets()
    index = NearDuplicateIndex(threshold=0.8)
    for name, rows in sets.items():
        if "holdout" not in name:
            for r in rows:
                index.add(f"{name}:{r['id']}", grams(r["text"]))
    held_out = [name for name in sets if "holdout" in name]
    assert {"holdout", "holdout2", "holdout3", "holdout4", "holdout5", "incidents_holdout4", "incidents_holdout5",
            "incidents_holdout6", "incidents_holdout7"} <= set(held_out)
    for name in held_out:
        copies = [(r["id"], index.query(grams(r["text"]))) for r in sets[name]]
        assert not [c for c in copies if c[1]], name
