"""The incident list's lean read (only the listed columns, decoded without SQLAlchemy's result
processors) gives what the full read gives, field for field, on SQLite and on PostgreSQL, and the
API answers from it byte for byte as the response model would."""

from __future__ import annotations

import datetime as dt
import json

from pydantic_core import to_json

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


def test_the_lean_decoding_takes_what_either_database_writes():
    """A time in a row's JSON text: SQLite's stored naive UTC text, or PostgreSQL's ISO 8601 with
    the session's offset."""
    from storage.incident_queries import _time

    aware = dt.datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=dt.UTC)
    for given in ("2026-03-01 08:00:00.000005", "2026-03-01T16:00:00.000005+08:00", "2026-03-01T08:00:00.000005+00:00"):
        got = _time(given)
        assert got == aware and got.tzinfo is dt.UTC, given
    assert _time("2026-03-01 08:00:00") == aware.replace(microsecond=0)


def test_a_remembered_incident_is_never_stale(sql_store):
    """Listed incidents are decoded once per stored row and their JSON encoded once per incident
    (storage.incident_queries._MEMO, dashboard_api.json_out): a second read of unchanged rows gives
    the same objects, a change in any listed column is read anew, and ``overdue`` is asked of the
    rule at every answer's own time, never remembered."""
    from dashboard_api.json_out import incidents_response

    now = utcnow().replace(microsecond=0)
    ids = [add_incident(sql_store, title=f"观音桥噪声{i}", text="观音桥夜间施工噪声扰民", unit_code="500105003000",
                        unit="石马河街道", opened_at=now - dt.timedelta(hours=i),
                        deadlines={"sign_off": now + dt.timedelta(hours=1 + i)}) for i in range(3)]
    with sql_store.read() as tx:
        first = tx.listed_incidents(IncidentFilters(), None)
    with sql_store.read() as tx:
        again = tx.listed_incidents(IncidentFilters(), None)
    assert [i.id for i in again] == ids and all(a is b for a, b in zip(first, again, strict=True))
    with sql_store.begin() as tx:
        changed = tx.get_incident(ids[1])
        assert changed is not None
        changed.state, changed.post_count, changed.place = State.SIGNED, 7, "观音桥"
        changed.milestones = {"sign_off": now}
        tx.update_incident(changed)
    with sql_store.read() as tx:
        after = tx.listed_incidents(IncidentFilters(), None)
        page = tx.listed_incident(ids[1])
    assert after[0] is first[0] and after[2] is first[2]
    assert page is after[1] is not first[1]
    assert (after[1].state, after[1].post_count, after[1].place, after[1].milestones) == \
        (State.SIGNED, 7, "观音桥", {"sign_off": now})
    for at in (now, now + dt.timedelta(hours=2), now + dt.timedelta(hours=5), now + dt.timedelta(hours=2)):
        body = incidents_response(after, at).body
        assert body == to_json([incident_fields(i, at) for i in after])
    assert [json.loads(incidents_response(after, now + dt.timedelta(hours=2)).body)[k]["overdue"]
            for k in range(3)] == [["sign_off"], [], []]
