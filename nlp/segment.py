"""jieba segmentation with the jurisdiction's place names in the dictionary."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)


class Segmenter:
    """A private jieba tokenizer (the global one is left alone) that keeps place names whole."""

    def __init__(self, user_words: Iterable[str] = (), hmm: bool = False) -> None:
        """``hmm``: let jieba guess unknown words with its HMM. Off by default: it costs ~28 % of
        the cut (measured on bench/nlp.py's texts), and what it guesses (a name, a slang word) is
        a word the sentiment model has never seen, while the single characters it falls back to
        are words the model knows. The sentiment model is trained on the same cut."""
        self.hmm = hmm
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for word in user_words:
            self.tokenizer.add_word(word, freq=2000)

    def cut(self, text: str) -> list[str]:
        """Accurate-mode tokens, whitespace dropped."""
        return [t for t in self.tokenizer.lcut(text, HMM=self.hmm) if t.strip()]

    def cut_for_search(self, text: str) -> list[str]:
        """Search-mode tokens (also the sub-words of long words), for full-text indexes."""
        # Always with the HMM: search indexes built before ``hmm`` existed were cut this way.
        return [t for t in self.tokenizer.lcut_for_search(text) if t.strip()]
