"""报送 with deadlines, against real servers on 127.0.0.1 (aiosmtpd, an HTTP platform, a platform
that never answers): a 重大 incident gets its 首报 within the hour and a 续报 next day, both recorded;
a refusal or a time-out is retried, stays visible, and the report stays "not sent"; a 续报 not sent
in time is overdue and escalates like any step (the one overdue rule)."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import datetime as dt
import email
import socket

import httpx
import pytest

from alerts.escalation import overdue_step_names
from alerts.escalation_job import run_escalation
from alerts.reporting import deliver_sendings, mark_sent, report_notifiers, request_sending
from briefing.report_service import build_special_report, keep_special_report
from core.errors import WorkflowError
from core.settings import Settings
from core.sharing import ReportKind
from dashboard_api.routes.reports import reports_of
from tests.api_seed import PASSWORD, login
from tests.test_notifiers import Receiver, receivers, smtp_server  # noqa: F401  (fixtures)
from tests.test_special_report import config, jurisdiction, seed_major  # noqa: F401  (fixtures)

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@pytest.fixture
def silent_platform():
    """A platform that accepts the connection and never answers (a time-out)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/receive"
    sock.close()


def _send(store, notifiers, config, at):
    return deliver_sendings(store, notifiers, config, now=at)


def test_first_within_the_hour_and_followup_next_day(store, analyzer, config, jurisdiction, smtp_server,
                                                     receivers, silent_platform):
    port, inbox = smtp_server
    platform = Receiver(fail_first=1)
    receivers.append(platform)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="ecowatch@bureau.test",
                        notify_timeout_seconds=0.5)
    notifiers = report_notifiers(settings)
    incident_id, _, _ = seed_major(store, analyzer, config)
    with store.read() as tx:
        inc = tx.get_incident(incident_id)
    due = inc.deadlines["first_report"]  # the pack: 重大 → 首报 within 1 h of the grade
    assert inc.grade.value == "orange" and dt.timedelta(0) < due - inc.opened_at <= H
    assert "first_report" in overdue_step_names(inc, due + M)  # unsent, it would be overdue

    # 首报 twenty minutes before its deadline: by email to the city bureau and to 网信办's platform.
    at = due - 20 * M
    first = keep_special_report(store, build_special_report(store, jurisdiction, incident_id, now=at), "值班员")
    by_mail = request_sending(store, config, first.id, "city_bureau", "email", "shiju@city.test", "值班员", now=at)
    by_hook = request_sending(store, config, first.id, "cac", "webhook", platform.url, "值班员", now=at)
    outcome = _send(store, notifiers, config, at)
    assert (outcome.sent, outcome.retrying, outcome.failed) == (1, 1, 0)
    mail = email.message_from_bytes(inbox.messages[0].content)
    attached = [part for part in mail.walk() if part.get_filename()]
    assert attached[0].get_filename().endswith(".docx") and attached[0].get_payload(decode=True)[:2] == b"PK"
    with store.read() as tx:
        assert tx.get_sending(by_mail.id).status == "sent"
        hook = tx.get_sending(by_hook.id)
        inc = tx.get_incident(incident_id)
    assert hook.status == "pending" and "HTTP 500" in hook.last_error and hook.attempts == 1  # visible
    assert inc.milestones["first_report"] == at  # the email got through: 首报 done in time
    assert inc.deadlines["followup_report"] == at + 24 * H  # 续报 due a day after the 首报
    # The platform takes it on the retry; that does not move the 续报 clock again.
    assert _send(store, notifiers, config, at + 10 * M).sent == 1 and len(platform.requests) == 2
    assert platform.requests[1][1]["attachments"][0]["name"].endswith(".docx")
    with store.read() as tx:
        assert tx.get_incident(incident_id).deadlines["followup_report"] == at + 24 * H
        assert [s.status for s in tx.sendings(report_ids=[first.id])] == ["sent", "sent"]
    run_escalation(store, config, at + 2 * H)
    with store.read() as tx:
        inc = tx.get_incident(incident_id)
        lines = [e.payload.get("step") for e in tx.events_after(0) if e.kind == "overdue"]
    assert "first_report" not in overdue_step_names(inc, at + 2 * H) and "first_report" not in lines

    # 续报 next day, an hour before it falls due, recorded as sent by hand (政务内网).
    next_day = at + 23 * H
    second = keep_special_report(store, build_special_report(store, jurisdiction, incident_id, now=next_day),
                                 "值班员乙")
    request_sending(store, config, second.id, "city_bureau", "manual", None, "值班员乙", "政务内网报送", now=next_day)
    with store.read() as tx:
        inc = tx.get_incident(incident_id)
        audit = [e for e in tx.audit_for(incident_id) if e.action == "report_sent"]
    assert inc.deadlines["followup_report"] == next_day + 24 * H
    assert [(e.detail["kind"], e.detail["recipient"], e.detail["channel"]) for e in audit] == [
        ("first", "city_bureau", "email"), ("first", "cac", "webhook"), ("followup", "city_bureau", "manual")]
    kept = reports_of(store, incident_id)
    assert [(r.kind_label, r.sent) for r in kept] == [("首报", True), ("续报", True)]
    assert kept[1].sendings[0].sent_at == next_day and kept[1].sendings[0].sent_by == "值班员乙"

    # No 续报 the day after: overdue, announced once and escalated like any step.
    late = next_day + 24 * H + M
    report = run_escalation(store, config, late)
    with store.read() as tx:
        overdue = [e.payload for e in tx.events_after(0) if e.kind == "overdue" and e.incident_id == incident_id]
        escalations = [e for e in tx.audit_for(incident_id) if e.action == "escalate"
                       and e.detail["step"] == "followup_report"]
    assert any(p["step"] == "followup_report" for p in overdue) and report.climbed >= 1 and escalations

    # A 终报 to a platform that never answers: retried, then failed and visible; not sent.
    final = keep_special_report(store, build_special_report(store, jurisdiction, incident_id, ReportKind.FINAL,
                                                            now=late), "值班员")
    silent = request_sending(store, config, final.id, "city_bureau", "webhook", silent_platform, "值班员", now=late)
    config.max_attempts = 2
    assert _send(store, notifiers, config, late).retrying == 1
    assert _send(store, notifiers, config, late + H).failed == 1
    with store.read() as tx:
        gone = tx.get_sending(silent.id)
    assert gone.status == "failed" and "Timeout" in gone.last_error and gone.attempts == 2
    assert reports_of(store, incident_id)[-1].sent is False
    with store.read() as tx:
        assert "followup_report" not in tx.get_incident(incident_id).milestones
    # The officer faxes it and records that: now it is sent, and no 续报 is due any more.
    mark_sent(store, config, silent.id, "值班员", now=late + 2 * H)
    with pytest.raises(WorkflowError, match="已报送"):
        mark_sent(store, config, silent.id, "值班员", now=late + 2 * H)
    with store.read() as tx:
        inc = tx.get_incident(incident_id)
    assert inc.milestones["followup_report"] == late + 2 * H
    assert "followup_report" not in overdue_step_names(inc, late + 48 * H)


