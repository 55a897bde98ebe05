"""The incident list's and page's lean read view (``storage.incident_queries.IncidentSnapshot``):
its statements run on the driver's cursor, so these hold it to the SQLAlchemy reads it stands in
for, on SQLite and PostgreSQL, and hold the answers to the recorded ones on both databases."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from core.errors import StoreError
from core.jurisdiction import load_jurisdiction
from dashboard_api import create_app
from storage.incident_queries import IncidentFilters, incident_snapshot
from storage.schema import users
from storage.sql import SqlStore
from tests.api_seed import UNIT_A, UNIT_B, USERS, token_headers
from tests.conftest import TEST_SECRET, serving
from tests.test_incident_answers import GOLDEN, LISTS, PAST, T0, build


def _more_copies(store: SqlStore, incident_id: int) -> None:
    """A copy answered and one withdrawn, beside build()'s two waiting ones."""
    with store.begin() as tx:
        answered = tx.add_copy(incident_id, "sl", "duty1", T0 + dt.timedelta(hours=3), "请会办")
        tx.note_copy_reply(answered.id, T0 + dt.timedelta(hours=4, microseconds=7))
        withdrawn = tx.add_copy(incident_id, "zj", "duty1", T0 + dt.timedelta(hours=5), None)
        tx.withdraw_copy(withdrawn.id, "duty1", T0 + dt.timedelta(hours=6))


def test_the_snapshot_reads_what_the_transaction_reads(sql_store: SqlStore) -> None:
    ids = build(sql_store)
    _more_copies(sql_store, ids[1])
    with sql_store.begin() as tx:  # a disabled user with a raised token version reads back as such
        tx.conn.execute(users.update().where(users.c.name == "leader1").values(active=False, token_version=3))
    with sql_store.read() as tx, incident_snapshot(sql_store.engine) as view:
        for name in [*USERS, "nobody"]:
            assert view.user(name) == tx.get_user(name), name
        assert view.listed_incident(max(ids) + 1) is None and view.copies_of(max(ids) + 1) == []
        for i in ids:
            assert view.listed_incident(i) == tx.listed_incident(i)
            assert view.incident_post_rows(i) == tx.incident_post_rows(i)
            assert view.audit_for(i) == tx.audit_for(i)
            assert view.copies_of(i) == tx.copies_of(i)
        copies = view.copies_of(ids[1])
    assert [c.state for c in copies] == ["waiting", "waiting", "replied", "withdrawn"]


FILTERS = [IncidentFilters(), IncidentFilters(unit_code=UNIT_A, states=["assigned", "signed"]),
           IncidentFilters(states=["new"]), IncidentFilters(grades=["blue", "orange", "red"], topics=["water", "air"]),
           IncidentFilters(since=T0 + dt.timedelta(days=2), until=T0 + dt.timedelta(days=9), states=["closed"]),
           IncidentFilters(copied_to="zj"), IncidentFilters(unit_code=UNIT_B, states=["assigned", "signed", "new"])]


def test_the_snapshot_lists_what_the_transaction_lists(sql_store: SqlStore) -> None:
    """Every filter (lists of one, two and three values: each length is its own statement), paged
    and whole, listed and full incidents, the counts."""
    ids = build(sql_store)
    with sql_store.read() as tx, incident_snapshot(sql_store.engine) as view:
        seen = set()
        for f in FILTERS:
            for limit, offset in ((None, 0), (3, 0), (4, 2), (50, 100)):
                listed = view.listed_incidents(f, limit, offset)
                assert listed == tx.listed_incidents(f, limit, offset), (f, limit, offset)
                assert view.find_incidents(f, limit, offset) == tx.find_incidents(f, limit, offset), (f, limit)
                seen.update(i.id for i in listed)
            assert view.count_incidents(f) == tx.count_incidents(f) == len(tx.find_incidents(f, None)), f
        whole = view.find_incidents(IncidentFilters(), None)
        # A time parameter is bound as the store writes times (UtcDateTime): opened exactly at
        # ``since`` is in, exactly at ``until`` out, to the microsecond, from any zone.
        opened = tx.get_incident(ids[1])
        assert opened is not None and opened.opened_at.microsecond
        for at in (opened.opened_at, opened.opened_at.astimezone(dt.timezone(dt.timedelta(hours=8)))):
            exact = [IncidentFilters(since=at), IncidentFilters(until=at), IncidentFilters(since=at, until=at)]
            for f in exact:
                assert view.listed_incidents(f, None) == tx.listed_incidents(f, None), f
                assert view.count_incidents(f) == tx.count_incidents(f), f
            assert ids[1] in [i.id for i in view.listed_incidents(exact[0], None)]
            assert ids[1] not in [i.id for i in view.listed_incidents(exact[1], None)]
    assert seen == set(ids) and whole[-1].deadlines["sign_off"] == PAST  # every incident was compared
    assert any(i.milestones and i.public_reply_at and i.merged_into is None for i in whole)
    assert any(i.merged_into == ids[0] for i in whole)


def test_the_snapshot_writes_nothing_and_a_driver_error_is_a_store_error(sql_store: SqlStore) -> None:
    build(sql_store)
    with pytest.raises(StoreError), incident_snapshot(sql_store.engine) as view:
        view._cursor.execute("SELECT * FROM no_such_table")
    with pytest.raises(StoreError), incident_snapshot(sql_store.engine) as view:  # read-only: nothing stays
        view._cursor.execute("DELETE FROM audit_log")
        view._cursor.execute("SELECT * FROM no_such_table")
    with incident_snapshot(sql_store.engine) as view:
        view._cursor.execute("DELETE FROM audit_log")  # a block that ends well is not committed either
    with sql_store.read() as tx:
        assert tx.audit_for(2), "the snapshot's transaction was committed"
    with incident_snapshot(sql_store.engine) as view:  # the pool still serves working connections
        assert view.user("duty1") is not None


def test_the_answers_are_as_recorded_on_either_database(sql_store: SqlStore) -> None:
    """The recorded answers of the list and the page (tests/data/incident_answers.json, main's at
    a340a47), byte for byte through the real server, on PostgreSQL too: every reader and list
    filter, 404s for another unit's incident and an incident not copied to a department, the
    department's own copy only."""
    ids = build(sql_store)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    app = create_app(sql_store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET)
    checked = 0
    with serving(app) as base:
        for user in ("duty1", "unit_a", "dept_zj", "leader1"):
            for path in LISTS + [f"/api/incidents/{i}" for i in ids]:
                key = f"{user} {path}"
                if key in expected:
                    resp = httpx.get(base + path, headers=token_headers(user, TEST_SECRET))
                    assert [resp.status_code, resp.headers.get("x-total-count"), resp.text] == expected[key], key
                    checked += 1
        with sql_store.begin() as tx:  # a disabled user's token is refused by the page's own read
            tx.conn.execute(users.update().where(users.c.name == "duty1").values(active=False))
        assert httpx.get(base + f"/api/incidents/{ids[0]}", headers=token_headers("duty1", TEST_SECRET)
                         ).status_code == 401
    assert checked == 3 * len(ids) + 2 + len(LISTS) + 3 * 2
    statuses = {expected[f"{u} /api/incidents/{i}"][0] for u in ("unit_a", "dept_zj") for i in ids}
    assert statuses == {200, 404}
