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
HEDGE_REACH = 4  # characters before (and after) a signal word searched for a hedge
REPLY_OPENING = 24  # characters at the start of a text searched for how an official reply opens


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
    counts: dict[str, int] = field(default_factory=dict)  # cue and frame counts (classifier features)
    bayes: float = 0.5  # the Bayes probability before the cue rules


def clamp_score(polarity: Polarity, prob: float) -> float:
    """Keep a reported positive-probability consistent with the decided class."""
    if polarity is Polarity.NEG:
        return min(prob, 0.35)
    if polarity is Polarity.POS:
        return max(prob, 0.65)
    return min(max(prob, 0.35), 0.65)


class SentimentScorer:
    """Scores tokens and text; build once, call many times."""

    def __init__(self, model: Path | None = MODEL) -> None:
        self.bayes = _load_bayes(model)
        lex = load_lexicon("sentiment")
        cues = [(w, "neg") for w in lex["negative"]] + [(w, "pos") for w in lex["positive"]]
        cues += [(w, "neu") for w in lex["neutral"]] + [(w, "esc") for w in lex["escalation"]]
        cues += [(w, "sarcasm") for w in lex["sarcasm"]]
        self.cues: PhraseMatcher[str] = PhraseMatcher(cues)
        # Frames are matched separately: a word may be both a cue and a frame word.
        frames = [(w, "problem") for w in lex["problem"]] + [(w, "official") for w in lex["official"]]
        frames += [(w, "improvement") for w in lex["improvement"]] + [(w, "question") for w in lex["question"]]
        frames += [(w, "personal") for w in lex["personal"]]
        self.frames: PhraseMatcher[str] = PhraseMatcher(frames)
        self.reporting = frozenset(lex["reporting"])
        self.reply_openers = tuple(lex["reply_openers"])
        self.answer_words = tuple(lex.get("answer_words", ()))
        self.hedges = tuple(lex.get("signal_hedges", ()))
        self.hedges_after = tuple(lex.get("signal_hedges_after", ()))
        # A look-alike (污水厂 around 水厂) is matched as no signal: the longer phrase wins its place.
        self.signals: PhraseMatcher[str] = PhraseMatcher(
            [*((w, signal) for signal, words in lex["signals"].items() for w in words),
             *((w, "") for w in lex.get("signal_lookalikes", ()))]
        )
        self.signal_unless: dict[str, tuple[str, ...]] = {
            word: tuple(context) for word, context in lex.get("signal_unless", {}).items()}
        self.bad_news = frozenset(lex.get("bad_news_signals", ()))
        self.harm_news = frozenset(lex.get("harm_news_signals", ()))
        self.implies: dict[str, tuple[str, ...]] = {
            signal: tuple(others) for signal, others in lex.get("signal_implies", {}).items()}

    def tells_accident(self, signals: list[str]) -> bool:
        """True when the signals tell of an accident (``bad_news_signals``: an explosion, a leak,
        people hurt, a spill heading for the river)."""
        return not self.bad_news.isdisjoint(signals)

    def tells_harm(self, signals: list[str]) -> bool:
        """True when the signals tell of people hurt, dead or evacuated (``harm_news_signals``): an
        accident's report however official its words, once the post is about the environment
        (``nlp.analyzer``; the rules alone cannot tell a plant's blast from a kitchen's)."""
        return not self.harm_news.isdisjoint(signals)

    def answers(self, text: str) -> bool:
        """True when a text holds an official answer's words anywhere (``answer_words``: "经核查",
        "已出院"): a unit answering after the facts, not a first report, whatever its heading."""
        return any(w in text for w in self.answer_words)

    def _hedged(self, text: str, start: int, end: int) -> bool:
        """True when a signal word is a risk or a drill, not an event: "极易起火", "担心泄漏",
        "一旦爆炸" (``signal_hedges`` shortly before), "火灾隐患", "泄漏应急演练"
        (``signal_hedges_after`` shortly after). A resident warning of a fire hazard is not
        reporting a fire, and must not be graded as one."""
        before, after = text[max(0, start - HEDGE_REACH):start], text[end:end + HEDGE_REACH]
        return any(h in before for h in self.hedges) or any(h in after for h in self.hedges_after)

    def _signals(self, text: str) -> list[str]:
        """The sensitive signals a text tells, sorted: neither a look-alike (``signal_lookalikes``),
        nor hedged (``_hedged``), nor a word the rest of the text gives another sense
        (``signal_unless``: 浓烟 where someone is burning rubbish is open burning, not a fire); with
        the signals each implies (``signal_implies``: a death is a casualty, so whatever reads
        "casualty" sees it)."""
        found = {m.value for m in self.signals.finditer(text)
                 if m.value and not self._hedged(text, m.start, m.end)
                 and not any(w in text for w in self.signal_unless.get(m.text, ()))}
        return sorted(found.union(*(self.implies.get(s, ()) for s in found)))

    def probability(self, tokens: list[str]) -> float:
        """snownlp Bayes probability that the tokens are positive."""
        feats = features(tokens)
        return self.bayes.probability(feats) if feats else 0.5

    def score(self, text: str, tokens: list[str], complaint_frame: bool = False) -> SentimentResult:
        """Polarity of a text. ``complaint_frame``: the text describes an environmental problem.

        Order matters and each step says why: an official reply is a follow-up; escalation and
        sarcasm are negative whatever the words; official notices and news are neutral unless they
        report an improvement; a post describing a problem is negative; otherwise the Bayes model (trained on Weibo and
        complaints) decides, with a wide neutral band.
        """
        opening = text[:REPLY_OPENING]
        counts = {"neg": 0, "pos": 0, "neu": 0, "esc": 0, "sarcasm": 0,
                  "problem": 0, "official": 0, "improvement": 0, "question": 0, "personal": 0,
                  "reply": int(any(o in opening for o in self.reply_openers))}
        evidence: list[Evidence] = []
        seen: set[tuple[str, str]] = set()
        complaint_words: set[str] = set()
        for m in [*self.cues.finditer(text), *self.frames.finditer(text)]:
            if (m.text, m.value) in seen:
                continue
            seen.add((m.text, m.value))
            counts[m.value] += 1
            if m.value in ("neg", "problem"):
                complaint_words.add(m.text)
            if m.value in ("esc", "sarcasm"):
                evidence.append(Evidence("signal", m.text, m.start, m.end, m.value))
        signals = self._signals(text)
        if counts["esc"]:
            signals = sorted({*signals, "escalation"})
        prob = self.probability(tokens)
        for signal in signals:  # the classifiers weigh the signals with the setting (nlp/classifiers.py)
            counts[f"signal_{signal}"] = 1
        counts["complaint"] = len(complaint_words)  # a word in both lists counts once
        counts["vivid"] = len(complaint_words - self.reporting)
        # Not a count the classifiers see: the signals are (and accident news reads neutral there).
        bad_news = self.tells_accident(signals)
        polarity = self._decide(counts, prob, complaint_frame, bad_news)
        return SentimentResult(polarity, clamp_score(polarity, prob), evidence, signals, counts, prob)

    @staticmethod
    def _decide(c: dict[str, int], prob: float, complaint_frame: bool, bad_news: bool) -> Polarity:
        complaint = c["complaint"]
        official = c["official"]
        good = c["improvement"] + c["pos"]

        def report() -> Polarity:  # an official or news frame: good news or neutral
            return Polarity.POS if c["improvement"] and c["improvement"] + 1 >= complaint else Polarity.NEU

        # An official reply restates the complaint it answers; it is a follow-up, not a complaint.
        if c["reply"] and not c["esc"] and not c["sarcasm"]:
            return report()
        # A notice about petitions ("信访件办理情况公示") is not itself a petition.
        if official >= 2 and not c["personal"] and not c["sarcasm"] and c["vivid"] <= 1:
            return report()
        if c["esc"]:
            return Polarity.NEG
        if c["sarcasm"] and (complaint or complaint_frame):
            return Polarity.NEG
        # An explosion, a leak or people hurt is bad news however calm the words: "远远看到一朵蘑菇云"
        # is no sightseer's praise (the Bayes model below only counts words), and a news item telling
        # it with one reporting word ("消防出动6台车扑救") is the first report of an accident, not a
        # notice about one (a notice says two: "情况通报……经核查", above).
        if bad_news and not c["improvement"]:
            return Polarity.NEG
        if official and complaint <= 1 and not c["personal"]:
            return report()
        if good >= 2 and good > complaint:
            return Polarity.POS
        if c["question"] and complaint <= 1:
            return Polarity.NEU
        if complaint >= 2 or (complaint and (complaint_frame or prob < 0.5)):
            return Polarity.NEG
        if c["improvement"] and not complaint:
            return Polarity.POS
        if prob < 0.2:
            return Polarity.NEG
        if prob > 0.8 or good:
            return Polarity.POS
        return Polarity.NEU