def test_bad_sendings_are_refused_and_change_nothing(store, analyzer, config, jurisdiction):
    incident_id, _, _ = seed_major(store, analyzer, config)
    kept = keep_special_report(store, build_special_report(store, jurisdiction, incident_id), "值班员")
    for channel, address, message in (("email", "not-an-address", "邮箱"), ("webhook", "ftp://x/y", "http"),
                                      ("fax", None, "未知报送方式")):
        with pytest.raises(WorkflowError, match=message):
            request_sending(store, config, kept.id, "city_bureau", channel, address, "值班员")
    with pytest.raises(WorkflowError, match="报送对象"):
        request_sending(store, config, kept.id, " ", "manual", None, "值班员")
    with store.read() as tx:
        assert tx.sendings() == [] and "first_report" not in tx.get_incident(incident_id).milestones


def test_reports_api_roles_and_sending(store, analyzer, config, api_server):
    from tests.api_seed import seed_users

    seed_users(store)
    incident_id, _, _ = seed_major(store, analyzer, config)
    duty, leader, unit = (login(api_server, n, PASSWORD) for n in ("duty1", "leader1", "unit_b"))
    url = f"{api_server}/api/incidents/{incident_id}/reports"
    assert httpx.post(url, headers=leader).status_code == 403
    assert httpx.get(url, headers=unit).status_code == 403
    made = httpx.post(url, headers=duty, json={})
    assert made.status_code == 201 and made.json()["kind_label"] == "首报" and made.json()["sent"] is False
    assert httpx.post(url, headers=duty, json={"kind": "first"}).status_code == 409
    rid = made.json()["id"]
    doc = httpx.get(f"{api_server}/api/reports/{rid}?format=docx", headers=leader)
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    bad = httpx.post(f"{api_server}/api/reports/{rid}/sendings", headers=duty,
                     json={"recipient": "cac", "channel": "email", "address": "nobody"})
    assert bad.status_code == 422
    sent = httpx.post(f"{api_server}/api/reports/{rid}/sendings", headers=duty,
                      json={"recipient": "cac", "channel": "manual", "note": "电话报告后传真"})
    assert sent.status_code == 201 and sent.json()["status_label"] == "已报送"
    listed = httpx.get(url, headers=leader).json()
    assert listed[0]["sent"] is True and listed[0]["sendings"][0]["recipient_label"] == "区委网信办"
    assert httpx.post(f"{api_server}/api/sendings/{sent.json()['id']}/sent", headers=duty).status_code == 409
    assert httpx.get(f"{api_server}/api/reports/999999", headers=duty).status_code == 404
