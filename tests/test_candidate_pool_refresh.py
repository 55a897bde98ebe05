"""The detection pass's candidate pool (storage.candidates) re-reads the window per transaction
undecoded and decodes only the incidents whose row changed (issue 17: decoding every row per
transaction was a tenth of a processing pass). What another transaction changed is seen; what did
not change is not read again; what left the window is gone. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from core.models import Grade, Incident, State
from storage.incidents import IncidentsTx
from storage.sql import SqlStore

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SINCE, CLOSED_SINCE = NOW - dt.timedelta(days=7), NOW - dt.timedelta(days=30)


def _incident(i: int) -> Incident:
    return Incident(title=f"i{i}", unit="鱼嘴镇", unit_code="500105100000", topic="air", grade=Grade.BLUE,
                    state=State.ASSIGNED, opened_at=NOW - dt.timedelta(hours=i), updated_at=NOW - dt.timedelta(hours=i),
                    keywords=["化工厂", f"词{i}"], last_post_at=NOW - dt.timedelta(hours=i))


def test_refresh_reads_again_only_what_changed(sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with sql_store.begin() as tx:
        ids = [tx.insert_incident(_incident(i)) for i in range(3)]
    loaded: list[list[int]] = []
    summaries = IncidentsTx._summaries

    def recording(self: IncidentsTx, wanted: list[int]) -> list[Incident]:
        loaded.append(list(wanted))
        return summaries(self, wanted)

    monkeypatch.setattr(IncidentsTx, "_summaries", recording)
    with sql_store.begin() as tx:
        pool = tx.candidate_pool(SINCE, CLOSED_SINCE)
    with sql_store.begin() as tx:
        tx.candidate_pool(SINCE, CLOSED_SINCE, pool)
    assert loaded == [ids, []]  # all at first, then nothing: no row changed

    with sql_store.begin() as tx:  # another writer: new words for one, another merged away
        changed = tx.get_incident(ids[1])
        assert changed is not None
        changed.keywords = ["黑烟", "消防"]
        tx.update_incident(changed)
        merged = tx.get_incident(ids[2])
        assert merged is not None
        merged.merged_into = ids[0]
        tx.update_incident(merged)
    with sql_store.begin() as tx:
        tx.candidate_pool(SINCE, CLOSED_SINCE, pool)
    assert loaded[2] == [ids[1]]
    found = pool.candidates("500105100000", "air", SINCE, CLOSED_SINCE, probes=["黑烟"])
    assert [c.id for c in found] == [ids[1]]
    assert [c.id for c in pool.candidates("500105100000", "air", SINCE, CLOSED_SINCE)] == ids[:2]
    assert pool.candidates("500105100000", "air", SINCE, CLOSED_SINCE, probes=["词1"]) == []


def test_a_posts_place_finds_the_incidents_there_by_the_places_named() -> None:
    """Candidates by place come from an index of the places named (a scan of every incident per
    post before): the same ones, of the post's unit or unplaced, and an incident that moved is
    found at its new place only."""
    from storage.candidates import CandidatePool

    def at(i: int, unit: str | None, place: str | None) -> Incident:
        incident = _incident(i)
        incident.id, incident.unit_code, incident.place, incident.keywords = i, unit, place, ["别的"]
        return incident

    pool = CandidatePool([at(1, "A", "鱼嘴工业园区"), at(2, "B", "鱼嘴工业园区"), at(3, None, "鱼嘴"),
                          at(4, "A", None)])

    def found(unit: str | None, place: str) -> list[int | None]:
        return [c.id for c in pool.candidates(unit, "air", SINCE, CLOSED_SINCE, probes=["无关"], place=place)]

    assert found("A", "鱼嘴工业园区") == [1, 3]  # its unit's and the unplaced one; "鱼嘴" is within the name
    assert found(None, "鱼嘴") == [1, 2, 3]
    assert found("A", "寸滩") == []
    pool.put(at(1, "A", "寸滩"))
    assert found("A", "寸滩") == [1] and found("A", "鱼嘴工业园区") == [3]
