"""The analysis of one post: relevance, responsible unit, topics, sentiment, signals, evidence.

``Analyzer.analyze`` is the function behind ``ecowatch analyze`` (a stable contract).
"""

from __future__ import annotations

import re

from core.jurisdiction import Jurisdiction, load_jurisdiction
from core.models import Analysis, Polarity
from nlp.classifiers import RULES_ONLY, Classifiers
from nlp.classifiers import features as classifier_features
from nlp.places import OWN_THRESHOLD, PlaceResolver, PlaceResult
from nlp.salience import Salience
from nlp.segment import Segmenter
from nlp.sentiment import SentimentScorer, clamp_score
from nlp.topics import TopicClassifier

# Texts at least this long are beyond what the classifiers were trained on (98 % of training lines
# are under 180 characters): on them the lexicon's topic and the cue rules' negative win (below).
LONG_TEXT = 200
UNPLACED_MAX_CHARS = 140  # a comment or a short post; longer texts name their place
# A street address: a numbered road (和畅六路, 建设三路; not 一路, which is also "all the way") or a
# house number on a road (解放路12号).
# A post giving one that the place resolver does not know is somewhere else, not "unplaced":
# the district's own roads are in the pack, so naming one makes the post placed, not this.
STREET_ADDRESS = re.compile(r"[\u4e00-\u9fff][二三四五六七八九十]路|路[\d一二三四五六七八九十]+号")


def points_inside(place: PlaceResult) -> bool:
    """True when a text points into the jurisdiction more strongly than out of it."""
    return place.own_score >= OWN_THRESHOLD and place.own_score > place.foreign_score


def _other_places(jurisdiction: Jurisdiction) -> tuple[str, ...]:
    """Other districts' and streets' names with their short stems (涪陵, 龙兴, 长寿): too common as
    words for the place resolver to count as "elsewhere" (南岸 is also "the south bank"), but
    enough to keep an unplaced severe post from being taken for ours (see ``analyze``)."""
    own = set(jurisdiction.own_names())
    names: set[str] = set()
    for n in jurisdiction.neighbours:
        if n.level == "shared_community" or n.name in own:
            continue
        stem = n.name
        for suffix in ("街道", "镇", "乡", "区", "县"):
            stem = stem.removesuffix(suffix)
        names.update(x for x in (n.name, stem) if len(x) >= 2 and x not in own)
    return tuple(sorted(names))


def relevant_unplaced(analysis: Analysis) -> bool:
    """True when a post is relevant only because it names no place at all (``analyze``): ours by
    where it was found, not by its words, so it may join or follow up an incident but not open one
    (nobody could say where to send it); one telling of people hurt still may (a severe event is
    never dropped)."""
    return (analysis.relevant and "casualty" not in analysis.signals and analysis.unit_code is None
            and analysis.place is None and not any(e.kind in ("place", "foreign") for e in analysis.evidence))


