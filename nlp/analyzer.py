"""The analysis of one post: relevance, responsible unit, topics, sentiment, signals, evidence.

``Analyzer.analyze`` is the function behind ``ecowatch analyze`` (a stable contract).
"""

from __future__ import annotations

from core.jurisdiction import Jurisdiction, load_jurisdiction
from core.models import Analysis, Polarity
from nlp.dedup import NearDuplicateIndex, clean
from nlp.places import OWN_THRESHOLD, PlaceResolver
from nlp.segment import Segmenter
from nlp.sentiment import SentimentScorer
from nlp.topics import TopicClassifier


class Analyzer:
    """Analyses texts against one jurisdiction. Build once (loading jieba takes ~1 s), reuse."""

    def __init__(self, jurisdiction: Jurisdiction | None = None) -> None:
        self.jurisdiction = jurisdiction or load_jurisdiction()
        self.places = PlaceResolver(self.jurisdiction)
        self.segmenter = Segmenter(self.places.user_words())
        self.topics = TopicClassifier()
        self.sentiment = SentimentScorer()

    def analyze(self, text: str) -> Analysis:
        """Analyse one text (title and body joined). Pure: same text, same answer."""
        text = text or ""
        place = self.places.resolve(text)
        topics, topic_evidence, _scores = self.topics.classify(text)
        tokens = self.segmenter.cut(text)
        environmental = bool(topics)
        sentiment = self.sentiment.score(text, tokens, complaint_frame=environmental)
        # Ours when the text points into the district more strongly than out of it.
        ours = place.own_score >= OWN_THRESHOLD and place.own_score > place.foreign_score
        relevant = environmental and ours
        unit_code = place.unit_code if relevant else None
        unit = self.jurisdiction.units[unit_code].name if unit_code else None
        evidence = [*place.evidence, *topic_evidence, *sentiment.evidence]
        evidence.sort(key=lambda e: (e.start, e.end))
        return Analysis(
            relevant=relevant,
            unit=unit,
            unit_code=unit_code,
            confidence=place.confidence if unit_code else 0.0,
            topics=topics,
            polarity=sentiment.polarity,
            sentiment=sentiment.score,
            evidence=evidence,
            signals=sentiment.signals,
            place=place.place if relevant else None,
        )

    def near_duplicate_index(self, threshold: float = 0.5) -> NearDuplicateIndex:
        """A fresh near-duplicate index; feed it ``dedup_tokens(text)`` of each post."""
        return NearDuplicateIndex(threshold=threshold)

    def dedup_tokens(self, text: str) -> list[str]:
        """The tokens near-duplicate detection compares: repost furniture removed, jieba cut."""
        return self.segmenter.cut(clean(text))

    def is_alarming(self, analysis: Analysis) -> bool:
        """True when a post should open or feed an incident: relevant and negative."""
        return analysis.relevant and analysis.polarity is Polarity.NEG
