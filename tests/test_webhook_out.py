"""The outbound webhook against a real HTTP receiver on 127.0.0.1: new incidents and state changes
are POSTed signed (the receiver verifies the HMAC as docs/exports.md tells it to), through the
outbox: a receiver that fails and then recovers gets each event once, a dead one leaves the
message visibly failed, and two passes at once never queue a line twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts import actions
from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.event_documents import EVENT_FIELDS
from alerts.notifiers import build_notifiers
from alerts.notifiers.signed_webhook import CHANNEL
from alerts.webhook_out import forward_events
from core.jurisdiction import load_jurisdiction
from core.settings import Settings
from storage.cursors import CursorMoved
from storage.sql import Tx
from tests.api_seed import UNIT_A, add_incident
from tests.test_exports import _documented

SECRET = "webhook-secret-for-the-city-platform-0123456789"
T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


class Receiver:
    """The city platform's endpoint: verifies each POST as docs/exports.md says, answers 500 to the
    first ``fail_first`` ones, then 204."""

    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[tuple[dict, bytes, bool]] = []  # headers, raw body, accepted
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Ecowatch-Timestamp"]
                expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(expected, self.headers["X-Ecowatch-Signature"]) \
                    and abs(time.time() - int(stamp)) < 300
                accept = valid and len(receiver.posts) >= receiver.fail_first
                receiver.posts.append((dict(self.headers), body, accept))
                self.send_response(204 if accept else (401 if not valid else 500))
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ecowatch/events"

    def accepted_events(self) -> list[dict]:
        return [e for _h, body, ok in self.posts if ok for e in json.loads(body)["events"]]


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.server.shutdown()
        r.server.server_close()


def _setup(store, receivers, *fail_first):
    for n in fail_first:
        receivers.append(Receiver(n))
    settings = Settings(webhook_urls=",".join(r.url for r in receivers), webhook_secret=SECRET,
                        notify_timeout_seconds=3)
    config = alerts_config(load_jurisdiction("jiangbei"))
    notifiers = {CHANNEL: build_notifiers(settings, store)[CHANNEL]}
    return config, notifiers


def _webhook_rows(store, status=None):
    with store.read() as tx:
        return [r for r in tx.list_outbox(status=status, limit=1000) if r["channel"] == CHANNEL]


def test_receiver_failing_then_recovering_gets_each_event_once(store, receivers):
    config, notifiers = _setup(store, receivers, 2)
    add_incident(store, title="旧事件", text="石马河旧事", unit_code=UNIT_A, unit="石马河街道", opened_at=T0)
    assert deliver(store, notifiers, config, now=T0).sent == 0  # first pass: starts from now, no history
    first = add_incident(store, title="石马河又黑又臭 <b>&", text="石马河黑臭", unit_code=UNIT_A, unit="石马河街道",
                         opened_at=T0 + dt.timedelta(minutes=1))
    actions.sign(store, config, first, "unit_a", now=T0 + dt.timedelta(minutes=2))
    second = add_incident(store, title="排污口", text="石马河排污口", unit_code=UNIT_A, unit="石马河街道",
                          opened_at=T0 + dt.timedelta(minutes=3))
    now = T0 + dt.timedelta(minutes=4)
    report = deliver(store, notifiers, config, now=now)  # two messages (one per incident), both refused
    assert (report.sent, report.retrying) == (0, 2)
    assert [r["status"] for r in _webhook_rows(store)] == ["pending", "pending"]
    assert all("HTTP 500" in r["last_error"] for r in _webhook_rows(store))
    assert deliver(store, notifiers, config, now=now + dt.timedelta(seconds=10)).sent == 0  # backoff
    assert deliver(store, notifiers, config, now=now + dt.timedelta(seconds=31)).sent == 2
    assert deliver(store, notifiers, config, now=now + dt.timedelta(minutes=30)).sent == 0  # nothing again
    (receiver,) = receivers
    assert len(receiver.posts) == 4
    events = sorted(receiver.accepted_events(), key=lambda e: e["id"])
    assert [(e["kind"], e["incident_id"]) for e in events] == [
        ("incident_new", first), ("incident_changed", first), ("incident_new", second)]
    assert len({e["id"] for e in events}) == 3  # each once
    assert all(list(e) == list(EVENT_FIELDS) for e in events)
    changed = events[1]
    assert (changed["action"], changed["from_state"], changed["to_state"]) == ("sign", "assigned", "signed")
    assert events[0]["title"] == "石马河又黑又臭 <b>&" and events[0]["at"] == "2026-12-01T10:01:00+08:00"
    headers, body, _ok = receiver.posts[-1]
    envelope = json.loads(body)
    assert envelope["schema_version"] == "ecowatch.webhook.v1"
    assert [row[0] for row in _documented("## Outbound webhook")] == list(envelope)  # docs/exports.md
    assert headers["X-Ecowatch-Delivery"] == str(envelope["delivery"])
    # A retry is the same delivery: the refused attempts carried the ids the accepted ones carry.
    assert {h["X-Ecowatch-Delivery"] for h, _b, _o in receiver.posts} == \
        {h["X-Ecowatch-Delivery"] for h, _b, ok in receiver.posts if ok}
    assert [r["status"] for r in _webhook_rows(store)] == ["sent", "sent"]


def test_dead_receiver_leaves_the_message_failed_and_visible(store, receivers):
    config, notifiers = _setup(store, receivers, 1000)
    config.max_attempts = 2
    deliver(store, notifiers, config, now=T0)
    add_incident(store, title="石马河", text="石马河黑臭", unit_code=UNIT_A, unit="石马河街道", opened_at=T0)
    assert deliver(store, notifiers, config, now=T0).retrying == 1
    assert deliver(store, notifiers, config, now=T0 + dt.timedelta(minutes=5)).failed == 1
    (row,) = _webhook_rows(store, "failed")
    assert row["attempts"] == 2 and "HTTP 500" in row["last_error"] and row["address"] == receivers[0].url


def test_every_url_gets_every_event_and_the_cursor_never_doubles(sql_store, receivers):
    store = sql_store  # SQLite and PostgreSQL
    config, notifiers = _setup(store, receivers, 0, 0)
    assert forward_events(store, notifiers, T0) == 0  # the cursor starts at the newest line
    ids = [add_incident(store, title=f"事件{n}", text="石马河黑臭", unit_code=UNIT_A, unit="石马河街道",
                        opened_at=T0) for n in range(3)]
    with store.read() as tx:
        read = tx.event_cursor("webhook")
    # Another pass moved the cursor after this one read it: this one's transaction is refused.
    with pytest.raises(CursorMoved), store.begin() as tx:
        tx.move_event_cursor("webhook", read, read + 1, T0)
        tx.move_event_cursor("webhook", read, read + 3, T0)
    assert forward_events(store, notifiers, T0) == 3
    assert forward_events(store, notifiers, T0) == 0
    assert len(_webhook_rows(store)) == 6  # 3 incidents × 2 URLs
    assert deliver(store, notifiers, config, now=T0).sent == 6
    for receiver in receivers:
        assert sorted(e["incident_id"] for e in receiver.accepted_events()) == ids


def test_webhook_needs_a_secret_and_is_off_without_urls(store):
    with pytest.raises(ValueError, match="ECOWATCH_WEBHOOK_SECRET"):
        Settings(webhook_urls="http://127.0.0.1:9/x")
    with pytest.raises(ValueError, match="not http"):
        Settings(webhook_urls="ftp://example.test/x", webhook_secret=SECRET)
    assert CHANNEL not in build_notifiers(Settings(), store)


def test_a_line_still_being_written_is_never_skipped(sql_store, receivers):
    """PostgreSQL hands out ids when a line is inserted, not when it commits: line N+1 can be seen
    while line N's transaction is still open. The pass waits for it rather than move past it."""
    if sql_store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its ids are in commit order")
    store = sql_store
    _, notifiers = _setup(store, receivers, 0)
    forward_events(store, notifiers, T0)
    slow = store.engine.connect()
    slow_tx = slow.begin()
    slow_id = Tx(slow, None).add_event("incident_changed", None, UNIT_A, {"action": "sign"}, T0)  # not committed
    with store.begin() as tx:
        fast_id = tx.add_event("incident_changed", None, UNIT_A, {"action": "respond"}, T0)
    assert fast_id > slow_id
    queued: list[int] = []
    worker = threading.Thread(target=lambda: queued.append(forward_events(store, notifiers, T0)))
    worker.start()
    worker.join(1.0)
    assert worker.is_alive()  # waiting for the open transaction, not moving past its line
    slow_tx.commit()
    slow.close()
    worker.join(10)
    assert queued == [2]
    lines = [json.loads(line)["id"] for r in _webhook_rows(store) for line in r["lines"]]
    assert sorted(lines) == [slow_id, fast_id]
