"""The incident list's lean read (only the listed columns, decoded without SQLAlchemy's result
processors) gives what the full read gives, field for field, on SQLite and on PostgreSQL, and the
API answers from it byte for byte as the response model would."""

from __future__ import annotations

import datetime as dt

import pytest

from core.models import Grade, State
from core.timeutil import utcnow
from dashboard_api.schemas import IncidentPublic, incident_fields
from storage.incident_queries import IncidentFilters
from tests.api_seed import add_incident

LISTED = ("id", "title", "unit", "unit_code", "department", "topic", "place", "grade", "grade_reasons", "state",
          "opened_at", "updated_at", "deadlines", "post_count", "milestones", "merged_into", "public_reply_at")


def test_the_lean_list_read_matches_the_full_read(sql_store):
    now = utcnow().replace(microsecond=123456)
    ids = [add_incident(sql_store, title=f"石马河污水{i}", text="石马河污水直排", unit_code="500105003000",
                        unit="石马河街道", state=State.SIGNED if i % 2 else State.ASSIGNED,
                        grade=Grade.ORANGE if i % 3 else Grade.BLUE, opened_at=now - dt.timedelta(hours=i * 7),
                        deadlines={"sign_off": now - dt.timedelta(hours=i), "response": now + dt.timedelta(hours=i)})
           for i in range(6)]
    with sql_store.begin() as tx:  # a milestone, a public reply and a merge: the fields the overdue rule reads
        first = tx.get_incident(ids[1])
        assert first is not None
        first.milestones = {"sign_off": now - dt.timedelta(minutes=5)}
        first.public_reply_at = now - dt.timedelta(minutes=1)
        tx.update_incident(first)
        merged = tx.get_incident(ids[2])
        assert merged is not None
        merged.merged_into = ids[0]
        tx.update_incident(merged)
    with sql_store.read() as tx:
        full = tx.find_incidents(IncidentFilters(), None)
        lean = tx.listed_incidents(IncidentFilters(), None)
        filtered = tx.listed_incidents(IncidentFilters(states=["signed"], since=now - dt.timedelta(hours=30)), 2, 1)
    assert [i.id for i in lean] == [i.id for i in full] == ids  # newest first
    for a, b in zip(lean, full, strict=True):
        assert {k: getattr(a, k) for k in LISTED} == {k: getattr(b, k) for k in LISTED}
        assert a.opened_at.tzinfo == dt.UTC and all(t.tzinfo == dt.UTC for t in a.deadlines.values())
        assert incident_fields(a, now) == incident_fields(b, now)
        assert IncidentPublic.model_validate(incident_fields(a, now)).model_dump_json() == \
            IncidentPublic.of(b, now).model_dump_json()
    assert [i.id for i in filtered] == [ids[3]]
    assert incident_fields(lean[1], now)["overdue"] == []  # its sign-off was done
    assert incident_fields(lean[3], now)["overdue"] == ["sign_off"]
    assert incident_fields(lean[2], now)["overdue"] == []  # merged: nothing of its own is due


def test_the_lean_decoding_takes_what_either_driver_gives():
    from storage.incident_queries import _json_column, _time

    aware = dt.datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=dt.UTC)
    for given in ("2026-03-01 08:00:00.000005", "2026-03-01T16:00:00.000005+08:00", aware,
                  aware.replace(tzinfo=None), aware.astimezone(dt.timezone(dt.timedelta(hours=8)))):
        got = _time(given)
        assert got == aware and got.tzinfo is dt.UTC, given
    assert _json_column(['["a", "b"]', None, "null", {"k": 1}, '{"sign_off": "x"}']) == \
        [["a", "b"], None, None, {"k": 1}, {"sign_off": "x"}]
    with pytest.raises(ValueError):  # two values in one text: an error, not a shifted column
        _json_column(['["a"], ["b"]', '["c"]'])
