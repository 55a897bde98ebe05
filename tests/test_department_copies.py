"""会办 / 抄送 (issue 16 item 4): the duty desk copies a 重大 incident to 区住房城乡建委, the department
logs in and sees only it, answers with its handling note; the lead unit still signs, responds and
resolves it on its own clocks; the audit log holds all of it; the department is told by email (a
real SMTP server on loopback); a withdrawn copy is "not found" for the department."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

import httpx
import pytest
from typer.testing import CliRunner

from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.notifiers import build_notifiers
from alerts.registry import ActionInput, apply
from core.errors import NotFoundError
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from core.settings import Settings
from core.timeutil import utcnow
from dashboard_api import create_app
from ecowatch.main import app as cli
from tests.api_seed import PASSWORD, UNIT_A, UNIT_B, add_incident, login, seed_users, token_headers
from tests.conftest import TEST_SECRET, serving
from tests.test_notifiers import smtp_server  # noqa: F401  (the real SMTP server fixture)

http = httpx.Client(timeout=10)
CONTACTS = [{"name": "值班室", "roles": ["duty_desk"], "email": "duty@bureau.test"},
            {"name": "住建委联系人", "roles": ["department"], "departments": ["zj"], "email": "zj@bureau.test"},
            {"name": "公安分局联系人", "roles": ["department"], "departments": ["区公安分局"],
             "email": "ga@bureau.test"},
            {"name": "石马河联系人", "roles": ["unit"], "unit_codes": [UNIT_A], "email": "smh@bureau.test"}]


@pytest.fixture
def desk(store, settings, monkeypatch) -> Iterator[tuple[str, object]]:
    """The API with per-department contacts (quiet hours off, so every message is due at once)."""
    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    config = alerts_config(load_jurisdiction("jiangbei"))
    config.contacts, config.quiet_hours = CONTACTS, None
    seed_users(store)
    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET, alerts=config)) as base:
        yield base, config


def _add_user(*args: str) -> object:
    return CliRunner().invoke(cli, ["user", "add", *args], input=PASSWORD + "\n")


def _act(base: str, incident_id: int, action: str, headers: dict[str, str], body: dict | None = None) -> httpx.Response:
    return http.post(f"{base}/api/incidents/{incident_id}/{action}", headers=headers, json=body)


def test_copy_to_a_department_reply_resolve_and_withdraw(desk, store, smtp_server):  # noqa: F811
    base, config = desk
    port, inbox = smtp_server
    # ``ecowatch user add`` takes the department role with its department (code or name); a wrong one is refused.
    bad = _add_user("nobody", "--role", "department", "--department", "区环卫所")
    assert bad.exit_code == 2 and "zj (区住房城乡建委)" in bad.output and "ly (区林业局)" in bad.output
    assert _add_user("nodept", "--role", "department").exit_code == 2
    assert _add_user("mixed", "--role", "unit", "--unit", UNIT_A, "--department", "zj").exit_code == 2
    made = _add_user("zhujian", "--role", "department", "--department", "区住房城乡建委")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output) == {"name": "zhujian", "role": "department", "unit_code": None,
                                       "department_code": "zj"}
    listed = CliRunner().invoke(cli, ["user", "list"]).output
    assert '"department_code": "zj"' in listed

    noise = add_incident(store, title="建新北路工地夜间打桩扰民",
                         text="石马河街道建新北路工地夜间打桩，噪声扰民，几百人投诉", unit_code=UNIT_A,
                         unit="石马河街道", topic="noise", grade=Grade.ORANGE)
    other = add_incident(store, title="观音桥河道黑臭", text="观音桥街道河道黑臭", unit_code=UNIT_B, unit="观音桥街道")
    duty, unit = token_headers("duty1", TEST_SECRET), token_headers("unit_a", TEST_SECRET)
    before = http.get(f"{base}/api/incidents/{noise}", headers=duty).json()

    # 抄送: the duty desk copies it to 住建 (by name or code); the lead unit's state and clocks stay.
    copied = _act(base, noise, "copy", duty, {"department": "区住房城乡建委", "note": "请核查夜间施工许可"})
    assert copied.status_code == 200
    assert (copied.json()["state"], copied.json()["deadlines"], copied.json()["unit"]) == \
        (before["state"], before["deadlines"], "石马河街道")
    again = _act(base, noise, "copy", duty, {"department": "zj"})
    assert again.status_code == 409 and "已抄送区住房城乡建委" in again.json()["detail"]
    unknown = _act(base, noise, "copy", duty, {"department": "区环卫所"})
    assert unknown.status_code == 409 and "未知职能部门" in unknown.json()["detail"]
    assert _act(base, noise, "copy", unit, {"department": "zj"}).status_code == 403  # only the duty desk copies

    # The department logs in and sees that incident, and nothing else.
    zj = login(base, "zhujian")
    assert [i["id"] for i in http.get(f"{base}/api/incidents", headers=zj).json()] == [noise]
    assert http.get(f"{base}/api/incidents/{other}", headers=zj).status_code == 404
    assert http.get(f"{base}/api/search?q=黑臭", headers=zj).status_code == 403
    assert http.get(f"{base}/api/stats", headers=zj).status_code == 403
    inbox_rows = http.get(f"{base}/api/copies", headers=zj).json()
    assert [(c["incident_id"], c["state_label"], c["note"]) for c in inbox_rows] == [
        (noise, "待会办", "请核查夜间施工许可")]

    # It answers with its handling note (会办意见); it may do nothing else to the incident.
    assert _act(base, noise, "reply", zj, {"opinion": " "}).status_code == 409  # an empty note is no answer
    assert _act(base, noise, "reply", zj, {}).status_code == 422
    assert _act(base, noise, "sign", zj).status_code == 403
    replied = _act(base, noise, "reply", zj, {"opinion": "该工地未办理夜间施工许可，已责令停止夜间打桩"})
    assert replied.status_code == 200 and replied.json()["state"] == "assigned"
    assert http.get(f"{base}/api/copies", headers=zj).json()[0]["state"] == "replied"

    # The lead unit stays responsible: it signs, responds and resolves as always.
    assert _act(base, noise, "sign", unit).json()["state"] == "signed"
    assert _act(base, noise, "respond", unit, {"response": "已会同区住建委核查"}).json()["state"] == "responded"
    resolved = _act(base, noise, "resolve", unit, {"feedback": "工地已停止夜间施工"}).json()
    assert resolved["state"] == "resolved" and resolved["deadlines"] == before["deadlines"]

    # 撤回抄送: from then on the incident does not exist for the department.
    assert _act(base, noise, "withdraw_copy", zj, {"department": "zj"}).status_code == 403
    withdrawn = _act(base, noise, "withdraw_copy", duty, {"department": "zj", "reason": "已办结"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "resolved"
    assert http.get(f"{base}/api/incidents/{noise}", headers=zj).status_code == 404
    assert http.get(f"{base}/api/incidents", headers=zj).json() == []
    assert http.get(f"{base}/api/copies", headers=zj).json() == []
    assert _act(base, noise, "reply", zj, {"opinion": "补充意见"}).status_code == 404
    assert _act(base, noise, "withdraw_copy", duty, {"department": "zj"}).status_code == 409  # nothing to withdraw
    assert _act(base, noise, "close", duty, {"note": "复核通过"}).json()["state"] == "closed"

    # The audit log holds every copy, reply and withdrawal, with who, when and what.
    detail = http.get(f"{base}/api/incidents/{noise}", headers=duty).json()
    assert [(a["action"], a["actor"]) for a in detail["audit"]] == [
        ("open", "system"), ("copy", "duty1"), ("reply", "zhujian"), ("sign", "unit_a"), ("respond", "unit_a"),
        ("resolve", "unit_a"), ("withdraw_copy", "duty1"), ("close", "duty1")]
    copy, reply, withdraw = (detail["audit"][i]["detail"] for i in (1, 2, 6))
    assert copy == {"department_code": "zj", "department": "区住房城乡建委", "note": "请核查夜间施工许可"}
    assert reply == {"department_code": "zj", "department": "区住房城乡建委",
                     "opinion": "该工地未办理夜间施工许可，已责令停止夜间打桩"}
    assert withdraw == {"department_code": "zj", "department": "区住房城乡建委", "reason": "已办结"}
    assert [(c["department_code"], c["state"], c["replies"], c["withdrawn_by"]) for c in detail["copies"]] == [
        ("zj", "withdrawn", 1, "duty1")]
    vocabulary = http.get(f"{base}/api/vocabulary", headers=duty).json()
    assert {k: vocabulary["audit"][k] for k in ("copy", "reply", "withdraw_copy")} == {
        "copy": "抄送部门", "reply": "部门会办意见", "withdraw_copy": "撤回抄送"}
    feed = http.get(f"{base}/api/feed", headers=unit).json()
    assert [e["payload"]["action"] for e in feed if e["kind"] == "incident_changed"] == [
        "copy", "reply", "sign", "respond", "resolve", "withdraw_copy", "close"]

    # 住建 was told of the copy and of its withdrawal by email; 公安 heard nothing; the desk and the lead
    # unit heard the department's answer.
    notifiers = build_notifiers(Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="ecowatch@bureau.test"),
                                store)
    deliver(store, notifiers, config, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    mail = {tuple(m.rcpt_tos): message_from_bytes(m.content, policy=default) for m in inbox.messages}
    assert ("ga@bureau.test",) not in mail
    with store.read() as tx:
        queued = [(m["recipient"], event) for m in tx.list_outbox(incident_id=noise, limit=500)
                  if m["channel"] == "email" for event in m["events"]]
    assert ("住建委联系人", "copied") in queued and ("住建委联系人", "copy_withdrawn") in queued
    assert ("值班室", "copy_replied") in queued and ("石马河联系人", "copy_replied") in queued
    assert not [r for r, _e in queued if r == "公安分局联系人"]
    told = mail[("zj@bureau.test",)]
    assert "建新北路工地夜间打桩扰民" in told["Subject"]
    body = told.get_content()
    assert "抄送区住房城乡建委会办：请核查夜间施工许可" in body and "已撤回抄送区住房城乡建委：已办结" in body


def test_copies_from_the_command_line(store, settings, monkeypatch):
    """``ecowatch act copy|reply|withdraw_copy``: the operator acts as the duty desk and names the department."""
    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    iid = add_incident(store, title="铁山坪毁林", text="铁山坪有人砍伐树木", unit_code=UNIT_A, unit="石马河街道",
                       topic="ecology", state=State.SIGNED)

    def act(*args: str) -> object:
        return CliRunner().invoke(cli, ["act", *args, str(iid), "--actor", "值班员"])

    assert act("copy", "--department", "ly", "--text", "请林业局核查").exit_code == 0
    assert act("reply", "--department", "ly", "--text", "已现场核查，系枯死树木清理").exit_code == 0
    unshared = act("reply", "--department", "sl", "--text", "水利意见")
    assert unshared.exit_code != 0 and "没有抄送区水利局" in str(unshared.exception or unshared.output)
    assert act("withdraw_copy", "--department", "区林业局").exit_code == 0
    with store.read() as tx:
        audit = [(e.action, e.detail.get("department_code")) for e in tx.audit_for(iid)]
        assert tx.get_incident(iid).state is State.SIGNED
    assert audit[1:] == [("copy", "ly"), ("reply", "ly"), ("withdraw_copy", "ly")]


ROUNDS = 20


def test_a_reply_never_lands_after_a_concurrent_withdrawal(sql_store, analyzer):
    """The department answers while the duty desk withdraws its copy, from two threads, many rounds,
    on SQLite and PostgreSQL: whichever commits first, the other sees it. A reply either lands
    before the withdrawal (in the audit log and counted on the copy) or is refused as not found;
    never one after it, and never a server error."""
    config = alerts_config(analyzer.jurisdiction)
    seed_users(sql_store)
    problems: list[str] = []
    outcomes: dict[str, int] = {}
    for n in range(ROUNDS):
        iid = add_incident(sql_store, title=f"第{n}轮", text="石马河街道工地噪声", unit_code=UNIT_A, unit="石马河街道")
        apply(sql_store, config, "copy", iid, ActionInput(actor="duty1", now=utcnow(), department="zj"))
        barrier, out = threading.Barrier(2), {}

        def run(side: str, action: str, inp: ActionInput, incident_id: int = iid, result: dict = out,
                start: threading.Barrier = barrier) -> None:
            start.wait()
            try:
                apply(sql_store, config, action, incident_id, inp)
                result[side] = "done"
            except Exception as exc:  # recorded; the checks below say which are allowed
                result[side] = exc

        threads = [threading.Thread(target=run, args=("desk", "withdraw_copy", ActionInput(
                       actor="duty1", now=utcnow(), department="zj"))),
                   threading.Thread(target=run, args=("dept", "reply", ActionInput(
                       actor="dept_zj", now=utcnow(), text="会办意见")))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        if out.get("desk") != "done" or not (out.get("dept") == "done" or isinstance(out.get("dept"), NotFoundError)):
            problems.append(f"round {n}: {out}")
        with sql_store.read() as tx:
            actions = [a.action for a in tx.audit_for(iid)]
            (copy,) = tx.copies_of(iid)
        replied = out.get("dept") == "done"
        expected = ["open", "copy", "reply", "withdraw_copy"] if replied else ["open", "copy", "withdraw_copy"]
        if actions != expected or copy.replies != int(replied) or copy.state != "withdrawn":
            problems.append(f"round {n}: {out} stored {actions}, {copy}")
        key = "replied first" if replied else "withdrawn first"
        outcomes[key] = outcomes.get(key, 0) + 1
    print(f"\n[races] {sql_store.engine.dialect.name}: {ROUNDS} rounds, outcomes {outcomes}")
    assert not problems, "\n".join(problems)
