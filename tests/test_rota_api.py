"""The rota over HTTP, on the real server: who is on duty now, the month, overrides, acknowledging
a page from the console and from the signed link, taking a hand-over, the duty log; each write by
role and by state."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import httpx
from openpyxl import load_workbook

from alerts.config import alerts_config
from alerts.duty import import_rota
from alerts.duty_job import run_duty
from alerts.paging import sign_ack
from alerts.rota import day_kinds
from core.duty import Shift, ShiftKind
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from core.timeutil import to_local, utcnow
from dashboard_api.security import create_token
from storage.sql import SqlStore
from tests.api_seed import add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET
from tests.test_rota import POLICY, add_people

http = httpx.Client(timeout=20)


def rota_around(store: SqlStore, tmp_path: Path, now: dt.datetime) -> None:
    """A rota from yesterday to three days on with duty1 on the desk, 张伟 as backup, leader1 on call."""
    rows = ["日期,班次,值班员,电话,备班,备班电话,带班领导,领导电话"]
    today = to_local(now).date()
    for offset in range(-1, 4):
        day = today + dt.timedelta(days=offset)
        rows += [f"{day},{kind.label},duty1,13800000001,张伟,13800000002,leader1,13900000001"
                 for kind in day_kinds(day)]
    path = tmp_path / "rota.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    parsed, _ = import_rota(store, path, POLICY, "admin1", now)
    assert parsed.errors == []


def paged_world(store: SqlStore, tmp_path: Path, title: str, text: str) -> tuple[dt.datetime, Shift, int]:
    """Users, a rota around now, the hand-over into the shift on duty, and a 特别重大 incident paged
    to duty1: (now, that shift, the incident's id)."""
    seed_users(store)
    add_people(store)
    now = utcnow()
    rota_around(store, tmp_path, now)
    config = alerts_config(load_jurisdiction("jiangbei"))
    with store.read() as tx:
        shift = tx.shifts_between(now, now + dt.timedelta(seconds=1))[0]
    # The duty job's pass at the start of this shift wrote its hand-over; now's pass pages the desk.
    assert run_duty(store, config, ("feed",), shift.starts_at)[1].written == 1
    incident = add_incident(store, title=title, text=text, unit_code=None, unit=None, state=State.NEW,
                            grade=Grade.RED, opened_at=now)
    assert run_duty(store, config, ("feed",), now)[0].paged == 1
    return now, shift, incident


def headers_of(name: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(TEST_SECRET, name, role, None, utcnow(), 60)[0]}"}


def test_duty_board_pages_and_hand_over_over_http(store, api_server, tmp_path):
    now, shift, incident = paged_world(store, tmp_path, "化工园区爆炸 <script>x</script>", "石马河 爆炸")
    base = api_server
    duty, leader, unit = (token_headers(n, TEST_SECRET) for n in ("duty1", "leader1", "unit_a"))

    board = http.get(f"{base}/api/rota/now", headers=duty).json()
    assert board["on_duty"]["primary"] == {"name": "duty1", "phone": "13800000001"}
    assert board["on_duty"]["backup"]["name"] == "张伟" and board["on_duty"]["leader"]["name"] == "leader1"
    assert board["on_duty"]["shift"] in {k.value for k in ShiftKind}
    page, = board["pages"]
    assert (page["incident_id"], page["tier"], page["person"], page["state_label"]) == (incident, "primary", "duty1",
                                                                                         "呼叫中")
    assert board["handover"]["state"] == "pending" and board["handover"]["to_name"] == "duty1"
    assert http.get(f"{base}/api/rota/now", headers=unit).status_code == 403

    # The month view and an override (duty or admin; with who approved it).
    month = f"{to_local(now):%Y-%m}"
    shifts = http.get(f"{base}/api/rota/month", params={"month": month}, headers=duty).json()
    assert shift.id in [s["id"] for s in shifts]
    assert http.get(f"{base}/api/rota/month", params={"month": "2026-13"}, headers=duty).status_code == 422
    body = {"tier": "backup", "person": "李娜", "phone": "13800000003", "approved_by": "leader1", "reason": "换班"}
    assert http.post(f"{base}/api/rota/shifts/{shift.id}/override", json=body, headers=leader).status_code == 403
    assert http.post(f"{base}/api/rota/shifts/{shift.id}/override", json={**body, "person": "unit_a"},
                     headers=duty).status_code == 422
    assert http.post(f"{base}/api/rota/shifts/999999/override", json=body, headers=duty).status_code == 404
    changed = http.post(f"{base}/api/rota/shifts/{shift.id}/override", json=body, headers=duty)
    assert changed.status_code == 200 and changed.json()["backup"] == {"name": "李娜", "phone": "13800000003"}

    # The signed link: a GET shows a button and writes nothing; a forged token is refused.
    token = sign_ack(TEST_SECRET, page["id"], "duty1", now + dt.timedelta(hours=1))
    shown = http.get(f"{base}/ack", params={"token": token})
    assert shown.status_code == 200 and "确认接警" in shown.text and "<script>x" not in shown.text
    assert http.get(f"{base}/ack", params={"token": token[:-2] + "xx"}).status_code == 403
    assert http.get(f"{base}/api/rota/now", headers=duty).json()["pages"][0]["state"] == "paging"
    # The console: a unit user may not take a page; the leader takes it, once.
    assert http.post(f"{base}/api/rota/pages/{page['id']}/ack", headers=unit).status_code == 403
    taken = http.post(f"{base}/api/rota/pages/{page['id']}/ack", headers=leader)
    assert taken.status_code == 200 and taken.json()["acked_by"] == "leader1"
    assert http.post(f"{base}/api/rota/pages/{page['id']}/ack", headers=duty).status_code == 409
    assert http.post(f"{base}/api/rota/pages/999999/ack", headers=duty).status_code == 404
    late = http.post(f"{base}/ack", data={"token": token})
    assert late.status_code == 409 and "leader1" in late.text

    # The hand-over: the outgoing officer's remarks, then only the incoming officer (or backup) takes it.
    handover = board["handover"]["id"]
    outgoing = board["handover"]["from_name"]
    if outgoing:  # the rota's shift before this one is duty1's too: they write the remarks
        assert http.post(f"{base}/api/rota/handovers/{handover}/remarks", json={"remarks": "注意爆炸舆情"},
                         headers=headers_of(outgoing, "duty")).json()["remarks"] == "注意爆炸舆情"
    assert http.post(f"{base}/api/rota/handovers/{handover}/accept",
                     headers=headers_of("王强", "duty")).status_code == 403
    assert http.post(f"{base}/api/rota/handovers/{handover}/accept", headers=leader).status_code == 403
    accepted = http.post(f"{base}/api/rota/handovers/{handover}/accept", headers=duty)
    assert accepted.status_code == 200 and accepted.json()["accepted_by"] == "duty1"
    assert http.post(f"{base}/api/rota/handovers/{handover}/accept", headers=duty).status_code == 409

    # The duty log of the month, as XLSX.
    got = http.get(f"{base}/api/rota/log", params={"month": month, "format": "xlsx"}, headers=leader)
    assert got.status_code == 200
    entries = [[c.value for c in row] for row in load_workbook(io.BytesIO(got.content))["日志"].iter_rows()]
    kinds = [row[1] for row in entries[1:]]
    # (the rota was imported after this shift began; the hand-over was late unless the shift is young)
    late = ["接班超时"] if now >= shift.starts_at + POLICY.handover_timeout else []
    assert kinds == ["交班", "排班空缺", "导入排班", "呼叫", *late, "代班/换班", "确认呼叫", "接班"]
    assert entries[-2][2] == "leader1" and "控制台" in entries[-2][3]
