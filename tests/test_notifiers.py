"""Notification channels against real servers on 127.0.0.1: an aiosmtpd SMTP server and HTTP
receivers standing in for the WeCom / DingTalk robots, one of which fails and then recovers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.notifiers import build_notifiers
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.webhooks import DingTalkNotifier, WeComNotifier
from alerts.notify import notify
from core.errors import NotConfigured
from core.jurisdiction import load_jurisdiction
from core.models import Grade, Incident, State
from core.settings import Settings
from core.timeutil import SHANGHAI

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


class Receiver:
    """A robot webhook: answers ``fail_first`` requests with HTTP 500, then {"errcode": 0}."""

    def __init__(self, fail_first: int = 0, errcode: int = 0) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.fail_first, self.errcode = fail_first, errcode
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append((self.path, body))
                if len(receiver.requests) <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                answer = json.dumps({"errcode": receiver.errcode, "errmsg": "ok" if not receiver.errcode else "bad"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=abc"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def _incident(store, grade=Grade.YELLOW) -> Incident:
    inc = Incident(title="建新北路工地夜间施工 <b>*扰民*</b> [链接](http://evil)", unit="观音桥街道",
                   unit_code="500105006000", topic="noise", grade=grade, state=State.ASSIGNED, opened_at=NOW,
                   updated_at=NOW)
    with store.begin() as tx:
        tx.insert_incident(inc)
    return inc


def _config(contacts):
    cfg = alerts_config(load_jurisdiction("jiangbei"))
    cfg.contacts = contacts
    return cfg


def _queue(store, cfg, inc, text="催办: 签收已超时", event="reminder", at=NOW):
    with store.begin() as tx:
        return notify(tx, cfg, inc, event, text, at)


def test_components_switch_off_without_settings(store):
    with pytest.raises(NotConfigured):
        EmailNotifier.from_settings(Settings())
    with pytest.raises(NotConfigured):
        WeComNotifier.from_settings(Settings())
    assert set(build_notifiers(Settings(), store)) == {"feed"}
    assert set(build_notifiers(Settings(smtp_host="127.0.0.1", wecom_enabled=True, dingtalk_enabled=True),
                               store)) == {"feed", "email", "wecom", "dingtalk"}


def test_email_over_real_smtp_grouped_per_incident(store, smtp_server):
    port, inbox = smtp_server
    cfg = _config([{"name": "观音桥联系人", "roles": ["unit"], "email": "gyq@bureau.test"}])
    inc = _incident(store)
    _queue(store, cfg, inc, "催办: 签收已超时")
    _queue(store, cfg, inc, "催办（再次）: 签收已超时", at=NOW + dt.timedelta(minutes=1))
    notifiers = build_notifiers(Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="ecowatch@bureau.test"),
                                store)
    report = deliver(store, notifiers, cfg, now=NOW + dt.timedelta(minutes=2))
    assert (report.sent, report.failed) == (2, 0)  # feed + email, each one grouped message
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["gyq@bureau.test"]
    body = envelope.content.decode("utf-8", "replace")
    assert "X-Ecowatch-Incident: " + str(inc.id) in body
    # One message per incident per interval: a third event right after sending waits for the interval.
    _queue(store, cfg, inc, "催办（第三次）: 签收已超时", at=NOW + dt.timedelta(minutes=3))
    assert deliver(store, notifiers, cfg, now=NOW + dt.timedelta(minutes=4)).sent == 0
    assert deliver(store, notifiers, cfg, now=NOW + dt.timedelta(minutes=12)).sent == 2
    assert len(inbox.messages) == 2


def test_smtp_down_is_retried_then_delivered(store, smtp_server):
    port, inbox = smtp_server
    cfg = _config([{"name": "值班室", "roles": ["duty_desk", "unit"], "email": "duty@bureau.test"}])
    cfg.channels = ("email",)
    inc = _incident(store)
    _queue(store, cfg, inc)
    dead = {"email": EmailNotifier("127.0.0.1", _free_port(), "ecowatch@bureau.test", timeout=2)}
    first = deliver(store, dead, cfg, now=NOW)
    assert (first.sent, first.retrying) == (0, 1)
    with store.read() as tx:
        (row,) = tx.list_outbox(incident_id=inc.id)
    assert row["status"] == "pending" and "SMTP" in row["last_error"] and row["attempts"] == 1
    live = {"email": EmailNotifier("127.0.0.1", port, "ecowatch@bureau.test")}
    assert deliver(store, live, cfg, now=NOW + dt.timedelta(seconds=10)).sent == 0  # backoff not over
    assert deliver(store, live, cfg, now=NOW + dt.timedelta(seconds=31)).sent == 1
    assert len(inbox.messages) == 1


def test_wecom_receiver_fails_then_recovers(store, receivers):
    robot = Receiver(fail_first=2)
    receivers.append(robot)
    cfg = _config([{"name": "观音桥群", "roles": ["unit"], "wecom": robot.url}])
    cfg.channels = ("wecom",)
    inc = _incident(store)
    _queue(store, cfg, inc)
    notifiers = {"wecom": WeComNotifier(timeout=3)}
    assert deliver(store, notifiers, cfg, now=NOW).retrying == 1  # 500
    assert deliver(store, notifiers, cfg, now=NOW + dt.timedelta(seconds=30)).retrying == 1  # 500 again
    assert deliver(store, notifiers, cfg, now=NOW + dt.timedelta(seconds=60)).sent == 0  # backoff 60 s
    assert deliver(store, notifiers, cfg, now=NOW + dt.timedelta(seconds=91)).sent == 1
    assert len(robot.requests) == 3
    path, body = robot.requests[-1]
    assert path == "/robot/send?key=abc" and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert "催办" in content and "\\[链接\\]\\(http://evil\\)" in content and "\\<b\\>" in content  # escaped
    with store.read() as tx:
        (row,) = tx.list_outbox(incident_id=inc.id)
    assert row["status"] == "sent" and row["attempts"] == 3 and "HTTP 500" in row["last_error"]


def test_dingtalk_signed_and_refusal_recorded_as_failure(store, receivers):
    good, bad = Receiver(), Receiver(errcode=310000)
    receivers.extend([good, bad])
    cfg = _config([{"name": "领导群", "roles": ["leader"], "dingtalk": good.url},
                   {"name": "坏群", "roles": ["leader"], "dingtalk": bad.url}])
    cfg.channels, cfg.max_attempts = ("dingtalk",), 2
    inc = _incident(store, Grade.RED)
    _queue(store, cfg, inc, "领导督办: 回应已超时", "leader")
    notifiers = {"dingtalk": DingTalkNotifier(timeout=3, secret="SEC123")}
    first = deliver(store, notifiers, cfg, now=NOW)
    assert (first.sent, first.retrying) == (1, 1)
    path, body = good.requests[0]
    query = parse_qs(urlsplit(path).query)
    stamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(hmac.new(b"SEC123", f"{stamp}\nSEC123".encode(), hashlib.sha256).digest()).decode()
    assert sign == expected and body["markdown"]["title"].startswith("[特别重大]")
    final = deliver(store, notifiers, cfg, now=NOW + dt.timedelta(minutes=5))
    assert final.failed == 1
    with store.read() as tx:
        (failed,) = tx.list_outbox(status="failed")
    assert failed["recipient"] == "坏群" and "310000" in failed["last_error"]


def test_quiet_hours_hold_email_but_not_red(store, smtp_server):
    port, inbox = smtp_server
    cfg = _config([{"name": "值班室", "roles": ["duty_desk", "unit"], "email": "duty@bureau.test"}])
    cfg.channels, cfg.quiet_hours = ("email",), ["22:00", "07:30"]
    night = dt.datetime(2026, 12, 1, 23, 0, tzinfo=SHANGHAI)
    notifiers = {"email": EmailNotifier("127.0.0.1", port, "ecowatch@bureau.test")}
    _queue(store, cfg, _incident(store, Grade.BLUE), at=night)
    _queue(store, cfg, _incident(store, Grade.RED), at=night)
    assert deliver(store, notifiers, cfg, now=night).sent == 1  # red only
    assert deliver(store, notifiers, cfg, now=night + dt.timedelta(hours=8, minutes=29)).sent == 0
    assert deliver(store, notifiers, cfg, now=night + dt.timedelta(hours=8, minutes=30)).sent == 1
    assert len(inbox.messages) == 2
