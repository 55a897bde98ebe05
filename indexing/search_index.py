"""Keeps the full-text index up to date and tokenises queries the same way (jieba search mode).

Storage may not import nlp, so segmentation happens here and tokens are handed to
``storage.search``. The segmenter is built on first use (jieba takes ~1 s to load).
"""

from __future__ import annotations

import re
import threading

from core.jurisdiction import Jurisdiction
from nlp.places import PlaceResolver
from nlp.segment import Segmenter
from storage.sql import SqlStore

_WORDISH = re.compile(r"\w", re.UNICODE)
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
_SEGMENTERS: dict[str, Segmenter] = {}  # per jurisdiction folder: building one takes a second or two
_SEGMENTERS_LOCK = threading.Lock()


def bigrams(text: str) -> list[str]:
    """The character bigrams of each run of Chinese characters, in order (a lone character has none)."""
    out: list[str] = []
    for run in _HAN_RUN.findall(text):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


class SearchIndexer:
    """Indexes posts not yet in the index, and turns a query into index tokens."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self.jurisdiction = jurisdiction
        self._index_lock = threading.Lock()  # one indexing pass at a time in this process

    @property
    def segmenter(self) -> Segmenter:
        """The jieba segmenter with the jurisdiction's place names kept whole."""
        key = str(self.jurisdiction.root)
        with _SEGMENTERS_LOCK:
            if key not in _SEGMENTERS:
                # With jieba's HMM, as indexes were always built: a query word it guesses whole
                # (黑臭) is then matched whole, as a word or as the bigram of the same text.
                _SEGMENTERS[key] = Segmenter(PlaceResolver(self.jurisdiction).user_words(), hmm=True)
            return _SEGMENTERS[key]

    def document_tokens(self, text: str) -> tuple[list[str], list[str]]:
        """Index columns of a post: search-mode words (long words and their parts), lower-cased,
        and the bigrams of its Chinese runs."""
        return [t.lower() for t in self.segmenter.cut_for_search(text) if _WORDISH.search(t)], bigrams(text)

    def query_tokens(self, query: str) -> list[str]:
        """The words a query must all match (accurate-mode segmentation, at most 20)."""
        out: list[str] = []
        for token in self.segmenter.cut(query[:200]):
            token = token.lower()
            if _WORDISH.search(token) and token not in out:
                out.append(token)
        return out[:20]

    def query_terms(self, tokens: list[str]) -> list[tuple[str, list[str]]]:
        """(word, its bigrams) for each query word: found as a jieba word or literally."""
        return [(t, bigrams(t)) for t in tokens]

    def catch_up(self, store: SqlStore, max_posts: int = 2000, batch: int = 500) -> int:
        """Index up to ``max_posts`` posts not yet indexed; returns how many were added."""
        with store.read() as tx:  # the common case, nothing new, must not take the write lock
            if tx.indexed_up_to() >= tx.max_post_id():
                return 0
        done = 0
        with self._index_lock:
            while done < max_posts:
                with store.read() as tx:
                    pending = tx.posts_to_index(limit=min(batch, max_posts - done))
                if not pending:
                    break
                # Tokenised outside the write transaction: jieba over a batch is seconds of CPU (tens
                # under load), and every other writer (the processing pass, an officer's action)
                # would wait on the lock and fail after the busy timeout. What another process
                # indexed meanwhile is behind the index's mark when the write starts: left out.
                rows = [(pid, *self.document_tokens(text)) for pid, text in pending]
                with store.begin() as tx:
                    mark = tx.indexed_up_to()
                    added = tx.index_tokens([row for row in rows if row[0] > mark])
                if not added:
                    break  # another process is indexing the same posts: it carries on from here
                done += added
        return done


def highlight(text: str, tokens: list[str], width: int = 160) -> tuple[str, list[tuple[int, int]]]:
    """A window of ``text`` around the first match and the [start, end) spans of every token in it."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for token in tokens:
        start = lowered.find(token)
        while start != -1:
            spans.append((start, start + len(token)))
            start = lowered.find(token, start + len(token))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    begin = max(0, merged[0][0] - width // 4) if merged and width < len(text) else 0
    end = min(len(text), begin + width) if width < len(text) else len(text)
    return text[begin:end], [(max(s, begin) - begin, min(e, end) - begin) for s, e in merged if s < end and e > begin]
