"""How much a word says about one particular event: the weights incident grouping compares by.

Why: two posts about one dead-fish creek share 死鱼, 油污, a landmark; two complaints about two
different restaurants in the same street share 油烟, 小区, 投诉, 希望, 相关部门 and the street's
name. A plain token overlap cannot tell these apart; weighting each shared word by its inverse
document frequency can. The IDF table is jieba's own (``jieba/analyse/idf.txt``, built by jieba's
authors from a large general corpus), so no weights are fitted to our labelled sets; the words
every environmental complaint uses anyway (投诉, 扰民, 污染…) and the jurisdiction's own names are
set to zero from the pack (``[grouping] generic_words``) because a general corpus does not know
they are boilerplate here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from nlp.segment import JIEBA_DIR

_IDF_FILE = JIEBA_DIR / "analyse" / "idf.txt"
_NOISE = re.compile(r"^[\W\d_a-zA-Z]{0,1}$|^[\W\d_]+$")
# A word's weight is its IDF above this base: words at or below it (我们 2.9, 问题 4.6, 旁边 6.2) are
# in most texts and tell no event apart; 死鱼 (11.5), 油污 (10.7), a landmark (not in the table:
# the median, 11.9) weigh 4-6. Shifting rather than thresholding keeps 仓库 (7.7) a weak sign and
# 死鱼 a strong one.
IDF_BASE = 6.5
MIN_WEIGHT = 0.5
# A sensitive signal of the analysis (着火/火灾/浓烟 → explosion, 自来水/水龙头 → drinking_water)
# is added as a concept word "§explosion": posts that say one thing in different words share it.
# (§ never starts a token of a text: those weigh as words.)
CONCEPT = "§"
# What the complaint is about, as an officer files it (a worksite, a KTV, a restaurant's fumes, a
# garage's spraying, a pig farm, tap water, a transfer station…; the pack's [grouping.sources]) is
# a concept word "§source:worksite". Residents of one event name it by different landmarks and
# aspects (the smell, the children taken ill, the factory) and share few words, but they tell the
# same kind of source; two matters in one street and topic are two kinds of source.
SOURCE = CONCEPT + "source:"


# What a word jieba's table lacks (a place, a shop, slang) weighs: the table's median IDF (words of
# two or more characters; tests/test_incident_fidelity.py checks it against the installed table).
# A constant, so that reading the table needs no sort of its 260,000 values.
UNKNOWN_IDF = 11.9547675029


@cache
def _idf_table() -> dict[str, str]:
    """jieba's IDF table (word → idf as written; :meth:`Salience.weight` converts the few words it
    looks up), read once per process. One split of the whole file and no conversion: the first
    grouping of a process waited 0.5 s for a per-line parse (bench/alerts.py counts it in the
    detection pass); this takes a quarter of that. Words hold no space (the file's format)."""
    fields = _IDF_FILE.read_text(encoding="utf-8").split()
    return dict(zip(fields[::2], fields[1::2], strict=True))


class Salience:
    """Word weights for event grouping: jieba's IDF, zero for generic words of the domain."""

    def __init__(self, generic: Iterable[str] = (), concept_weight: float = 3.0,
                 sources: Mapping[str, Sequence[str]] | None = None, names: Iterable[str] = ()) -> None:
        """``generic``: words that say nothing about which event a post is about here (the
        pack's boilerplate list, the district's and units' own names); ``concept_weight``: the
        weight of a concept word (a signal, a kind of source); ``sources``: each kind of source
        and the words that tell it (the pack's ``[grouping.sources]``); ``names``: the gazetteer's
        place names, which tell no source (鎏嘉码头 is a KTV's address, not a wharf)."""
        self.generic = frozenset(w.lower() for w in generic)
        self.concept_weight = concept_weight
        self.sources = {kind: tuple(w.lower() for w in words if w) for kind, words in (sources or {}).items()}
        self.names = frozenset(n.lower() for n in names)

    def source_kinds(self, text: str) -> list[str]:
        """The kinds of source the text tells of (``[grouping.sources]``), in the table's order."""
        text = text.lower()
        return [kind for kind, words in self.sources.items() if any(w in text for w in words)]

    def weight(self, word: str) -> float:
        """The word's weight: 0 for generic words, single characters and numbers; its IDF, or
        the median IDF for words jieba's table lacks (names of places, shops, slang)."""
        if word.startswith(CONCEPT) and len(word) > 1:
            return self.concept_weight
        word = word.strip().lower()
        if len(word) < 2 or word in self.generic or _NOISE.match(word):
            return 0.0
        idf = _idf_table().get(word)  # read on first use: `ecowatch analyze` never groups
        return max((UNKNOWN_IDF if idf is None else float(idf)) - IDF_BASE, 0.0)

    def _with_joined(self, tokens: Iterable[str]) -> list[str]:
        """The tokens, plus each pair of neighbouring single characters that jieba's table knows as
        a word: the analyser cuts without jieba's HMM, so 死鱼 arrives as 死 + 鱼."""
        out: list[str] = []
        previous = ""
        for token in tokens:
            token = token.strip().lower()
            out.append(token)
            if len(token) == 1 and len(previous) == 1 and previous + token in _idf_table():
                out.append(previous + token)
            previous = token
        return out

    def event_words(self, tokens: Iterable[str], limit: int, concepts: Iterable[str] = ()) -> list[str]:
        """The text's concept words (``§signal``, ``§source:kind``), then its distinct salient
        tokens in order of appearance; at most ``limit`` in all."""
        tokens = list(tokens)
        told = "".join(t for t in tokens if t.lower() not in self.names) if self.sources else ""
        kinds = [SOURCE + k for k in self.source_kinds(told)] if told else []
        out: list[str] = [*(CONCEPT + c for c in concepts), *kinds][:limit]
        seen: set[str] = set()
        for token in self._with_joined(tokens):
            if token in seen:
                continue
            seen.add(token)
            if self.weight(token) >= MIN_WEIGHT:
                out.append(token)
                if len(out) >= limit:
                    break
        return out
