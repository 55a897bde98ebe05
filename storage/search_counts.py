"""A SQLite search's facet counts in numpy, over in-memory copies of the facet keys.

Each stored post has a facet key (``post_facets.fkey``: its unit, topic, source, polarity and
day as one id in ``facet_keys``). Counting a broad word's facets was SQLite's GROUP BY over each
match's key: a lookup of the match's row (~0.65 µs at 1,000,000 posts) and a sort (~0.6 µs), then
a sort of the key groups per facet; here the full-text index's post ids of the matches are looked
up in a copy of every post's key (one numpy gather), the keys counted and summed per facet value
(two ``bincount`` passes), ~0.2 µs a match in all (README "Sizing").

The copies are per store (engine) and process, shared by its connections under a lock, and exact:
``facet_keys`` rows never change (KEY_TRIGGERS), so that copy reads only ids added since; every
statement writing post keys takes ``facet_changes.n`` up by one and stamps the rows it wrote with
it (``post_facets.seq``), so that copy reads only rows stamped since it last looked, in the
snapshot of the search using it. A deleted post needs nothing: its full-text row goes with it.
Only a read-only transaction updates or uses them (a write transaction's rows may be rolled back
and their ids and stamps taken again); a search whose snapshot is older than the post-key copy
counts through the rows instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
from sqlalchemy import Connection, Engine

FACETS = ("unit_code", "topic", "source", "polarity", "day")
Run = Callable[[str], list[Any]]  # a statement's rows, run in the search's transaction


def numbers(listed: str | None, dtype: Any = np.intp) -> Any:
    """The integers of a group_concat (comma-separated; None for no rows) as a numpy array."""
    return np.fromstring(listed, dtype=dtype, sep=",") if listed else np.zeros(0, dtype=dtype)


class FacetKeys:
    """``facet_keys`` as, per facet, the position of each key's value among that facet's values
    (key 0, a post without a key, is "" everywhere)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.upto = 0
        self.values: list[list[str]] = [[""] for _ in FACETS]
        self.position: list[dict[str, int]] = [{"": 0} for _ in FACETS]
        self.index = np.zeros((len(FACETS), 1), dtype=np.intp)

    def count(self, run: Run, keys: Any) -> list[list[tuple[str, int]]]:
        """(value, how many) per facet of posts with these keys; reads the keys added since."""
        per_key = np.bincount(keys)
        self._cover(run, per_key.size - 1)
        weights = np.zeros(self.upto + 1)
        weights[:per_key.size] = per_key
        out = []
        for f, values in enumerate(self.values):
            sums = np.bincount(self.index[f], weights=weights, minlength=len(values))
            out.append([(values[i], int(sums[i])) for i in np.flatnonzero(sums)])
        return out

    def in_unit(self, run: Run, keys: Any, unit: str) -> Any:
        """Which of these keys have ``unit`` as their unit (a boolean array)."""
        if not keys.size:
            return np.zeros(0, dtype=bool)
        self._cover(run, int(keys.max()))
        at = self.position[FACETS.index("unit_code")].get(unit)
        return self.index[FACETS.index("unit_code")][keys] == at if at else np.zeros(keys.size, dtype=bool)

    def _cover(self, run: Run, key: int) -> None:
        if key > self.upto:  # keys are read after the matches: every matched one is there
            self._add(run(f"SELECT id, {', '.join(FACETS)} FROM facet_keys WHERE id > {self.upto} ORDER BY id"))

    def _add(self, rows: list[Any]) -> None:
        if not rows:
            return
        grown = np.zeros((len(FACETS), int(rows[-1][0]) + 1), dtype=np.intp)
        grown[:, :self.index.shape[1]] = self.index
        for key, *row in rows:
            for f, value in enumerate(row):
                text = "" if value is None else str(value)
                at = self.position[f].get(text)
                if at is None:
                    at = self.position[f][text] = len(self.values[f])
                    self.values[f].append(text)
                grown[f, key] = at
        self.index, self.upto = grown, int(rows[-1][0])


class PostKeys:
    """Every post's facet key by post id (4 bytes a post; the first use reads every row, ~0.4 s
    of CPU at 1,000,000 posts, then only the rows stamped since)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen = -1  # facet_changes.n of the snapshot the copy is at
        self.keys = np.zeros(1, dtype=np.int32)

    def of(self, run: Run, posts: Any) -> Any | None:
        """The keys of ``posts`` as the search's snapshot has them; None if it is older than the copy."""
        counter = run("SELECT n FROM facet_changes")
        if not counter or int(counter[0][0]) < self.seen:  # no counter row: nothing is stamped
            return None
        now = int(counter[0][0])
        if now > self.seen:
            since = "" if self.seen < 0 else f" WHERE seq > {self.seen}"
            ids, keys = run(f"SELECT group_concat(post_id), group_concat(coalesce(fkey, 0)) FROM post_facets{since}")[0]
            ids, keys = numbers(ids), numbers(keys, np.int32)
            if ids.size and int(ids.max()) >= self.keys.size:
                grown = np.zeros(int(ids.max()) + 1, dtype=np.int32)
                grown[:self.keys.size] = self.keys
                self.keys = grown
            self.keys[ids] = keys
            self.seen = now
        inside = posts < self.keys.size  # an indexed post has a row; 0 (no key) otherwise, as a safeguard
        return np.where(inside, self.keys[np.where(inside, posts, 0)], 0)


_COPIES: WeakKeyDictionary[Engine, tuple[FacetKeys, PostKeys]] = WeakKeyDictionary()
_COPIES_LOCK = threading.Lock()


def _copies(conn: Connection) -> tuple[FacetKeys, PostKeys] | None:
    """The store's shared copies; None in a write transaction."""
    if conn.get_execution_options().get("write"):
        return None
    with _COPIES_LOCK:
        if conn.engine not in _COPIES:
            _COPIES[conn.engine] = (FacetKeys(), PostKeys())
        return _COPIES[conn.engine]


def keys_of_matches(conn: Connection, run: Run, matched_posts: str, unit: str | None = None) -> Any | None:
    """The facet keys of the posts ``matched_posts`` (SQL giving their ids as one group_concat)
    selects, from the post-key copy, only those whose unit is ``unit`` if given (the post's
    current unit, as ``post_facets`` holds it); None when this transaction cannot use the copy."""
    copies = _copies(conn)
    if copies is None:
        return None
    posts = numbers(run(matched_posts)[0][0])
    with copies[1].lock:
        keys = copies[1].of(run, posts)
    if keys is None or unit is None:
        return keys
    with copies[0].lock:
        return keys[copies[0].in_unit(run, keys, unit)]


def facet_counts(conn: Connection, run: Run, keys: Any) -> list[list[tuple[str, int]]]:
    """(value, how many) per facet of posts with these facet keys (a numpy array)."""
    if not keys.size:
        return [[] for _ in FACETS]
    copies = _copies(conn)
    if copies is None:
        return FacetKeys().count(run, keys)  # a throwaway copy: this transaction may add keys it rolls back
    with copies[0].lock:
        return copies[0].count(run, keys)
