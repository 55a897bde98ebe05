"""jieba segmentation with the jurisdiction's place names in the dictionary."""

from __future__ import annotations

import atexit
import functools
import logging
import marshal
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _import_jieba() -> None:
    """Import jieba without ``pkg_resources``: jieba 0.42 imports it only to open its own
    dictionary file, which it opens by path when the import fails; setuptools' ``pkg_resources``
    costs ~0.13 CPU s of every ``analyze``, ``process`` and ``serve`` start-up (``-X importtime``).
    Blocked only for jieba's own import, and only when nothing loaded it before."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        return
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import jieba  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]


_import_jieba()
import jieba  # noqa: E402

jieba.setLogLevel(logging.WARNING)
# jieba's package folder (its IDF table: nlp.salience), for modules that need its files, not its
# import (which goes through here).
JIEBA_DIR = Path(jieba.__file__).parent


class Segmenter:
    """A private jieba tokenizer (the global one is left alone) that keeps place names whole."""

    def __init__(self, user_words: Iterable[str] = (), hmm: bool = False) -> None:
        """``hmm``: let jieba guess unknown words with its HMM. Off by default: it costs ~28 % of
        the cut (measured on bench/nlp.py's texts), and what it guesses (a name, a slang word) is
        a word the sentiment model has never seen, while the single characters it falls back to
        are words the model knows. The sentiment model is trained on the same cut."""
        self.hmm = hmm
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.tmp_dir = str(cache_dir())
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


@functools.cache
def cache_dir() -> Path:
    """Where jieba's dictionary cache is kept: ``$XDG_CACHE_HOME/ecowatch`` (``~/.cache/ecowatch``),
    a folder only this user can write.

    Why not jieba's default (``jieba.cache`` in the shared temporary folder): any local user could
    put a file there first, and it would be read as the dictionary (``marshal``, which trusts its
    input) by every analyser on the machine. A folder that is not ours or that others can write is
    not used: a fresh private temporary folder is, where jieba builds the cache again (about a
    second, once per process), removed at exit. Nothing is fetched: the dictionary ships with jieba."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecowatch"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = base.stat()
        if found.st_uid == os.getuid() and stat.S_ISDIR(found.st_mode) and not found.st_mode & 0o022:
            return base
    except (OSError, RuntimeError):  # no home folder, a read-only one
        pass
    fallback = tempfile.mkdtemp(prefix="ecowatch-jieba-")  # made 0700 by mkdtemp
    atexit.register(shutil.rmtree, fallback, ignore_errors=True)
    return Path(fallback)


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
