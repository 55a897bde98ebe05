"""A fast reader for snownlp's naive Bayes sentiment models.

snownlp stores a model as gzip(marshal({"total": n, "d": {"neg": {...}, "pos": {...}}})), each
class an add-one frequency table. Importing ``snownlp`` itself loads its segmenter, tagger and
sentiment models (~4 s, most of the analyser's start-up), so the analyser reads the same file here
and precomputes one log-odds weight per word: classifying is then one dict lookup per token, and
the probabilities equal ``snownlp.classification.bayes.Bayes.classify`` (checked in tests/test_nlp_eval.py).
Training stays with snownlp (``tools/train_sentiment.py``).
"""

from __future__ import annotations

import gzip
import marshal
import math
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

# Tokens that carry no sentiment and only dilute the counts.
_STOP = frozenset(
    "的 了 是 在 和 与 及 也 就 都 而 又 着 把 被 让 给 对 从 到 向 这 那 这个 那个 一个 一 个 之 其 啊 吧 呢 吗 嘛 哦 呀"  # noqa: SIM905, E501
    .split())


@lru_cache(maxsize=200_000)
def _keep(tok: str) -> bool:
    # Cached: tokens repeat, and the per-character category test was ~12 % of analyse time.
    if not tok or tok in _STOP or tok.startswith(("http", "@")):
        return False
    return not all(unicodedata.category(c)[0] in "PZC" for c in tok)


def features(tokens: Iterable[str]) -> list[str]:
    """The tokens the classifier sees: no whitespace, no punctuation, no function words."""
    return [t for t in (tok.strip() for tok in tokens) if _keep(t)]


class NaiveBayes:
    """Two-class (neg/pos) naive Bayes over a snownlp model file."""

    def __init__(self, weights: dict[str, float], unseen: float, prior: float) -> None:
        self.weights = weights  # log p(w|pos) - log p(w|neg) for every known word
        self.unseen = unseen  # the same for a word neither class has seen
        self.prior = prior  # log p(pos) - log p(neg)

    @classmethod
    def from_tables(cls, total: float, tables: dict[str, dict[str, Any]]) -> NaiveBayes:
        """Build from snownlp's tables: {"pos": {"d": {word: count}, "total": n, "none": 1}, "neg": ...}."""
        pos, neg = tables["pos"], tables["neg"]
        lp_total, ln_total = math.log(pos["total"]), math.log(neg["total"])
        p_none, n_none = pos.get("none", 1) or 1, neg.get("none", 1) or 1
        weights: dict[str, float] = {}
        for word in pos["d"].keys() | neg["d"].keys():
            weights[word] = (math.log(pos["d"].get(word, p_none)) - lp_total) - (
                math.log(neg["d"].get(word, n_none)) - ln_total)
        unseen = (math.log(p_none) - lp_total) - (math.log(n_none) - ln_total)
        prior = math.log(pos["total"]) - math.log(neg["total"])  # snownlp's prior is by token mass
        del total
        return cls(weights, unseen, prior)

    @classmethod
    def load(cls, path: Path) -> NaiveBayes:
        """Read a snownlp model (gzip-compressed marshal, or plain marshal)."""
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = marshal.loads(raw)
        return cls.from_tables(data["total"], data["d"])

    def log_odds(self, tokens: Iterable[str]) -> float:
        """log p(pos|tokens) - log p(neg|tokens)."""
        get, unseen = self.weights.get, self.unseen
        return self.prior + sum(get(t, unseen) for t in tokens)

    def probability(self, tokens: Iterable[str]) -> float:
        """Probability that the tokens are positive (0.5 for no tokens)."""
        z = self.log_odds(tokens)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
