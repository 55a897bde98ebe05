"""Overdue has one owner: the escalation job decides and writes, the API only reads.

One table of cases (returned past sign-off, after 审核退回, the report and press steps, done,
paused and merged steps); for each, the pure rule, the escalation job (its ``overdue`` feed lines
and escalation rows) and the API (the incident's ``overdue`` field, ``?overdue=``, stats) must
give the same steps. Then: reading the feed, as JSON or as a stream, writes no row anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from alerts.config import alerts_config
from alerts.escalation import overdue_step_names
from alerts.escalation_job import run_escalation
from core.jurisdiction import load_jurisdiction
from core.models import Grade, Incident, State
from core.timeutil import utcnow
from storage.schema import escalations, events, metadata
from storage.tables import register_all_tables
from tests.api_seed import UNIT_A, seed_users, token_headers
from tests.conftest import TEST_SECRET

http = httpx.Client(timeout=10)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Case:
    """An incident as stored (deadlines and milestones in days from now) and the overdue steps."""

    name: str
    state: State
    deadlines: dict[str, float]
    expected: list[str]
    done: dict[str, float] = field(default_factory=dict)
    merged: bool = False


CASES = [
    Case("assigned, sign-off and response passed", State.ASSIGNED, {"sign_off": -2, "response": -1, "closure": 5},
         ["sign_off", "response"]),
    Case("nothing due yet", State.ASSIGNED, {"sign_off": 1, "response": 2}, []),
    Case("returned past sign-off: the duty desk's turn, sign-off paused", State.RETURNED,
         {"sign_off": -2, "closure": 5}, []),
    Case("returned: a passed response is still overdue", State.RETURNED, {"sign_off": -2, "response": -1},
         ["response"]),
    Case("signed in time, response passed", State.SIGNED, {"sign_off": -3, "response": -1}, ["response"],
         done={"sign_off": -4}),
    Case("after 审核退回: signed again, response done, closure passed", State.SIGNED,
         {"sign_off": -6, "response": -5, "closure": -1}, ["closure"], done={"sign_off": -6.5, "response": -5.5}),
    Case("red: report to leaders passed", State.ASSIGNED, {"report": -2, "sign_off": 1, "press": 1}, ["report"]),
    Case("red: report recorded (登记), press passed", State.SIGNED, {"report": -3, "press": -1},
         ["press"], done={"report": -3.5}),
    Case("resolved: closure done, an unrecorded press conference still overdue", State.RESOLVED,
         {"closure": -1, "press": -2}, ["press"], done={"closure": -1.5}),
    Case("closed: every step paused", State.CLOSED, {"sign_off": -3, "response": -2, "closure": -1}, []),
    Case("merged away: nothing left to do", State.CLOSED, {"sign_off": -3}, [], merged=True),
]


def _store_case(store, case: Case, now: dt.datetime, into: int | None) -> int:
    opened = now - 10 * DAY
    incident = Incident(title=case.name, unit="石马河街道", unit_code=UNIT_A, topic="water", grade=Grade.RED,
                        state=case.state, opened_at=opened, updated_at=opened,
                        deadlines={k: now + v * DAY for k, v in case.deadlines.items()},
                        milestones={k: now + v * DAY for k, v in case.done.items()},
                        merged_into=into if case.merged else None)
    with store.begin() as tx:
        return tx.insert_incident(incident)


@pytest.fixture
def env(store, api_server):
    seed_users(store)
    return api_server, token_headers("duty1", TEST_SECRET)


def test_escalation_and_api_agree_on_every_overdue_case(env, store):
    base, headers = env
    now = utcnow()
    anchor = _store_case(store, Case("anchor", State.ASSIGNED, {"closure": 30}, []), now, None)
    ids = {case.name: _store_case(store, case, now, anchor) for case in CASES}

    # The rule itself, on the stored incidents.
    with store.read() as tx:
        stored = {name: tx.get_incident(iid) for name, iid in ids.items()}
    assert {c.name: overdue_step_names(stored[c.name], now) for c in CASES} == {c.name: c.expected for c in CASES}

    # The escalation job: one overdue line and one escalation row per overdue step.
    report = run_escalation(store, alerts_config(load_jurisdiction("jiangbei")), now)
    assert report.announced == sum(len(c.expected) for c in CASES)
    with store.read() as tx:
        lines = tx.conn.execute(select(events.c.incident_id, events.c.payload)
                                .where(events.c.kind == "overdue")).all()
        rows = tx.conn.execute(select(escalations.c.incident_id, escalations.c.step)
                               .where(escalations.c.active.is_(True))).all()
    for case in CASES:
        iid = ids[case.name]
        assert sorted(p["step"] for i, p in lines if i == iid) == sorted(case.expected), case.name
        assert sorted(s for i, s in rows if i == iid) == sorted(case.expected), case.name

    # The API: the incident's `overdue` field, the list filter and the per-unit stats count.
    for case in CASES:
        detail = http.get(f"{base}/api/incidents/{ids[case.name]}", headers=headers).json()
        assert detail["overdue"] == case.expected, case.name
    listed = http.get(f"{base}/api/incidents", params={"overdue": "true", "limit": 500}, headers=headers).json()
    assert {i["id"]: i["overdue"] for i in listed} == {ids[c.name]: c.expected for c in CASES if c.expected}
    since = (now - 30 * DAY).isoformat()
    stats = http.get(f"{base}/api/stats", params={"since": since}, headers=headers).json()
    (unit,) = stats["by_unit"]
    assert unit["overdue"] == sum(bool(c.expected) for c in CASES)

    # A second pass announces nothing again: each line exists once.
    assert run_escalation(store, alerts_config(load_jurisdiction("jiangbei")), now + dt.timedelta(minutes=1)
                          ).announced == 0


def _every_row(store) -> dict[str, list[tuple]]:
    register_all_tables()
    with store.read() as tx:
        return {name: [tuple(r) for r in tx.conn.execute(select(table))]
                for name, table in sorted(metadata.tables.items())}


def test_reading_the_feed_writes_no_row(env, store):
    base, headers = env
    now = utcnow()
    _store_case(store, CASES[0], now, None)  # overdue, never announced: a reader must not announce it
    before = _every_row(store)
    assert http.get(f"{base}/api/feed", headers=headers).status_code == 200
    assert http.get(f"{base}/api/feed", params={"tail": 5}, headers=headers).status_code == 200
    assert http.get(f"{base}/api/feed", params={"recipient": "值班室"}, headers=headers).status_code == 200
    body = http.get(f"{base}/api/feed/stream", params={"after": 0, "max_seconds": 1.5}, headers=headers).text
    assert "event: incident_new" in body and "event: overdue" not in body
    assert _every_row(store) == before


def test_two_writers_at_once_write_an_overdue_line_once(sql_store):
    """Two escalation jobs (two API processes, each with its scheduler) may announce the same step
    at the same moment: the unique key lets one line through, on SQLite and PostgreSQL."""
    import threading

    from storage.events import OnceLine, overdue_key

    now = utcnow()
    line = OnceLine(overdue_key(1, "sign_off", now), "overdue", 1, UNIT_A, {"step": "sign_off"}, now)
    results: list[int] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait(5)
        with sql_store.begin() as tx:  # waits for the first transaction's lock, then finds the key taken
            results.append(tx.add_events_once([line]))

    thread = threading.Thread(target=second)
    thread.start()
    with sql_store.begin() as tx:
        results.append(tx.add_events_once([line]))
        first_in.set()
        thread.join(0.5)  # still waiting on our uncommitted row (PostgreSQL) or the write lock (SQLite)
    thread.join(10)
    assert sorted(results) == [0, 1]
    with sql_store.read() as tx:
        assert len(tx.conn.execute(select(events.c.id).where(events.c.kind == "overdue")).all()) == 1
