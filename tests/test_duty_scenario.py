"""The duty scenario of issue 15 on SQLite and PostgreSQL: a 重大 incident at 02:10 on a Saturday
(a 调休 make-up working day, and a plain Saturday) pages the night officer through a real SMTP
server, a real WeCom robot receiver (@mobile) and the SMS gateway, then the backup after the ack
timeout, then the leader, and stops once acknowledged; the 08:30 hand-over carries the open
incident; the duty log shows all of it."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default

import pytest
from openpyxl import load_workbook

from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.duty import import_rota
from alerts.duty_job import run_duty
from alerts.handover import accept
from alerts.notifiers import build_notifiers
from alerts.paging import acknowledge, link_maker, read_ack
from briefing.duty_log import build_duty_log, month_bounds, render_duty_log
from core.duty import PageState, Tier
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from core.settings import Settings
from tests import test_notifiers
from tests.api_seed import add_incident
from tests.test_notifiers import Receiver
from tests.test_rota import EXAMPLE, NOW, POLICY, add_people, bj

# The real SMTP server and robot receivers of the notifier tests, as fixtures here too.
smtp_server = test_notifiers.smtp_server
receivers = test_notifiers.receivers

SECRET = "duty-test-secret"


@dataclass(frozen=True)
class Night:
    """Who stands where on the night running into a Saturday (deploy/config/rota.example.csv)."""

    saturday: str
    officer: tuple[str, str]
    backup: str
    leader: str
    incoming: str  # the officer from 08:30
    incoming_backup: str
    incoming_kind: str


NIGHTS = {
    # 10-10 is a 调休 make-up working day: Friday's night, then a day desk from 08:30.
    "make-up Saturday": Night("2026-10-10", ("王强", "13800000003"), "刘洋", "陈建国", "刘洋", "张伟", "day"),
    # 10-17 is a plain Saturday: Friday's night, then one 24-hour shift from 08:30.
    "plain Saturday": Night("2026-10-17", ("刘洋", "13800000004"), "张伟", "赵敏", "张伟", "李娜", "full"),
}


def _at(night: Night, clock: str) -> dt.datetime:
    return bj(f"{night.saturday}T{clock}")


@pytest.mark.parametrize("which", NIGHTS)
def test_a_major_incident_at_night_climbs_until_taken_and_is_handed_over(sql_store, smtp_server, receivers,
                                                                        which):
    night = NIGHTS[which]
    store = sql_store
    add_people(store)
    parsed, _ = import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    assert parsed.errors == []
    port, inbox = smtp_server
    robot, sms = Receiver(), Receiver()
    receivers += [robot, sms]
    config = alerts_config(load_jurisdiction("jiangbei"))
    officer, phone = night.officer
    config.contacts = [*config.contacts,
                       {"name": officer, "roles": ["rota"], "email": "officer@bureau.test", "wecom": robot.url},
                       {"name": night.leader, "roles": ["rota"], "email": "leader@bureau.test"}]
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, wecom_enabled=True,
                        sms_gateway_url=sms.url, public_url="https://ecowatch.bureau.test")
    notifiers = build_notifiers(settings, store)
    channels = notifiers.keys()
    link = link_maker(SECRET, settings.public_url)

    def duty(clock: str) -> tuple:
        return run_duty(store, config, channels, _at(night, clock), link)

    def send(clock: str) -> None:
        report = deliver(store, notifiers, config, _at(night, clock))
        assert report.failed == 0 and report.retrying == 0

    # 02:10 Saturday: a 重大 incident comes in, nobody has taken it.
    major = add_incident(store, title="寸滩水厂附近河面大面积死鱼", text="石马河 死鱼 恶臭", unit_code=None, unit=None,
                         state=State.NEW, grade=Grade.ORANGE, opened_at=_at(night, "02:10"))
    minor = add_incident(store, title="小区噪声", text="石马河 噪声", unit_code=None, unit=None, state=State.NEW,
                         grade=Grade.YELLOW, opened_at=_at(night, "02:10"))  # 较大 does not page at night
    paging, _ = duty("02:10")
    assert (paging.opened, paging.paged, paging.to_leaders) == (1, 1, 0)
    send("02:10")
    # The night officer hears it on every channel they have: email, their robot group with @mobile, SMS.
    assert [m.rcpt_tos for m in inbox.messages] == [["officer@bureau.test"]]
    mail = message_from_bytes(inbox.messages[0].content, policy=default).get_content()
    assert "https://ecowatch.bureau.test/ack?token=" in mail
    (_, body), = robot.requests
    assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == [phone]
    assert "呼叫·值班员" in body["text"]["content"] and officer in body["text"]["content"]
    assert [b["phone"] for _, b in sms.requests] == [phone]
    with store.read() as tx:
        page, = tx.list_pages()
        assert tx.notifications_after(0, recipient=officer)  # the console's in-app feed too
    assert (page["tier"], page["person"], page["state"]) == ("primary", officer, "paging")

    # Within the ack timeout nothing more; then the backup; then the leader on call.
    assert duty("02:24")[0].paged == 0
    assert duty("02:25")[0].paged == 1
    with store.read() as tx:
        assert tx.get_page(page["id"])["person"] == night.backup
    assert duty("02:39")[0].paged == 0
    assert duty("02:40")[0].paged == 1
    send("02:40")
    with store.read() as tx:
        assert tx.get_page(page["id"])["person"] == night.leader
    assert [m.rcpt_tos for m in inbox.messages][-1] == ["leader@bureau.test"]
    # The leader takes it from the signed link in the message; the ladder stops for good.
    token = mail.split("token=")[1].split()[0].rstrip("）)")
    assert read_ack(SECRET, token, _at(night, "02:45")) == (page["id"], officer)
    assert read_ack("another-secret", token, _at(night, "02:45")) is None
    assert read_ack(SECRET, token, _at(night, "02:45") + dt.timedelta(days=2)) is None  # expired
    with store.begin() as tx:
        assert acknowledge(tx, page["id"], night.leader, "console", _at(night, "02:45"))
    with store.begin() as tx:
        assert not acknowledge(tx, page["id"], officer, "link", _at(night, "02:46"))  # taken already
    for clock in ("03:00", "03:30", "05:00"):
        assert duty(clock)[0].paged == 0
    sent_before = len(inbox.messages) + len(robot.requests) + len(sms.requests)
    send("05:00")
    assert len(inbox.messages) + len(robot.requests) + len(sms.requests) == sent_before

    # 08:30: the hand-over note carries the open incident; the incoming officer is told. The 较大
    # one nobody was woken for pages the day desk now, and is in the note as not yet acknowledged.
    paging, handovers = duty("08:30")
    assert handovers.written == 1 and paging.opened == 1
    assert duty("08:31")[1].written == 0  # once per shift
    with store.read() as tx:
        note, = tx.list_handovers()
        shift = tx.get_shift(note["to_shift_id"])
    assert (note["from_name"], note["to_name"], shift.kind.value) == (officer, night.incoming, night.incoming_kind)
    assert [i["id"] for i in note["content"]["open_items"]] == [major, minor]
    assert note["content"]["open_items"][0]["grade_label"] == "重大"
    assert [(p["incident_id"], p["person"]) for p in note["content"]["unacked_pages"]] == [(minor, night.incoming)]
    assert note["content"]["report"]["key"] == night.saturday
    # Not taken within 30 minutes: the incoming shift's backup is paged, once.
    assert duty("08:59")[1].late_paged == 0
    assert duty("09:00")[1].late_paged == 1
    assert duty("09:10")[1].late_paged == 0
    with store.begin() as tx:
        assert not accept(tx, note["id"], officer, _at(night, "09:05"))  # the outgoing officer cannot take it
        assert tx.handover_remarks(note["id"], "死鱼一事已报带班领导，待属地核实", officer)
        assert accept(tx, note["id"], night.incoming, _at(night, "09:05"))
    with store.begin() as tx:
        assert not accept(tx, note["id"], night.incoming_backup, _at(night, "09:06"))  # taken already

    # The incident's audit log and the month's duty log tell all of it.
    with store.read() as tx:
        audit = [(e.action, e.actor, e.detail.get("tier")) for e in tx.audit_for(major)
                 if e.action in ("page", "page_ack")]
        log = build_duty_log(tx, "2026-10", *month_bounds("2026-10"))
        assert [p["incident_id"] for p in tx.list_pages(PageState.PAGING)] == [minor]
        assert [e.action for e in tx.audit_for(minor)] == ["open", "page", "page"]  # 08:30 the officer, 09:00 backup
    assert audit == [("page", "system", "primary"), ("page", "system", "backup"), ("page", "system", "leader"),
                     ("page_ack", night.leader, "leader")]
    kinds = [row[1] for row in log.entries]
    # From 10-17 the 7 days ahead reach past the rota's end (10-19 08:30): the gap is warned.
    gap = ["排班空缺"] if which == "plain Saturday" else []
    assert kinds == ["导入排班", "呼叫", "呼叫", "呼叫", "确认呼叫", "呼叫", "交班", *gap, "呼叫", "接班超时", "接班"]
    assert f"#{major} 呼叫值班员 {officer}" in log.entries[1][3]
    assert f"#{major} 呼叫带班领导 {night.leader}" in log.entries[3][3]
    assert log.entries[4][2] == night.leader and log.entries[-1][2] == night.incoming
    assert f"{officer} → {night.incoming}：待办 2 件，未确认呼叫 1 个" in log.entries[6][3]
    assert f"呼叫备班 {night.incoming_backup}" in log.entries[-2][3]
    if gap:
        assert log.entries[7][3] == "排班空缺：10-19 08:30 至 10-24 08:30 无人值班"
    sheet = load_workbook(io.BytesIO(render_duty_log(log, "xlsx")))["日志"]
    assert [c.value for c in sheet[1]] == ["时间", "事项", "人员", "内容"] and sheet.max_row == 1 + len(log.entries)
    assert render_duty_log(log, "docx")[:2] == b"PK"


def test_after_downtime_the_missed_page_goes_once_and_nobody_on_the_rota_reaches_the_leaders(sql_store):
    store = sql_store
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    config = alerts_config(load_jurisdiction("jiangbei"))
    channels = ("feed",)
    night = NIGHTS["plain Saturday"]
    incident = add_incident(store, title="化工厂异味", text="石马河 异味", unit_code=None, unit=None,
                            state=State.NEW, grade=Grade.ORANGE, opened_at=_at(night, "02:10"))
    assert run_duty(store, config, channels, _at(night, "02:10"))[0].paged == 1
    # Down from 02:11 to 07:00: the backup and leader pages fell due meanwhile. At restart one page
    # goes (to the backup on duty now), not the whole ladder at once.
    paging, handovers = run_duty(store, config, channels, _at(night, "07:00"))
    assert (paging.opened, paging.paged) == (0, 1)
    assert handovers.written == 0  # the night is long under way: its hand-over is not replayed
    assert run_duty(store, config, channels, _at(night, "07:00"))[0].paged == 0
    with store.read() as tx:
        page, = tx.list_pages()
        feed = [m for m in tx.list_outbox(incident_id=incident) if m["channel"] == "feed"]
    assert (page["tier"], page["person"]) == ("backup", night.backup)
    assert sorted(m["recipient"] for m in feed) == sorted([night.officer[0], night.backup])
    with store.begin() as tx:
        assert acknowledge(tx, page["id"], night.backup, "link", _at(night, "07:05"))
    # After the rota ends (10-19 08:30) nobody is on duty: the page goes to the pack's leaders.
    lonely = add_incident(store, title="江边排污", text="石马河 排污", unit_code=None, unit=None, state=State.NEW,
                          grade=Grade.RED, opened_at=bj("2026-10-20T03:00"))
    paging, _ = run_duty(store, config, channels, bj("2026-10-20T03:00"))
    assert (paging.paged, paging.to_leaders) == (1, 1)
    with store.read() as tx:
        told = [m["recipient"] for m in tx.list_outbox(incident_id=lonely)]
        lonely_page = next(p for p in tx.list_pages() if p["incident_id"] == lonely)
    assert told == ["局领导"] and lonely_page["tier"] is None
    assert run_duty(store, config, channels, bj("2026-10-20T04:00"))[0].paged == 0  # the ladder ends there


def test_two_duty_jobs_never_page_the_same_tier_twice(sql_store):
    """Two API processes on one PostgreSQL each run the duty job: the page is opened once and each
    climb is written by one of them (the other's write finds the page moved on)."""
    incident = add_incident(sql_store, title="t", text="石马河 黑臭", unit_code=None, unit=None, state=State.NEW,
                            grade=Grade.ORANGE)
    t0, t1 = NOW, NOW + dt.timedelta(minutes=15)
    with sql_store.begin() as tx:
        page = tx.open_page(incident, "orange", t0)
        assert page is not None and tx.open_page(incident, "orange", t0) is None
        assert tx.page_climbed(page, Tier.PRIMARY, "王强", None, t0, last_paged_at=t0)
    with sql_store.begin() as tx:
        assert tx.page_climbed(page, Tier.BACKUP, "刘洋", None, t1, last_paged_at=t0)
        assert not tx.page_climbed(page, Tier.LEADER, "陈建国", None, t1, last_paged_at=t0)
        assert tx.ack_page(page, "刘洋", "console", t1)
        assert not tx.page_climbed(page, Tier.LEADER, "陈建国", None, t1, last_paged_at=t1)
    with sql_store.read() as tx:
        assert (tx.get_page(page)["person"], tx.get_page(page)["state"]) == ("刘洋", "acknowledged")


def test_a_failing_sms_gateway_is_retried_and_dingtalk_mentions_the_officer(store, receivers):
    """The SMS gateway answers 500 once: the page's SMS is retried with backoff and then sent; the
    DingTalk group message @-mentions the officer's mobile."""
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    sms, robot = Receiver(fail_first=1), Receiver()
    receivers += [sms, robot]
    config = alerts_config(load_jurisdiction("jiangbei"))
    config.contacts = [*config.contacts, {"name": "王强", "roles": ["rota"], "dingtalk": robot.url}]
    notifiers = build_notifiers(Settings(dingtalk_enabled=True, sms_gateway_url=sms.url), store)
    at = bj("2026-10-10T02:10")
    add_incident(store, title="死鱼", text="石马河 死鱼", unit_code=None, unit=None, state=State.NEW,
                 grade=Grade.ORANGE, opened_at=at)
    assert run_duty(store, config, notifiers.keys(), at)[0].messages == 3  # feed, DingTalk, SMS
    first = deliver(store, notifiers, config, at)
    assert (first.sent, first.retrying) == (2, 1)
    again = deliver(store, notifiers, config, at + dt.timedelta(seconds=config.backoff_seconds))
    assert (again.sent, again.failed) == (1, 0)
    assert [body["phone"] for _, body in sms.requests] == ["13800000003", "13800000003"]
    (_, body), = robot.requests
    assert body["at"] == {"atMobiles": ["13800000003"], "isAtAll": False} and "@13800000003" in body["markdown"]["text"]
