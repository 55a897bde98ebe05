"""The one live-feed table (storage.events): a workflow action and its feed line, a delivered
in-app notification and its outbox mark, commit or roll back together, on SQLite and PostgreSQL;
the console and a recipient's inbox read the same table over the real server."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from alerts import actions
from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.notifiers.feed import FeedNotifier
from core.errors import StoreError
from core.jurisdiction import load_jurisdiction
from core.models import State
from core.timeutil import utcnow
from dashboard_api.workflow_gateway import apply_action
from storage.schema import audit_log, events, outbox
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

DUTY_DESK, UNIT_CONTACT = "区生态环境局值班室", "属地联系人"


@pytest.fixture
def config():
    cfg = alerts_config(load_jurisdiction("jiangbei"))
    cfg.quiet_hours = None
    return cfg


class CrashAtCommit(RuntimeError):
    """Stands for the process dying between the last write and the commit."""


def writes_events(statement: str, _parameters) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO EVENTS ")


def marks_sent(statement: str, parameters) -> bool:
    return statement.lstrip().upper().startswith("UPDATE OUTBOX ") and "'sent'" in repr(parameters)


@contextmanager
def crash_at_commit(store, when: Callable[[str, Any], bool] | None = None) -> Iterator[list[int]]:
    """Make the next commit (of a transaction that ran a statement ``when`` picks, if given) fail
    once, after every statement of the transaction ran. Yields a list that counts the crashes."""
    crashed: list[int] = []

    def watch(conn, _cursor, statement, parameters, *_args):
        if when is not None and when(statement, parameters):
            conn.info["wrote_watched"] = True

    def commit(conn):
        wrote = conn.info.pop("wrote_watched", False)
        if not crashed and (when is None or wrote):
            crashed.append(1)
            raise CrashAtCommit("crash before commit")

    event.listen(store.engine, "before_cursor_execute", watch)
    event.listen(store.engine, "commit", commit)
    try:
        yield crashed
    finally:
        event.remove(store.engine, "commit", commit)
        event.remove(store.engine, "before_cursor_execute", watch)


def _counts(store, incident_id):
    with store.read() as tx:
        lines = [e for e in tx.events_after(0, limit=500) if e.incident_id == incident_id]
        audits = tx.conn.execute(select(func.count()).select_from(audit_log)
                                 .where(audit_log.c.incident_id == incident_id)).scalar_one()
        queued = tx.conn.execute(select(func.count()).select_from(outbox)
                                 .where(outbox.c.incident_id == incident_id)).scalar_one()
        return tx.get_incident(incident_id).state, [e.kind for e in lines], audits, queued


def test_action_and_its_feed_line_commit_or_roll_back_together(sql_store, config):
    store = sql_store
    seed_users(store)  # the API's adapter acts for a console user, under the token version it was checked with
    iid = add_incident(store, title="来历不明的污水", text="江北区某处污水", unit_code=None, unit=None, state=State.NEW)
    before = _counts(store, iid)
    assert before == (State.NEW, ["incident_new"], 1, 0)

    with crash_at_commit(store) as crashed, pytest.raises(CrashAtCommit):
        actions.assign(store, config, iid, UNIT_A, "duty1", now=utcnow())
    assert crashed and _counts(store, iid) == before  # neither the assignment nor its feed line
    # Through the API's adapter: the crash comes when the feed line's transaction commits, and
    # that is the action's own transaction (there is no second one that could fail alone).
    with crash_at_commit(store, writes_events) as crashed, pytest.raises(CrashAtCommit):
        apply_action(store, config, iid, "assign", actor="duty1", role="duty", version=0,
                     params={"unit_code": UNIT_A}, now=utcnow())
    assert crashed and _counts(store, iid) == before

    done = apply_action(store, config, iid, "assign", actor="duty1", role="duty", version=0,
                        params={"unit_code": UNIT_A}, now=utcnow())
    assert done.state is State.ASSIGNED
    state, kinds, audits, queued = _counts(store, iid)
    assert (state, kinds, audits) == (State.ASSIGNED, ["incident_new", "incident_changed"], 2) and queued > 0
    with store.read() as tx:
        line = tx.events_after(0, unit_code=UNIT_A)[-1]
    assert (line.payload["action"], line.payload["from_state"], line.payload["to_state"], line.payload["actor"]) == (
        "assign", "new", "assigned", "duty1")


def test_feed_line_that_cannot_be_written_undoes_the_action(sql_store, config):
    store = sql_store
    iid = add_incident(store, title="噪声", text="观音桥噪声", unit_code=UNIT_A, unit="石马河街道")
    with store.begin() as tx:  # the journal refuses progress lines, as a full disk or a bad column would
        if store.engine.dialect.name == "sqlite":
            tx.conn.exec_driver_sql("CREATE TRIGGER no_feed BEFORE INSERT ON events WHEN NEW.kind = 'incident_changed' "
                                    "BEGIN SELECT RAISE(ABORT, 'feed refused'); END")
        else:
            tx.conn.exec_driver_sql("CREATE FUNCTION no_feed() RETURNS trigger AS $$ BEGIN "
                                    "RAISE EXCEPTION 'feed refused'; END $$ LANGUAGE plpgsql")
            tx.conn.exec_driver_sql("CREATE TRIGGER no_feed BEFORE INSERT ON events FOR EACH ROW "
                                    "WHEN (NEW.kind = 'incident_changed') EXECUTE FUNCTION no_feed()")
    before = _counts(store, iid)
    with pytest.raises(StoreError, match="feed refused"):
        actions.return_incident(store, config, iid, "unit_a", "不属本辖区", now=utcnow())
    assert _counts(store, iid) == before  # not returned, no audit entry, nothing queued


@pytest.mark.parametrize("crash_when", [writes_events, marks_sent], ids=["storing", "marking-sent"])
def test_in_app_notification_stored_once_with_its_outbox_mark(sql_store, config, crash_when):
    store = sql_store
    now = utcnow()
    iid = add_incident(store, title="来历不明的污水", text="江北区某处污水", unit_code=None, unit=None, state=State.NEW)
    actions.assign(store, config, iid, UNIT_A, "duty1", now=now)  # queues the unit contact's feed message
    feed = {"feed": FeedNotifier(store)}

    with crash_at_commit(store, crash_when) as crashed:
        first = deliver(store, feed, config, now=now)
    assert crashed and (first.sent, first.retrying) == (0, 1)
    with store.read() as tx:
        assert tx.notifications_after() == []  # the crash took the notification with it...
        (message,) = tx.list_outbox(incident_id=iid)
    assert message["status"] == "pending" and "CrashAtCommit" in message["last_error"]  # ...and it is retried

    again = deliver(store, feed, config, now=now + dt.timedelta(hours=1))
    assert (again.sent, again.retrying, again.failed) == (1, 0, 0)
    assert deliver(store, feed, config, now=now + dt.timedelta(hours=2)).sent == 0
    with store.read() as tx:
        (note,) = tx.notifications_after()
        assert tx.list_outbox(incident_id=iid)[0]["status"] == "sent"
        (stored,) = tx.events_after(0, recipient=UNIT_CONTACT)
    assert (note["recipient"], note["incident_id"], note["events"]) == (UNIT_CONTACT, iid, ["assigned"])
    assert "交办至石马河街道" in note["body"] and note["subject"].endswith("来历不明的污水")
    assert (stored.kind, stored.unit_code, stored.id) == ("notification", UNIT_A, note["id"])


def test_console_and_inbox_read_the_one_table(store, api_server, config):
    seed_users(store)
    base, http = api_server, httpx.Client(timeout=10)
    h = {n: token_headers(n, TEST_SECRET) for n in ("duty1", "unit_a", "unit_b")}
    a = add_incident(store, title="石马河污水", text="石马河污水", unit_code=None, unit=None, state=State.NEW)
    b = add_incident(store, title="观音桥噪声", text="观音桥噪声", unit_code=None, unit=None, state=State.NEW)
    assert http.post(f"{base}/api/incidents/{a}/assign", headers=h["duty1"], json={"unit_code": UNIT_A}).is_success
    assert http.post(f"{base}/api/incidents/{b}/assign", headers=h["duty1"], json={"unit_code": UNIT_B}).is_success
    assert deliver(store, {"feed": FeedNotifier(store)}, config).sent == 2
    with store.begin() as tx:  # a notification about no incident: the duty desk's only
        tx.add_feed_event(at=utcnow(), incident_id=None, recipient=DUTY_DESK, grade=None, subject="系统",
                          body="数据源异常", events=["source_down"])

    # The console's lines are unchanged: no notification among them, recipient null.
    console = http.get(f"{base}/api/feed", headers=h["duty1"]).json()
    assert [e["kind"] for e in console] == ["incident_new", "incident_new", "incident_changed", "incident_changed"]
    assert {e["recipient"] for e in console} == {None}
    # A recipient's inbox: its notifications, a unit user only its own unit's.
    inbox = http.get(f"{base}/api/feed", params={"recipient": UNIT_CONTACT}, headers=h["duty1"]).json()
    assert [(e["kind"], e["incident_id"], e["recipient"]) for e in inbox] == [
        ("notification", a, UNIT_CONTACT), ("notification", b, UNIT_CONTACT)]
    assert inbox[0]["label"] == "通知" and inbox[0]["payload"]["events"] == ["assigned"]
    mine = http.get(f"{base}/api/feed", params={"recipient": UNIT_CONTACT}, headers=h["unit_a"]).json()
    assert [e["incident_id"] for e in mine] == [a]
    assert http.get(f"{base}/api/feed", params={"recipient": DUTY_DESK}, headers=h["unit_a"]).json() == []
    desk = http.get(f"{base}/api/feed", params={"recipient": DUTY_DESK, "tail": 1}, headers=h["duty1"]).json()
    assert [e["payload"]["body"] for e in desk] == ["数据源异常"]
    # The stream serves the inbox with the same ids, resumable after the first one.
    body = http.get(f"{base}/api/feed/stream", params={"recipient": UNIT_CONTACT, "max_seconds": 1},
                    headers={**h["duty1"], "Last-Event-ID": str(inbox[0]["id"])}).text
    frames = [dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
              for block in body.split("\n\n") if "data: " in block]
    assert [(f["id"], f["event"]) for f in frames] == [(str(inbox[1]["id"]), "notification")]
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(events)).scalar_one() == 7


def test_stream_keeps_a_quiet_connection_alive_and_resumes(store, api_server, monkeypatch):
    """FastAPI's EventSourceResponse sends a comment line whenever nothing was sent for its ping
    interval (15 s; shortened here in the server's own process) so proxies keep the connection;
    the frames carry ids a reconnect resumes after."""
    import fastapi.routing

    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.3)
    seed_users(store)
    base, http = api_server, httpx.Client(timeout=10)
    h = token_headers("duty1", TEST_SECRET)
    quiet = http.get(f"{base}/api/feed/stream", params={"max_seconds": 1.5}, headers=h)
    assert quiet.headers["content-type"].startswith("text/event-stream")
    assert quiet.headers["cache-control"] == "no-cache" and quiet.headers["x-accel-buffering"] == "no"
    assert quiet.text.startswith("retry: 2000\n\n") and ": ping\n\n" in quiet.text and "data: " not in quiet.text
    a = add_incident(store, title="石马河污水", text="石马河污水", unit_code=UNIT_A, unit="石马河街道")
    body = http.get(f"{base}/api/feed/stream", params={"after": 0, "max_seconds": 1}, headers=h).text
    (frame,) = [b for b in body.split("\n\n") if "data: " in b]
    fields = dict(line.split(": ", 1) for line in frame.splitlines())
    assert fields["event"] == "incident_new" and json.loads(fields["data"])["incident_id"] == a
    assert "石马河污水" in fields["data"]  # Chinese as is, not \u-escaped
    again = http.get(f"{base}/api/feed/stream", params={"max_seconds": 0.5},
                     headers={**h, "Last-Event-ID": fields["id"]}).text
    assert "data: " not in again


def test_a_line_still_being_written_is_never_skipped_by_a_resuming_reader(sql_store):
    """Two writers at once on PostgreSQL: the first inserts line N and has not committed, the
    second inserts N+1 and commits. PostgreSQL hands out ids on insert, not on commit, so N+1 is
    visible before N; a reader served N+1 would resume after it and never get N. The feed (the
    console's poll, its stream, the feed for other systems) serves neither until N's transaction
    ends, then both, in order."""
    if sql_store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its ids are in commit order")
    from dashboard_api import create_app
    from storage.sql import Tx
    from tests.conftest import serving

    store = sql_store
    seed_users(store)
    now = utcnow()
    with store.begin() as tx:
        start = tx.add_event("incident_new", None, UNIT_A, {"title": "起点"}, now)
    h = token_headers("duty1", TEST_SECRET)
    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET)) as base:
        slow = store.engine.connect()
        slow_tx = slow.begin()
        slow_id = Tx(slow, None).add_event("incident_changed", None, UNIT_A, {"action": "sign"}, now)  # open
        with store.begin() as tx:
            fast_id = tx.add_event("incident_changed", None, UNIT_A, {"action": "respond"}, now)
        assert fast_id > slow_id > start
        got: dict[str, Any] = {}

        def poll() -> None:
            got["poll"] = httpx.get(f"{base}/api/feed", params={"after": start}, headers=h, timeout=30).json()

        def other_system() -> None:
            got["feeds"] = httpx.get(f"{base}/api/feeds/incidents.json", params={"after": start}, headers=h,
                                     timeout=30).json()

        def stream() -> None:
            body = httpx.get(f"{base}/api/feed/stream", params={"max_seconds": 4},
                             headers={**h, "Last-Event-ID": str(start)}, timeout=30).text
            got["stream"] = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]

        readers = [threading.Thread(target=f, daemon=True) for f in (poll, other_system, stream)]
        for reader in readers:
            reader.start()
        time.sleep(1.5)
        served_early = dict(got)  # what the readers had before line N committed: nothing
        slow_tx.commit()
        slow.close()
        for reader in readers:
            reader.join(30)
    assert served_early == {}
    assert [e["id"] for e in got["poll"]] == [slow_id, fast_id]
    assert [e["id"] for e in got["feeds"]["events"]] == [slow_id, fast_id] and got["feeds"]["next_after"] == fast_id
    assert got["stream"] == [slow_id, fast_id]
