"""Phrase lexicons kept as data, and a fast multi-phrase matcher over them."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

LEXICONS = Path(__file__).parent / "lexicons"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """A phrase found in a text, with what the lexicon says about it."""

    text: str
    start: int
    end: int
    value: T


class PhraseMatcher(Generic[T]):
    """Finds non-overlapping phrases, longest first, in one regex pass.

    One alternation of escaped phrases sorted by length lets the regex engine prefer
    "江北机场" over "江北" at the same position, which is what place names need.
    """

    def __init__(self, phrases: Iterable[tuple[str, T]]) -> None:
        self.values: dict[str, T] = {}
        for phrase, value in phrases:
            if phrase and phrase not in self.values:
                self.values[phrase] = value
        ordered = sorted(self.values, key=len, reverse=True)
        self._regex = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def finditer(self, text: str) -> Iterator[Match[T]]:
        """Yield every match in ``text``, left to right."""
        if self._regex is None:
            return
        for m in self._regex.finditer(text):
            yield Match(m.group(), m.start(), m.end(), self.values[m.group()])

    def __len__(self) -> int:
        return len(self.values)


@lru_cache(maxsize=16)
def load_lexicon(name: str) -> dict[str, Any]:
    """Read ``nlp/lexicons/<name>.toml`` (cached)."""
    return tomllib.loads((LEXICONS / f"{name}.toml").read_text(encoding="utf-8"))
