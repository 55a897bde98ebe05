"""The grouping candidates of a detection pass, held in memory for one transaction.

The detection pass (``alerts.detection.process_pending``) compares each post with the incidents of
its unit and topic family that are within reach. Asking the database once or twice per post was a
quarter of a processing pass with 2,000 open incidents (bench/pipeline.py): a
:class:`CandidatePool` reads the window once per transaction (one statement, the grouping rule's
columns only), answers each post from memory by the same conditions, and is told of every incident
the transaction opens or changes, so each post still sees what the posts before it did. The
pool lasts a pass: each transaction refreshes it, decoding only the incidents that changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from core.models import Incident, State, Topic


@lru_cache(maxsize=8192)
def keyword_grams(keywords: tuple[str, ...]) -> frozenset[str]:
    """An incident's keywords and every character pair in them: what a post's probes
    (``alerts.grouping.probes``) are looked for in. Remembered: they change only when a report
    joins, and a set lookup per probe replaced a regular expression over the text."""
    return frozenset([*keywords, *(w[i:i + 2] for w in keywords for i in range(len(w) - 1))])


def within(incident: Incident, active_since: dt.datetime, closed_since: dt.datetime) -> bool:
    """Whether an incident is a candidate at all: not merged away, and open with a post (or its
    opening) since ``active_since``, or closed (its last update) since ``closed_since``."""
    if incident.merged_into:
        return False
    if incident.state is State.CLOSED:
        return incident.updated_at >= closed_since
    return (incident.last_post_at or incident.opened_at) >= active_since


class CandidatePool:
    """The incidents within a window (summaries as ``Tx.candidate_pool`` reads them, or whole
    incidents the transaction put back), indexed by unit and by the character pairs of their
    keywords. One pool serves a whole pass: each transaction refreshes it from the window's rows,
    and only an incident whose row changed (or that a transaction put back, committed or not) is
    decoded and indexed again (decoding and indexing two thousand incidents per transaction was
    more than the posts' own work)."""

    def __init__(self, incidents: Iterable[Incident] = ()) -> None:
        self._incidents: dict[int, Incident] = {}
        self._by_unit: dict[str | None, set[int]] = {}
        self._by_gram: dict[str, set[int]] = {}
        self._by_place: dict[str, set[int]] = {}
        self._grams: dict[int, frozenset[str]] = {}
        self._rows: dict[int, tuple[Any, ...]] = {}  # the row each incident was decoded from
        for incident in incidents:
            self.put(incident)

    def refresh(self, rows: Iterable[Any], load: Callable[[list[int]], Iterable[Incident]]) -> None:
        """Make the pool the window these rows are (each an ``id`` and the incident's columns as
        the database holds them, undecoded): an incident whose row is unchanged since the last
        refresh is kept; the others are ``load``ed by id and indexed again; those absent are
        dropped. Comparing undecoded rows and decoding only the changed ones: decoding every
        row's times per transaction was a tenth of a processing pass (bench/pipeline.py)."""
        seen, stale = set(), {}
        for row in rows:
            key = tuple(row)
            seen.add(row.id)
            if self._rows.get(row.id) != key:
                stale[row.id] = key
        for gone in set(self._incidents) - seen:
            self._drop(gone)
            self._rows.pop(gone, None)
        for incident in load(sorted(stale)):
            assert incident.id is not None
            self._index(incident)
            self._rows[incident.id] = stale[incident.id]

    def put(self, incident: Incident) -> None:
        """Add or replace an incident (one the transaction opened, fed, reopened or followed up):
        later posts see it as it is now; the next refresh reads it again, in case the
        transaction did not commit."""
        assert incident.id is not None
        self._index(incident)
        self._rows.pop(incident.id, None)

    def _drop(self, incident_id: int) -> None:
        old = self._incidents.pop(incident_id, None)
        if old is not None:
            self._by_unit[old.unit_code].discard(incident_id)
            if old.place:
                self._by_place[old.place].discard(incident_id)
            for gram in self._grams.pop(incident_id):
                self._by_gram[gram].discard(incident_id)

    def _index(self, incident: Incident) -> None:
        assert incident.id is not None
        old = self._incidents.get(incident.id)
        before = self._grams.get(incident.id, frozenset())
        grams = keyword_grams(tuple(w for w in incident.keywords if isinstance(w, str)))
        if old is not None and old.unit_code != incident.unit_code:
            self._by_unit[old.unit_code].discard(incident.id)
        if old is not None and old.place and old.place != incident.place:
            self._by_place[old.place].discard(incident.id)
        self._incidents[incident.id] = incident
        self._by_unit.setdefault(incident.unit_code, set()).add(incident.id)
        if incident.place:
            self._by_place.setdefault(incident.place, set()).add(incident.id)
        if grams is not before:  # a report added words: index only the difference
            for gram in before - grams:
                self._by_gram[gram].discard(incident.id)
            for gram in grams - before:
                self._by_gram.setdefault(gram, set()).add(incident.id)
            self._grams[incident.id] = grams

    def _of_unit(self, unit_code: str | None) -> Iterator[int]:
        if unit_code is None:
            return iter(self._incidents)
        return iter([*self._by_unit.get(unit_code, ()), *self._by_unit.get(None, ())])

    def candidates(self, unit_code: str | None, topic: str, active_since: dt.datetime, closed_since: dt.datetime,
               *, probes: Sequence[str] = (), place: str | None = None) -> list[Incident]:
        """The candidates of a post, in id order (``Tx.grouping_candidates`` says which): of the
        unit and unplaced ones (every unit for ``unit_code`` None), of the topic family (every
        topic for "other"), within the window; with ``probes``, only those whose keywords hold
        one of them as a word or a word's character pair, or whose place is ``place``'s."""
        if probes:
            ids: set[int] = set()
            for probe in probes:
                ids.update(self._by_gram.get(probe, ()))
            if place:  # by the places named, not the incidents: a post's place was a scan of them all
                for named, members in self._by_place.items():
                    if members and (place in named or named in place):
                        ids.update(i for i in members if unit_code is None
                                   or self._incidents[i].unit_code in (unit_code, None))
            chosen: Iterable[int] = ids
        else:
            chosen = self._of_unit(unit_code)
        out = []
        for incident_id in sorted(chosen):
            incident = self._incidents[incident_id]
            if unit_code is not None and incident.unit_code not in (unit_code, None):
                continue
            if topic != Topic.OTHER.value and incident.topic not in (topic, Topic.OTHER.value):
                continue
            if within(incident, active_since, closed_since):
                out.append(incident)
        return out
