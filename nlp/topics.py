"""Environmental topics (multi-label) from the lexicon in ``lexicons/topics.toml``."""

from __future__ import annotations

from collections import defaultdict

from core.models import Evidence
from nlp.lexicon import PhraseMatcher, load_lexicon

TOPIC_ORDER = ("water", "air", "noise", "waste", "soil", "ecology", "other")


class TopicClassifier:
    """Scores each topic by its lexicon words; a topic with a strong word (or two weak) applies."""

    def __init__(self) -> None:
        lex = load_lexicon("topics")
        phrases: list[tuple[str, tuple[str, float]]] = []
        for topic in TOPIC_ORDER:
            phrases += [(w, (topic, 2.0)) for w in lex.get(topic, {}).get("strong", [])]
            phrases += [(w, (topic, 1.0)) for w in lex.get(topic, {}).get("weak", [])]
        phrases += [(w, ("", 0.0)) for w in lex.get("ignore", {}).get("phrases", [])]
        # Specific "other" words compete with the named topics under their own key.
        phrases += [(w, ("other!", 2.0)) for w in lex.get("other", {}).get("specific", [])]
        self.matcher: PhraseMatcher[tuple[str, float]] = PhraseMatcher(phrases)

    def classify(self, text: str) -> tuple[list[str], list[Evidence], dict[str, float]]:
        """Return (topics, main first; evidence spans; raw scores). Empty topics = not environmental."""
        scores: dict[str, float] = defaultdict(float)
        evidence: list[Evidence] = []
        for m in self.matcher.finditer(text):
            topic, weight = m.value
            if not topic:
                continue  # an ignored phrase: it only hides the topic word inside it
            scores[topic] += weight
            evidence.append(Evidence("topic", m.text, m.start, m.end, topic.rstrip("!")))
        if "other!" in scores:
            scores["other"] = scores.get("other", 0.0) + scores.pop("other!")
            specific = {t: s for t, s in scores.items() if s >= 2.0}
        else:
            specific = {t: s for t, s in scores.items() if t != "other" and s >= 2.0}
        if specific:
            top = max(specific.values())
            chosen = [t for t, s in specific.items() if s >= max(2.0, top * 0.34)]
            chosen.sort(key=lambda t: (-specific[t], TOPIC_ORDER.index(t)))
            return chosen, evidence, dict(scores)
        if scores.get("other", 0) >= 2.0:
            return ["other"], evidence, dict(scores)
        return [], evidence, dict(scores)
