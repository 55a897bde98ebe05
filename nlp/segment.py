"""jieba segmentation with the jurisdiction's place names in the dictionary."""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
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
        _initialize(self.tokenizer)
        for word in user_words:
            self.tokenizer.add_word(word, freq=2000)

    def cut(self, text: str) -> list[str]:
        """Accurate-mode tokens, whitespace dropped."""
        return [t for t in self.tokenizer.lcut(text, HMM=self.hmm) if t.strip()]

    def cut_for_search(self, text: str) -> list[str]:
        """Search-mode tokens (also the sub-words of long words), for full-text indexes."""
        # Always with the HMM: search indexes built before ``hmm`` existed were cut this way.
        return [t for t in self.tokenizer.lcut_for_search(text) if t.strip()]


def _initialize(tokenizer: jieba.Tokenizer) -> None:
    """Load jieba's default dictionary from the cache file it writes, read in one go.

    ``Tokenizer.initialize`` hands the open file to ``marshal.load``, which reads it object by
    object (a million small reads for its half a million words): 4-5 s of every ``analyze`` and
    ``process`` start-up on this machine, against under a second for the same bytes read at once.
    Without a readable cache (first run, another dictionary) jieba builds and writes it as before."""
    cache = os.path.join(tokenizer.tmp_dir or tempfile.gettempdir(), "jieba.cache")
    if tokenizer.dictionary == jieba.DEFAULT_DICT and not tokenizer.cache_file:
        try:
            with open(cache, "rb") as fh:
                tokenizer.FREQ, tokenizer.total = marshal.loads(fh.read())
        except (OSError, EOFError, ValueError, TypeError):
            pass  # no cache yet, or a broken one: jieba's own way below rebuilds it
        else:
            tokenizer.initialized = True
            return
    tokenizer.initialize()
