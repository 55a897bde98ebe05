"""A MinHash LSH index of token sets (datasketch), for the test that no held-out line was copied or
lightly edited into a development set. Only the tests use it: production groups reposts of one
event by their salient words (alerts.grouping), so datasketch is a test dependency.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from datasketch import MinHash, MinHashLSH


def shingles(tokens: Sequence[str], size: int = 1) -> set[str]:
    """Token n-grams (punctuation and whitespace dropped); a text shorter than n gives its tokens."""
    words = [t for t in tokens if t.strip() and any(c.isalnum() for c in t)]
    if len(words) < size:
        return set(words)
    return {"\x1f".join(words[i:i + size]) for i in range(len(words) - size + 1)}


class NearDuplicateIndex:
    """In-memory MinHash LSH index of token sets; ``threshold`` is the Jaccard similarity that counts.

    Defaults: single tokens (a lightly edited copy keeps ~0.7 of its token set, a different post on
    the same matter ~0.3 on hand-made examples; bigrams punish every edit twice) and 0.5.
    """

    def __init__(self, threshold: float = 0.5, num_perm: int = 128, shingle: int = 1, seed: int = 1) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self.seed = seed
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[Hashable, MinHash] = {}

    def signature(self, tokens: Sequence[str]) -> MinHash:
        """The MinHash of a token sequence."""
        mh = MinHash(num_perm=self.num_perm, seed=self.seed)
        mh.update_batch([s.encode("utf-8") for s in shingles(tokens, self.shingle)])
        return mh

    def add(self, key: Hashable, tokens: Sequence[str]) -> None:
        """Index a post under ``key`` (a key added twice keeps its first signature)."""
        if key in self._hashes:
            return
        mh = self.signature(tokens)
        self._hashes[key] = mh
        self._lsh.insert(key, mh)

    def query(self, tokens: Sequence[str]) -> list[tuple[Hashable, float]]:
        """Indexed posts similar to these tokens, most similar first, with estimated Jaccard similarity.

        LSH gives candidates; each is checked against the threshold so the answer does not depend
        on LSH's banding luck in one direction.
        """
        mh = self.signature(tokens)
        found = [(key, self._hashes[key].jaccard(mh)) for key in self._lsh.query(mh)]
        found = [(k, round(s, 3)) for k, s in found if s >= self.threshold]
        return sorted(found, key=lambda ks: -ks[1])

    def add_or_match(self, key: Hashable, tokens: Sequence[str]) -> Hashable | None:
        """Return the key of the most similar indexed post, or index this one and return None."""
        found = self.query(tokens)
        if found:
            return found[0][0]
        self.add(key, tokens)
        return None

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._hashes
