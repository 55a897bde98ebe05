"""The trained linear classifiers: feature extraction, pure-Python scoring, what they were trained on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nlp.analyzer import LONG_TEXT
from nlp.classifiers import MODEL, Classifiers, LinearModel, features

ROOT = Path(__file__).resolve().parents[1]


def test_features_are_normalised_char_grams_plus_lexicon_cues():
    feats = features("江北 臭水", {"water": 4.0, "air": 0.0}, {"neg": 5, "pos": 0}, 0.2, "neg")
    grams = {k for k in feats if k.startswith("c:")}
    # Whitespace is squeezed out: 江北臭水 has 4 + 3 + 2 distinct 1-3-grams.
    assert grams == {f"c:{g}" for g in ["江", "北", "臭", "水", "江北", "北臭", "臭水", "江北臭", "北臭水"]}
    assert all(math.isclose(feats[g], 1 / 3) for g in grams)
    assert feats["t:water"] == 2.0 and "t:air" not in feats and "t:none" not in feats
    assert feats["s:neg"] == 3.0 and "s:pos" not in feats  # capped, zero counts left out
    assert math.isclose(feats["s:prob"], -0.3) and feats["r:neg"] == 1.0
    assert features("", {}, {}, 0.5, "neu")["t:none"] == 1.0


def test_linear_model_scores_binary_and_multiclass():
    binary = LinearModel([False, True], [-1.0], {"a": [3.0]}, threshold=0.5)
    assert binary.predict({"a": 1.0}) is True
    assert binary.predict({"b": 1.0}) is False  # unknown features are ignored
    assert math.isclose(binary.probabilities({"a": 1.0})[True], 1 / (1 + math.exp(-2.0)))
    multi = LinearModel(["neg", "neu", "pos"], [0.0, 0.5, 0.0], {"good": [-1.0, 0.0, 2.0]})
    assert multi.predict({}) == "neu"
    assert multi.predict({"good": 1.0}) == "pos"
    assert math.isclose(sum(multi.probabilities({"good": 1.0}).values()), 1.0)


def test_round_trip_through_json():
    m = LinearModel(["a", "b", "c"], [0.1, 0.2, 0.3], {"x": [1.0, -1.0, 0.5]})
    models = Classifiers(LinearModel([False, True], [0.0], {"x": [1.0]}), m, m)
    again = Classifiers.from_dict(json.loads(json.dumps(models.to_dict())))
    assert again == models


def test_missing_model_file_means_rules_only(tmp_path):
    assert Classifiers.load(tmp_path / "absent.json") is None


def test_saved_models_read_back_gzipped_or_plain(tmp_path):
    m = LinearModel(["a", "b", "c"], [0.1, 0.2, 0.3], {"x": [1.0, -1.0, 0.5]})
    models = Classifiers(LinearModel([False, True], [0.0], {"x": [1.0]}), m, m)
    for name in ("m.json.gz", "m.json"):
        models.save(tmp_path / name)
        assert Classifiers.load(tmp_path / name) == models
    assert (tmp_path / "m.json.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_shipped_model_loads_and_was_trained_without_the_holdout():
    models = Classifiers.load(MODEL)
    assert models is not None
    assert set(models.topic.classes) <= {"water", "air", "noise", "waste", "soil", "ecology", "other"}
    assert set(models.polarity.classes) == {"neg", "neu", "pos"}
    source = (ROOT / "nlp" / "training.py").read_text(encoding="utf-8")
    sets = next(line for line in source.splitlines() if line.startswith("TRAINING_SETS ="))
    expected = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev10")
    assert all(f'"{name}"' in sets for name in expected) and "holdout" not in sets
    assert '"dev8"' not in sets  # round 7's check on real register: never trained on
    assert '"dev9"' not in sets and '"dev11"' not in sets  # rounds 8 and 9: scored only
    assert '"dev13"' not in source  # round 10: scored only
    assert '"dev15"' not in source and '"incidents_dev_l"' not in source  # round 11: scored only


@pytest.mark.parametrize("text", [
    # Written for this test (not in dev/dev2): 垃圾 as slang, loud fun, not environmental complaints.
    "观音桥那家火锅店的服务真的太垃圾了，等位两个小时",
    "五里店的密室逃脱音效太带劲了，尖叫了一晚上",
])
def test_slang_is_not_environmental(analyzer, text):
    assert not analyzer.analyze(text).relevant


def test_rules_only_mode_has_no_models():
    from core.jurisdiction import load_jurisdiction
    from nlp.analyzer import Analyzer

    rules = Analyzer(load_jurisdiction("jiangbei"), use_classifiers=False)
    assert rules.classifiers is None
    assert rules.analyze("鸿恩寺公园里的湖水发绿发臭").relevant


def test_models_never_turn_a_long_rule_complaint_into_praise(analyzer):
    always_pos = LinearModel(["neg", "neu", "pos"], [0.0, 0.0, 5.0], {})
    env = LinearModel([False, True], [5.0], {})
    topic = LinearModel(["air", "water"], [1.0, 0.0], {})
    saved = analyzer.classifiers
    # Written for this test: a long letter, as real complaint pages are (longer than LONG_TEXT).
    letter = ("尊敬的领导：我是观音桥街道建北社区的居民，楼下烧烤店的油烟扰民问题已经持续两年了。每天下午五点到"
              "凌晨两点，油烟直接从一楼的排风口往上冒，熏得整栋楼的住户不敢开窗，衣服晾在阳台上全是一股烧烤味。"
              "家里老人有慢性支气管炎，这两个月咳嗽明显加重，晚上根本睡不好。我们投诉了很多次，12345也打了，"
              "每次都说已经责令整改，可过几天又恢复原样，油烟净化器根本没开。请相关部门彻底查处，给居民一个"
              "安静干净的生活环境，不要再敷衍了事。")
    assert len(letter) >= LONG_TEXT
    try:
        analyzer.classifiers = Classifiers(env, topic, always_pos)
        assert analyzer.analyze(letter).polarity.value == "neg"  # rules said neg: the model may not flip it
        short = analyzer.analyze("观音桥街道建北社区烧烤油烟扰民，投诉多次无人管，熏得人头痛")
        assert short.polarity.value == "pos"  # on short posts, which it was trained on, the model decides
        news = analyzer.analyze("鸿恩寺公园的湖水治理好了，清澈见底")
        assert news.polarity.value == "pos"
    finally:
        analyzer.classifiers = saved
