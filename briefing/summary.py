"""A short factual summary of an incident made only of its posts' own sentences (pure).

Nothing is paraphrased or invented: the summary is a few sentences quoted verbatim from the
posts, each with the id of the post it comes from, so a reader can check every word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from briefing.records import PostRecord

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_SPACE = re.compile(r"\s+")
MIN_CHARS = 6  # shorter fragments ("是的。") say nothing on their own


@dataclass(slots=True, frozen=True)
class Quote:
    """A sentence of a stored post, verbatim."""

    text: str
    post_id: int


def sentences(text: str) -> list[str]:
    """The sentences of a text, whitespace folded, in order."""
    out = []
    for match in _SENTENCE.finditer(text):
        sentence = _SPACE.sub(" ", match.group(0)).strip()
        if len(sentence) >= MIN_CHARS:
            out.append(sentence)
    return out


def _engagement(post: PostRecord) -> int:
    return sum(int(post.engagement.get(k, 0)) for k in ("reposts", "comments", "likes"))


def summarise(posts: Sequence[PostRecord], keywords: Sequence[str] = (), max_quotes: int = 2,
              max_chars: int = 90) -> list[Quote]:
    """Up to ``max_quotes`` sentences: the first post's most telling one, then the most shared other
    post's. "Telling" = names the most of the incident's keywords; a long sentence is cut at
    ``max_chars`` with an ellipsis (cutting, never rewording)."""
    if not posts:
        return []
    ordered = sorted(posts, key=lambda p: p.id)
    picks = [ordered[0]]
    others = sorted(ordered[1:], key=lambda p: (-_engagement(p), p.id))
    picks += others
    quotes: list[Quote] = []
    seen: set[str] = set()
    for post in picks:
        if len(quotes) >= max_quotes:
            break
        candidates = sentences(post.text) or sentences(post.title)
        if not candidates:
            continue
        best = max(candidates, key=lambda s: (sum(1 for k in keywords if k and k in s), -candidates.index(s)))
        if best in seen:
            continue
        seen.add(best)
        quotes.append(Quote(best if len(best) <= max_chars else best[:max_chars - 1] + "…", post.id))
    return quotes