class Analyzer:
    """Analyses texts against one jurisdiction. Build once (loading jieba takes ~1 s), reuse."""

    def __init__(self, jurisdiction: Jurisdiction | None = None, classifiers: Classifiers | None = None,
                 use_classifiers: bool = True) -> None:
        """``classifiers``: trained models to use (default: ``nlp/models/classifiers.json.gz``);
        ``use_classifiers=False``: lexicons and rules only (the baseline the models are compared to)."""
        self.jurisdiction = jurisdiction or load_jurisdiction()
        self.places = PlaceResolver(self.jurisdiction)
        self.segmenter = Segmenter(self.places.user_words())
        self.topics = TopicClassifier()
        self.sentiment = SentimentScorer()
        self.classifiers = (classifiers or Classifiers.load()) if use_classifiers else None
        self._elsewhere = _other_places(self.jurisdiction)
        # Word weights for event grouping (alerts.grouping): the pack's boilerplate and the
        # jurisdiction's own names weigh nothing.
        self.salience = Salience([*self.jurisdiction.grouping.get("generic_words", []),
                                  *self.jurisdiction.own_names()],
                                 float(self.jurisdiction.grouping.get("concept_weight", 3.0)),
                                 self.jurisdiction.grouping.get("sources", {}), self.places.user_words())

    def analyze(self, text: str) -> Analysis:
        """Analyse one text (title and body joined). Pure: same text, same answer."""
        return self.analyze_with_tokens(text)[0]

    def analyze_with_tokens(self, text: str) -> tuple[Analysis, list[str]]:
        """``analyze``, plus the jieba tokens it cut, for callers that need them too (incident
        keywords) so a post is cut once."""
        text = text or ""
        place = self.places.resolve(text)
        topics, topic_evidence, scores = self.topics.classify(text)
        tokens = self.segmenter.cut(text)
        environmental = bool(topics)
        sentiment = self.sentiment.score(text, tokens, complaint_frame=environmental)
        if self.classifiers is not None:
            # The models see the lexicon and cue-rule outputs as features and get the last word.
            said = self.classifiers.predict(text, scores, sentiment.counts, sentiment.bayes, sentiment.polarity.value)
            environmental = said.environmental
            if environmental:
                # On long texts (beyond what the models were trained on) the lexicon's main topic
                # wins when it has one: on the 36 real web complaints (300-600 characters) the
                # lexicon's main topic matched the curator's category 34 times, the model's 30.
                main = topics[0] if topics and len(text) >= LONG_TEXT else str(said.topic)
                topics = [main, *(t for t in topics if t != main)]
            else:
                topics = []
            polarity = Polarity(said.polarity)
            # The models learnt mostly from short posts; on longer texts, such as real complaints
            # from web pages, they can read a complaint as praise or as neutral. A complaint missed
            # is the costliest error (a blind spot), so on long texts, when the cue rules say "neg"
            # and the model does not, the rules win. On short posts the guard cost more than it
            # saved (cross-validated, docs/analysis.md). Round 4 widened it from "model says pos"
            # to "model says not neg": the models trained on official replies read 3 more of the 29
            # real complaint-led web excerpts as neutral; the wider guard wins back 2, costs 0.008
            # polarity macro-F1 on incidents_dev_b in CV and nothing on the other sets.
            # Not on an official reply (``reply_openers``): it restates the complaint it answers.
            if (len(text) >= LONG_TEXT and sentiment.polarity is Polarity.NEG
                    and polarity is not Polarity.NEG and not sentiment.counts["reply"]):
                polarity = Polarity.NEG
            # An environmental accident is bad news however calmly it is told. People hurt, dead or
            # evacuated (``harm_news_signals``) make a post about the environment a report of an
            # accident, whatever its notice frame ("江北区应急管理局通报：……造成1人死亡" read neutral,
            # "愿逝者安息" positive); a post the rules read negative for an explosion, a leak or fire
            # engines ("消防车一路往鱼嘴开" read positive) stays negative. So a severe event's first
            # report reaches the desk as bad news (sev11, docs/analysis.md). Not an official reply
            # (``reply_openers`` anywhere: "……情况通报。经核查，……送医幼儿均已出院") nor a report of the
            # fix, and not a post the model judged not environmental: the sets label a kitchen's or a
            # road's accident news neutral. The rules' "bad news" alone overrules the model's neutral
            # only outside a notice (a case of dumped drums "部分桶体已渗漏" is enforcement news).
            counts = sentiment.counts
            if (environmental and polarity is not Polarity.NEG and not counts["improvement"] and not counts["reply"]
                    and not self.sentiment.answers(text)
                    and (self.sentiment.tells_harm(sentiment.signals)
                         or (sentiment.polarity is Polarity.NEG and self.sentiment.tells_accident(sentiment.signals)
                             and (polarity is Polarity.POS or not counts["official"])))):
                polarity = Polarity.NEG
            sentiment.polarity = polarity
            sentiment.score = clamp_score(polarity, sentiment.bayes)
        # Ours when the text points into the district more strongly than out of it. A short
        # environmental post that names no place at all is ours too, unplaced: it was found where
        # the district's residents talk (a comment under a thread, a reply that says only "您反映的
        # 问题", "楼底下又在烤了"); the labelled sets say so for 86 of the 87 such lines, and they
        # were 87 of the 96 relevance misses on the incident development sets (round 7). One telling
        # of an accident may name a place too weakly to pin it ("十几个娃娃送到医院了", "流进长江
        # 就完了": the river runs through many districts): a severe event is never dropped for want of
        # a place name. Not a long text (a letter names its
        # place; an unknown one is elsewhere: of the 36 real complaints from other provinces, two
        # worried about 毒气 near estates we do not know), not one naming another district and not
        # one giving a street address we do not know (和畅六路, a real complaint from 惠州).
        # (The scan for other places' names comes last: it is the costly test, ~20 % of analyze.)
        relevant = environmental and (points_inside(place) or (
            len(text) <= UNPLACED_MAX_CHARS and place.foreign_score == 0 and not place.unit_code
            and (place.own_score == 0 or self.sentiment.tells_accident(sentiment.signals))
            and not any(name in text for name in self._elsewhere) and not STREET_ADDRESS.search(text)))
        ours = points_inside(place)
        unit_code = place.unit_code if relevant else None
        unit = self.jurisdiction.units[unit_code].name if unit_code else None
        evidence = [*place.evidence, *topic_evidence, *sentiment.evidence]
        evidence.sort(key=lambda e: (e.start, e.end))
        analysis = Analysis(
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
            elsewhere=place.foreign_score > 0 and not ours,
            model=(self.classifiers.version or None) if self.classifiers is not None else RULES_ONLY,
        )
        return analysis, tokens

    def features(self, text: str) -> dict[str, float]:
        """The classifier features of a text (what ``tools/train_classifiers.py`` trains on)."""
        topics, _evidence, scores = self.topics.classify(text)
        sentiment = self.sentiment.score(text, self.segmenter.cut(text), complaint_frame=bool(topics))
        return classifier_features(text, scores, sentiment.counts, sentiment.bayes, sentiment.polarity.value)
