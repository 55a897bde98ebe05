"""上级交办: items handed down enter as incidents with their deadline and reference, from a file (per-line
errors, duplicates one incident, unknown unit to triage, a past deadline overdue at once), from the
city platform's keyed endpoint and by hand; resolved, their feedback is written from the workflow and
sent back (a real HTTP platform on 127.0.0.1), which does the step."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import datetime as dt
import json

import httpx

from alerts import actions
from alerts.escalation import overdue_step_names
from alerts.escalation_job import run_escalation
from alerts.reporting import deliver_sendings, report_notifiers
from core.settings import Settings
from core.timeutil import utcnow
from tests.api_seed import login, seed_users
from tests.test_briefing import local
from tests.test_cli import run
from tests.test_notifiers import Receiver, receivers  # noqa: F401  (fixture)
from tests.test_special_report import config, jurisdiction  # noqa: F401  (fixtures)

GYQ = "500105006000"


NOW = local(2026, 12, 3, 9)


def test_a_file_of_items_then_resolved_and_fed_back(store, config, settings, tmp_path, receivers):
    platform = Receiver()
    receivers.append(platform)
    items = [
        {"origin": "city_bureau", "reference": "渝环舆〔2026〕118号", "title": "建新北路工地夜间施工噪声",
         "text": "网民反映建新北路工地夜间施工噪声扰民，请核实处理并于12月5日18时前反馈。", "unit": "观音桥街道",
         "topic": "noise", "deadline": "2026-12-05T18:00:00+08:00", "reply_channel": "webhook",
         "reply_address": platform.url},
        {"origin": "网信办", "reference": "WX-0042", "link": "https://weibo.example/x", "unit": "某某街道",
         "deadline": "2026-12-04T12:00:00+08:00"},
        {"origin": "市生态环境局", "reference": "渝环舆〔2026〕118号", "text": "重复推送", "unit": "观音桥街道",
         "deadline": "2026-12-05T18:00:00+08:00"},
        {"origin": "city_bureau", "reference": "渝环舆〔2026〕117号", "text": "石马河黑臭", "unit": "500105003000",
         "deadline": "2026-12-02T18:00:00+08:00"},
        {"origin": "city_bureau", "reference": "no-deadline", "text": "没有期限"},
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n{broken\n", encoding="utf-8")
    proc = run(["inbound", str(path), "--now", NOW.isoformat()], settings.data_dir)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6]
    first, unknown, dup, late, no_deadline, broken = out
    assert (first["triage"], first["late"], first["duplicate"]) == (False, False, False)
    assert unknown["triage"] is True and dup["duplicate"] is True and dup["incident_id"] == first["incident_id"]
    assert late["late"] is True and "deadline" in no_deadline["error"] and "JSON" in broken["error"]
    # Importing the file again adds nothing.
    again = [json.loads(line) for line in run(["inbound", str(path), "--now", NOW.isoformat()],
                                              settings.data_dir).stdout.splitlines()]
    assert all(o.get("duplicate") for o in again[:4])

    with store.read() as tx:
        a, b, c = (tx.get_incident(o["incident_id"]) for o in (first, unknown, late))
        assert len(tx.list_incidents(limit=100)) == 3 and len(tx.list_inbound()) == 3
        item_a = tx.find_inbound("city_bureau", "渝环舆〔2026〕118号")
    assert (a.state.value, a.unit, a.topic) == ("assigned", "观音桥街道", "noise")
    assert a.deadlines["handback"] == local(2026, 12, 5, 18) and "上级交办" in a.grade_reasons[0]
    assert (b.state.value, b.unit_code) == ("new", None)  # triage, never dropped
    assert "handback" in overdue_step_names(c, NOW) and item_a.late_on_arrival is False
    report = run_escalation(store, config, NOW + dt.timedelta(minutes=1))
    with store.read() as tx:
        lines = [(e.incident_id, e.payload["step"]) for e in tx.events_after(0) if e.kind == "overdue"]
    assert (c.id, "handback") in lines and report.feedback_ready == 0

    # The street handles it; the next pass writes the feedback from the workflow and it goes back.
    actions.sign(store, config, a.id, "观音桥街道", now=NOW + dt.timedelta(hours=1))
    actions.respond(store, config, a.id, "观音桥街道", "已约谈施工单位，夜间停工", now=NOW + dt.timedelta(hours=3))
    actions.resolve(store, config, a.id, "观音桥街道", "工地已调整作业时间，经回访居民满意",
                    now=NOW + dt.timedelta(hours=5))
    later = NOW + dt.timedelta(hours=6)
    assert run_escalation(store, config, later).feedback_ready == 1
    assert run_escalation(store, config, later).feedback_ready == 0  # once
    sent = deliver_sendings(store, report_notifiers(Settings(notify_timeout_seconds=2)), config, now=later)
    assert sent.sent == 1
    body = platform.requests[0][1]
    assert body["subject"].startswith("关于市生态环境局交办事项（编号：渝环舆〔2026〕118号）")
    assert any("回应：已约谈施工单位，夜间停工" in line for line in body["lines"])
    assert any("办结：工地已调整作业时间，经回访居民满意" in line for line in body["lines"])
    with store.read() as tx:
        a = tx.get_incident(a.id)
        audit = [e.action for e in tx.audit_for(a.id)]
    assert a.milestones["handback"] == later and "handback" not in overdue_step_names(a, local(2026, 12, 6))
    assert audit[0] == "inbound" and "feedback_ready" in audit and "feedback_sent" in audit


def test_platform_endpoint_and_console_entry(store, api_server, monkeypatch):
    seed_users(store)
    duty, unit = login(api_server, "duty1"), login(api_server, "unit_b")
    item = {"origin": "cac", "reference": "WX-7", "text": "网民称石马河有死鱼", "unit": "石马河街道",
            "deadline": (utcnow() + dt.timedelta(days=1)).isoformat()}
    url = f"{api_server}/api/inbound/platform"
    off = httpx.post(url, json=item, headers={"Authorization": "Bearer " + "x" * 30})
    assert off.status_code == 401 and "not set" in off.json()["detail"]
    monkeypatch.setenv("ECOWATCH_INBOUND_TOKEN", "k" * 32)
    assert httpx.post(url, json=item).status_code == 401
    assert httpx.post(url, json=item, headers={"Authorization": "Bearer " + "j" * 32}).status_code == 401
    key = {"Authorization": "Bearer " + "k" * 32}
    made = httpx.post(url, json=item, headers=key)
    assert made.status_code == 201 and made.json()["triage"] is False
    twice = httpx.post(url, json=item, headers=key)
    assert twice.status_code == 200 and twice.json()["incident_id"] == made.json()["incident_id"]
    bad = httpx.post(url, json={**item, "reference": "WX-8", "deadline": "soon"}, headers=key)
    assert bad.status_code == 422 and "deadline" in bad.json()["detail"]
    ancient = httpx.post(url, json={**item, "reference": "WX-8", "deadline": "0001-01-01T00:00:00+08:00"}, headers=key)
    assert ancient.status_code == 422 and "1970-9998" in ancient.json()["detail"]
    assert httpx.post(f"{api_server}/api/inbound", json=item, headers=key).status_code == 401  # key ≠ login
    assert httpx.post(f"{api_server}/api/inbound", json={**item, "reference": "WX-9"}, headers=unit).status_code == 403
    by_hand = httpx.post(f"{api_server}/api/inbound", headers=duty,
                         json={**item, "reference": "WX-9", "deadline": "2020-01-01T00:00:00+08:00"})
    assert by_hand.status_code == 201 and by_hand.json()["late"] is True
    listed = {i["reference"]: i for i in httpx.get(f"{api_server}/api/inbound", headers=duty).json()}
    assert listed["WX-9"]["overdue"] is True and listed["WX-7"]["overdue"] is False
    assert listed["WX-7"]["origin_label"] == "区委网信办" and listed["WX-7"]["state"] == "assigned"
    early = httpx.post(f"{api_server}/api/inbound/{listed['WX-7']['id']}/sendings", headers=duty,
                       json={"channel": "manual"})
    assert early.status_code == 409  # not resolved yet: no feedback to send
    assert httpx.get(f"{api_server}/api/inbound", headers=unit).status_code == 403


def test_a_downgrade_keeps_the_handback_and_report_up_deadlines(store, config):
    """调整等级 down rebuilt the deadlines from the lower grade's policy alone: the upper level's 反馈
    deadline and the 首报/续报 clocks (not from the grade) vanished, so the item could never be overdue."""
    from alerts.inbound import parse_request, receive

    request = parse_request({"origin": "city_bureau", "reference": "渝环舆〔2026〕201号", "text": "石马河黑臭",
                             "unit": "观音桥街道", "grade": "orange", "deadline": "2026-12-04T18:00:00+08:00"})
    incident_id = receive(store, config, request, "值班员", NOW).incident_id
    with store.read() as tx:
        before = tx.get_incident(incident_id).deadlines
    assert {"handback", "first_report", "followup_report", "report"} <= before.keys()
    lowered = actions.override_grade(store, config, incident_id, "yellow", "值班员", "影响有限，按一般处置",
                                     NOW + dt.timedelta(minutes=10))
    with store.read() as tx:
        stored = tx.get_incident(incident_id).deadlines
    assert stored == lowered.deadlines
    assert {k: stored[k] for k in ("handback", "first_report", "followup_report")} == \
           {k: before[k] for k in ("handback", "first_report", "followup_report")}
    assert "report" not in stored  # a step of the orange policy only: dropped with the grade
    assert stored["sign_off"] > before["sign_off"]  # the laxer policy, counted from the opening
