"""The batched store writes of the escalation pass and the prebuilt outbox statements of the
delivery job behave as the one-at-a-time ones did, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select

from alerts.escalation import EscalationState
from core.models import AuditEntry
from storage.schema import audit_log, escalations, outbox
from tests.api_seed import add_incident

NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _rows(store, table, *order):
    with store.read() as tx:
        return [dict(r._mapping) for r in tx.conn.execute(select(table).order_by(*order))]


def test_batched_escalation_rows_match_one_at_a_time(sql_store):
    """An ended row is re-activated with the new state, a new step is inserted, an untouched
    step keeps its row: the same rows as save_escalation one by one gives."""
    ids = [add_incident(sql_store, title=f"t{i}", text=f"石马河 {i}", unit_code=None, unit=None) for i in range(3)]
    old = EscalationState(NOW - HOUR, rung=0, last_notified_at=NOW - HOUR, notify_count=1)
    with sql_store.begin() as tx:
        tx.save_escalation(ids[0], "report", old)
        tx.save_escalation(ids[2], "closure", old)
        assert tx.end_escalations(ids[0], NOW - HOUR / 2) == 1
    new = EscalationState(NOW, rung=1, last_notified_at=NOW, notify_count=2, acknowledged_rung=0,
                          acknowledged_at=NOW - HOUR / 4, acknowledged_by="值班员")
    fresh = EscalationState(NOW - HOUR / 3)
    with sql_store.begin() as tx:
        tx.save_escalations([(ids[0], "report", new), (ids[1], "sign_off", fresh)])
        tx.save_escalations([])
    rows = {(r["incident_id"], r["step"]): r for r in _rows(sql_store, escalations, escalations.c.id)}
    assert len(rows) == 3
    again = rows[ids[0], "report"]
    assert again["active"] is True and again["ended_at"] is None
    assert (again["deadline"], again["rung"], again["notify_count"], again["acknowledged_by"]) == (NOW, 1, 2, "值班员")
    assert rows[ids[1], "sign_off"]["rung"] == -1 and rows[ids[1], "sign_off"]["active"] is True
    assert rows[ids[2], "closure"]["deadline"] == NOW - HOUR  # not in the batch: unchanged


def test_batched_audit_entries_keep_their_order(sql_store):
    iid = add_incident(sql_store, title="t", text="石马河 黑臭", unit_code=None, unit=None)
    entries = [AuditEntry(iid, NOW, "system", "escalate", "assigned", "assigned", {"rung": str(i)}) for i in range(5)]
    with sql_store.begin() as tx:
        tx.add_audits(entries)
        tx.add_audits([])
    mine = [r for r in _rows(sql_store, audit_log, audit_log.c.id) if r["action"] == "escalate"]
    assert [r["detail"]["rung"] for r in mine] == ["0", "1", "2", "3", "4"]


def test_outbox_lease_retry_give_up_and_sent(sql_store):
    iid = add_incident(sql_store, title="t", text="石马河 黑臭", unit_code=None, unit=None)
    with sql_store.begin() as tx:
        first = tx.enqueue_message(incident_id=iid, channel="feed", recipient="a", address="a", grade="blue",
                                   subject="s", line="l1", event="reminder", now=NOW, not_before=NOW, group=HOUR)
        second = tx.enqueue_message(incident_id=iid, channel="feed", recipient="b", address="b", grade="blue",
                                    subject="s", line="l1", event="reminder", now=NOW, not_before=NOW + HOUR,
                                    group=HOUR)
    lease = dt.timedelta(minutes=5)
    with sql_store.begin() as tx:
        assert [m["id"] for m in tx.claim_outbox(NOW, 10, lease)] == [first]  # second not due yet
        assert tx.claim_outbox(NOW, 10, lease) == []  # leased
    with sql_store.begin() as tx:
        assert [m["id"] for m in tx.claim_outbox(NOW + lease * 2, 1, lease)] == [first]  # lease ran out
        tx.outbox_failed(first, "x" * 3000, NOW + HOUR * 2)
    with sql_store.begin() as tx:
        assert [m["id"] for m in tx.claim_outbox(NOW + HOUR, 10, lease)] == [second]  # first waits to retry
        tx.outbox_sent(second, NOW + HOUR)
    with sql_store.begin() as tx:
        assert [m["id"] for m in tx.claim_outbox(NOW + HOUR * 2, 10, lease)] == [first]
        tx.outbox_failed(first, "down", None)
    rows = {r["id"]: r for r in _rows(sql_store, outbox, outbox.c.id)}
    assert (rows[first]["status"], rows[first]["attempts"], rows[first]["last_error"]) == ("failed", 2, "down")
    assert rows[first]["locked_until"] is None and rows[first]["next_attempt_at"] == NOW + HOUR * 2
    assert (rows[second]["status"], rows[second]["attempts"], rows[second]["sent_at"]) == ("sent", 1, NOW + HOUR)
    with sql_store.begin() as tx:
        assert tx.claim_outbox(NOW + HOUR * 9, 10, lease) == []


def test_a_line_queued_while_its_message_is_being_sent_is_not_lost(sql_store):
    """The sender sends the lines it read when it claimed the message, then marks it sent: a line
    for the same recipient queued in between must go into a new message, not into the sent one."""
    iid = add_incident(sql_store, title="t", text="石马河 黑臭", unit_code=None, unit=None)
    lease, group = dt.timedelta(minutes=5), dt.timedelta(minutes=10)

    def queue(line, at):
        with sql_store.begin() as tx:
            return tx.enqueue_message(incident_id=iid, channel="feed", recipient="a", address="a", grade="blue",
                                      subject="s", line=line, event="e", now=at, not_before=at, group=group)

    first = queue("first", NOW)
    with sql_store.begin() as tx:
        claimed = tx.claim_outbox(NOW, 10, lease)
    assert [(m["id"], m["lines"]) for m in claimed] == [(first, ["first"])]
    later = queue("second", NOW + dt.timedelta(minutes=1))  # while "first" is being delivered
    assert later != first
    with sql_store.begin() as tx:
        tx.outbox_sent(first, NOW + dt.timedelta(minutes=2))
    rows = {r["id"]: r for r in _rows(sql_store, outbox, outbox.c.id)}
    assert list(rows[first]["lines"]) == ["first"] and rows[first]["status"] == "sent"
    assert list(rows[later]["lines"]) == ["second"] and rows[later]["status"] == "pending"
    assert _aware(rows[later]["not_before"]) >= NOW + dt.timedelta(minutes=1) + group  # grouping still holds
    # Once no delivery holds a message, lines join it as before.
    assert queue("third", NOW + dt.timedelta(minutes=3)) == later


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


@pytest.mark.parametrize("sql_store", ["postgresql"], indirect=True)
def test_the_pass_does_not_undo_a_close_made_between_its_read_and_its_write(sql_store):
    """The escalation pass read the active incidents, then wrote: an incident closed meanwhile (its
    escalations ended by the closing action, under the incident's row lock) had its escalation
    re-activated and climbed. The pass's read happens while the closing transaction holds the lock;
    the pass then waits on it (PostgreSQL shows it waiting) and, once the close commits, writes
    nothing for that incident."""
    from alerts.config import alerts_config
    from alerts.escalation_job import run_escalation
    from core.jurisdiction import load_jurisdiction
    from core.models import State

    store = sql_store
    config = alerts_config(load_jurisdiction("jiangbei"))
    incident_id = add_incident(store, title="石马河黑臭", text="石马河黑臭", unit_code="500105003000",
                               unit="石马河街道", opened_at=NOW, deadlines={"sign_off": NOW + HOUR})
    assert run_escalation(store, config, NOW + 2 * HOUR).climbed == 1  # 催办: the row is active
    later = NOW + 6 * HOUR  # 督办 would be due
    result: list = []
    with store.begin() as tx:  # what 审核办结/误报 do: lock, close, end the escalations
        incident = tx.get_incident_for_update(incident_id)
        incident.state, incident.milestones["closed"] = State.CLOSED, later
        tx.end_escalations(incident_id, later)
        tx.update_incident(incident)
        job = threading.Thread(target=lambda: result.append(run_escalation(store, config, later)))
        job.start()
        deadline = time.monotonic() + 20
        while True:  # the pass has read (the incident still open) and waits on a lock
            with store.engine.connect() as probe:
                waiting = probe.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                                                "'Lock' AND datname = current_database()").scalar_one()
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert waiting, "the escalation pass never waited on the closing transaction"
    job.join(timeout=30)
    (report,) = result
    assert report.climbed == 0 and report.notified == 0 and report.skipped >= 1, report
    rows = _rows(store, escalations, escalations.c.step)
    assert [(r["step"], r["active"], r["rung"]) for r in rows] == [("sign_off", False, 0)]
    escalated = [r for r in _rows(store, audit_log, audit_log.c.id) if r["action"] == "escalate"]
    assert len(escalated) == 1  # the 催办 of the first pass only
