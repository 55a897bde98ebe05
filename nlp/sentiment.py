"""Sentiment of complaint and social-media text: snownlp's Bayes classifier on jieba tokens,
corrected by a cue lexicon (complaints, escalation, sarcasm, praise, news frames).

snownlp's own segmenter costs ~99% of its time; the classifier itself is cheap, so tokens come
from the jieba cut the analyser already made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.models import Evidence, Polarity
from nlp.bayes import NaiveBayes, features
from nlp.lexicon import PhraseMatcher, load_lexicon

MODEL = Path(__file__).parent / "models" / "sentiment.marshal"


def _load_bayes(path: Path | None) -> NaiveBayes:
    if path is not None and path.exists():
        return NaiveBayes.load(path)
    # Fallback: the shopping-review model snownlp ships (importing snownlp costs ~4 s).
    import snownlp.sentiment

    return NaiveBayes.load(Path(snownlp.sentiment.data_path + ".3"))


@dataclass(slots=True)
class SentimentResult:
    """Polarity, probability of positive, cue evidence and sensitive signals."""

    polarity: Polarity
    score: float
    evidence: list[Evidence] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)


class SentimentScorer:
    """Scores tokens and text; build once, call many times."""

    def __init__(self, model: Path | None = MODEL) -> None:
        self.bayes = _load_bayes(model)
        lex = load_lexicon("sentiment")
        cues = [(w, "neg") for w in lex["negative"]] + [(w, "pos") for w in lex["positive"]]
        cues += [(w, "neu") for w in lex["neutral"]] + [(w, "esc") for w in lex["escalation"]]
        cues += [(w, "sarcasm") for w in lex["sarcasm"]]
        self.cues: PhraseMatcher[str] = PhraseMatcher(cues)
        self.signals: PhraseMatcher[str] = PhraseMatcher(
            (w, signal) for signal, words in lex["signals"].items() for w in words
        )

    def probability(self, tokens: list[str]) -> float:
        """snownlp Bayes probability that the tokens are positive."""
        feats = features(tokens)
        return self.bayes.probability(feats) if feats else 0.5

    def score(self, text: str, tokens: list[str], complaint_frame: bool = False) -> SentimentResult:
        """Polarity of a text. ``complaint_frame``: the text describes an environmental problem."""
        counts = {"neg": 0, "pos": 0, "neu": 0, "esc": 0, "sarcasm": 0}
        seen: set[str] = set()
        evidence: list[Evidence] = []
        for m in self.cues.finditer(text):
            if m.text in seen:
                continue
            seen.add(m.text)
            counts[m.value] += 1
            if m.value in ("esc", "sarcasm"):
                evidence.append(Evidence("signal", m.text, m.start, m.end, m.value))
        signals = sorted({m.value for m in self.signals.finditer(text)})
        if counts["esc"]:
            signals = sorted({*signals, "escalation"})
        prob = self.probability(tokens)
        if counts["esc"] or (counts["sarcasm"] and (counts["neg"] or complaint_frame)):
            polarity = Polarity.NEG
        elif counts["pos"] > counts["neg"] and counts["pos"] >= 1:
            polarity = Polarity.POS
        elif counts["neu"] and counts["neg"] <= counts["neu"] + 1:
            polarity = Polarity.NEU
        elif counts["neg"] >= 2 or (counts["neg"] >= 1 and complaint_frame) or prob < 0.3:
            polarity = Polarity.NEG
        elif prob > 0.8:
            polarity = Polarity.POS
        else:
            polarity = Polarity.NEU
        # Keep the reported score consistent with the decided class.
        if polarity is Polarity.NEG:
            prob = min(prob, 0.35)
        elif polarity is Polarity.POS:
            prob = max(prob, 0.65)
        return SentimentResult(polarity, prob, evidence, signals)
