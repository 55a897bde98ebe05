"""The whole workflow over the real store (SQLite and PostgreSQL), with explicit times: posts arrive → graded and
assigned → not signed in time → reminder → supervision → signed → responded → resolved → closed;
a return with a reason and a reassignment; a reopen on a new post; the audit log shows each step."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts import actions
from alerts.config import alerts_config
from alerts.delivery import deliver
from alerts.detection import process_pending
from alerts.escalation_job import run_escalation
from alerts.notifiers.feed import FeedNotifier
from core.errors import NotFoundError, WorkflowError
from core.jurisdiction import load_jurisdiction
from core.models import Grade, RawPost, State
from core.timeutil import SHANGHAI
from storage.sql import open_store

GYQ, SMH = "500105006000", "500105003000"  # 观音桥街道, 石马河街道


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def config():
    cfg = alerts_config(load_jurisdiction("jiangbei"))
    cfg.quiet_hours = None
    return cfg


def add(store, text, at, author, url, **engagement):
    with store.begin() as tx:
        return tx.add_posts([RawPost(source="weibo", text=text, author=author, url=url, published_at=at,
                                     engagement=engagement)], now=at).new


def actions_of(store, incident_id):
    with store.read() as tx:
        return [(e.action, e.detail.get("rung")) if e.action == "escalate" else e.action
                for e in tx.audit_for(incident_id)]


def test_full_workflow(sql_store, analyzer, config):
    store = sql_store
    t0 = local(2026, 11, 30, 9)  # Monday
    add(store, "观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工，根本睡不着", t0, "居民甲",
        "https://weibo.example/1")
    report = process_pending(store, analyzer, now=t0, config=config)
    assert report.opened == 1
    with store.read() as tx:
        (inc,) = tx.list_incidents()
    assert (inc.unit_code, inc.department, inc.state, inc.grade) == (GYQ, "区住房城乡建委", State.ASSIGNED, Grade.BLUE)
    assert inc.deadlines["sign_off"] == local(2026, 12, 1, 9)  # one working day

    # A repeat complaint by someone else, widely shared: merged (并单), reach kept, grade raised.
    add(store, "建新北路那个工地又在夜间施工打桩，噪音太大了，观音桥这边居民天天睡不着", t0 + dt.timedelta(hours=1),
        "居民乙", "https://weibo.example/2", reposts=900, comments=300)
    report = process_pending(store, analyzer, now=t0 + dt.timedelta(hours=1), config=config)
    assert (report.opened, report.merged, report.raised) == (0, 1, 1)
    with store.read() as tx:
        inc = tx.get_incident(inc.id)
    assert inc.post_count == 2 and inc.reach["author_count"] == 2 and inc.reach["reposts"] == 900
    assert inc.grade is Grade.YELLOW and any("传播量 1200" in r for r in inc.grade_reasons)

    # Not signed in time: reminder at the deadline, a repeat an hour later, ack stops repeats,
    # supervision two hours after the deadline.
    assert run_escalation(store, config, local(2026, 12, 1, 8, 59)).climbed == 0
    assert run_escalation(store, config, local(2026, 12, 1, 9)).climbed == 1
    assert run_escalation(store, config, local(2026, 12, 1, 9, 30)).repeated == 0
    assert run_escalation(store, config, local(2026, 12, 1, 10)).repeated == 1
    assert actions.acknowledge(store, config, inc.id, "观音桥街道值班员", now=local(2026, 12, 1, 10, 5)) == ["sign_off"]
    with pytest.raises(WorkflowError, match="没有待确认"):
        actions.acknowledge(store, config, inc.id, "观音桥街道值班员", now=local(2026, 12, 1, 10, 6))
    quiet = run_escalation(store, config, local(2026, 12, 1, 10, 59))
    assert (quiet.climbed, quiet.repeated) == (0, 0)
    assert run_escalation(store, config, local(2026, 12, 1, 11)).climbed == 1  # 督办

    # Wrong order is refused with a clear error; then the unit works the incident through.
    with pytest.raises(WorkflowError, match="不能回应"):
        actions.respond(store, config, inc.id, "观音桥街道", "已处理", now=local(2026, 12, 1, 11, 2))
    actions.sign(store, config, inc.id, "观音桥街道", now=local(2026, 12, 1, 11, 5))
    after_sign = run_escalation(store, config, local(2026, 12, 1, 13))
    assert (after_sign.climbed, after_sign.repeated) == (0, 0)
    actions.respond(store, config, inc.id, "观音桥街道", "已联系工地，责令停止夜间施工", now=local(2026, 12, 1, 14))
    with pytest.raises(WorkflowError, match="处置反馈不能为空"):
        actions.resolve(store, config, inc.id, "观音桥街道", "", now=local(2026, 12, 2, 10))
    actions.resolve(store, config, inc.id, "观音桥街道", "住建委执法，夜间施工已停止，回访居民满意",
                    now=local(2026, 12, 2, 10))
    closed = actions.close(store, config, inc.id, "区生态环境局审核员", now=local(2026, 12, 2, 15))
    assert closed.state is State.CLOSED and closed.milestones["closure"] == local(2026, 12, 2, 10)

    assert actions_of(store, inc.id) == [
        "open", "assign", "add_post", "grade_raised", ("escalate", "reminder"), ("escalate", "reminder"),
        "acknowledge", ("escalate", "supervision"), "sign", "respond", "resolve", "close"]
    with store.read() as tx:
        log = tx.audit_for(inc.id)
    sign = next(e for e in log if e.action == "sign")
    assert (sign.actor, sign.from_state, sign.to_state) == ("观音桥街道", "assigned", "signed")

    # The feed: the unit contact heard about the reminder and the department head about supervision.
    sent = deliver(store, {"feed": FeedNotifier(store)}, config, now=local(2026, 12, 2, 16))
    assert sent.sent > 0 and sent.failed == 0
    with store.read() as tx:
        feed = tx.notifications_after(0, limit=500)
    mine = [f for f in feed if f["incident_id"] == inc.id]
    by_recipient = {(f["recipient"], "催办" in f["body"], "督办" in f["body"]) for f in mine}
    # Grouped: one feed message per recipient for everything that happened before delivery.
    assert ("属地联系人", True, False) in by_recipient  # the unit: reminders, not supervision
    assert ("职能部门负责人", False, True) in by_recipient  # the department head: supervision
    assert ("区生态环境局值班室", True, True) in by_recipient  # the duty desk hears both
    assert len([f for f in feed if f["incident_id"] == inc.id and f["recipient"] == "属地联系人"]) == 1

    # A new post about the same matter after closure reopens it.
    add(store, "建新北路工地又开始夜间施工打桩了，观音桥居民又睡不着", local(2026, 12, 5, 23), "居民丙",
        "https://weibo.example/3")
    report = process_pending(store, analyzer, now=local(2026, 12, 5, 23), config=config)
    assert report.reopened == 1 and report.opened == 0
    with store.read() as tx:
        inc = tx.get_incident(inc.id)
    assert inc.state is State.ASSIGNED and inc.reopened == 1 and "sign_off" not in inc.milestones
    assert inc.deadlines["sign_off"] > local(2026, 12, 5, 23)
    assert actions_of(store, inc.id)[-3:] == ["resolve", "close", "reopen"]


def test_return_with_reason_and_reassignment(sql_store, analyzer, config):
    store = sql_store
    t0 = local(2026, 11, 30, 9)
    add(store, "石马河街道鲜花港社区旁边的石马河又黑又臭，投诉多次没人管", t0, "居民丁", "https://weibo.example/10")
    process_pending(store, analyzer, now=t0, config=config)
    with store.read() as tx:
        (inc,) = tx.list_incidents()
    assert inc.unit_code == SMH and inc.department == "区水利局"
    with pytest.raises(WorkflowError, match="退单理由不能为空"):
        actions.return_incident(store, config, inc.id, "石马河街道", " ", now=t0 + dt.timedelta(hours=1))
    returned = actions.return_incident(store, config, inc.id, "石马河街道", "该河段属观音桥街道管辖",
                                       now=t0 + dt.timedelta(hours=1))
    assert returned.state is State.RETURNED and returned.returns == 1
    # While it waits for the duty desk, the returned unit's sign-off is not escalated.
    assert run_escalation(store, config, local(2026, 12, 1, 12)).climbed == 0
    with pytest.raises(WorkflowError, match="未知属地"):
        actions.assign(store, config, inc.id, "999", "值班员", now=t0 + dt.timedelta(hours=2))
    again = actions.assign(store, config, inc.id, GYQ, "值班员", now=t0 + dt.timedelta(hours=2))
    assert (again.state, again.unit, again.department) == (State.ASSIGNED, "观音桥街道", "区水利局")
    assert again.deadlines["sign_off"] == local(2026, 12, 1, 11)  # the new unit's clock
    # Reassigning an assigned incident (改派) needs a reason.
    with pytest.raises(WorkflowError, match="改派理由"):
        actions.assign(store, config, inc.id, SMH, "值班员", now=t0 + dt.timedelta(hours=3))
    actions.return_incident(store, config, inc.id, "观音桥街道", "上游排口在石马河街道", now=t0 + dt.timedelta(hours=3))
    actions.assign(store, config, inc.id, SMH, "值班员", now=t0 + dt.timedelta(hours=4))
    with pytest.raises(WorkflowError, match="上限"):
        actions.return_incident(store, config, inc.id, "石马河街道", "还是不归我们", now=t0 + dt.timedelta(hours=5))
    with store.read() as tx:
        log = tx.audit_for(inc.id)
    ret = [e for e in log if e.action == "return"]
    assert [e.detail["reason"] for e in ret] == ["该河段属观音桥街道管辖", "上游排口在石马河街道"]
    assert [e.action for e in log].count("assign") == 3  # the machine's, then two by the duty desk
    with pytest.raises(NotFoundError):
        actions.sign(store, config, 9999, "x")


def test_triage_merge_override_extend_and_catch_up(sql_store, analyzer, config):
    store = sql_store
    t0 = local(2026, 11, 30, 9)
    add(store, "江北区有个地方一直在偷排污水，河水发黑发臭，有人管吗", t0, "网友1", "https://weibo.example/20")
    add(store, "石马河街道鲜花港社区旁边的石马河又黑又臭，投诉多次没人管", t0, "网友2", "https://weibo.example/21")
    process_pending(store, analyzer, now=t0, config=config)
    with store.read() as tx:
        triage = tx.list_incidents(states=["new"])
        (smh,) = tx.list_incidents(unit_code=SMH)
    assert len(triage) == 1 and triage[0].unit is None  # no unit → duty desk's queue

    merged = actions.merge(store, config, triage[0].id, smh.id, "值班员", "同一条河", now=t0 + dt.timedelta(hours=1))
    assert merged.post_count == 2 and merged.reach["author_count"] == 2
    with store.read() as tx:
        source = tx.get_incident(triage[0].id)
    assert source.state is State.CLOSED and source.merged_into == smh.id
    with pytest.raises(WorkflowError):
        actions.merge(store, config, smh.id, triage[0].id, "值班员", now=t0 + dt.timedelta(hours=1))

    red = actions.override_grade(store, config, smh.id, "red", "值班员", "涉及饮用水源", now=t0 + dt.timedelta(hours=2))
    assert red.grade is Grade.RED and red.deadlines["report"] == t0 + dt.timedelta(hours=3)
    with pytest.raises(WorkflowError, match="理由"):
        actions.override_grade(store, config, smh.id, "blue", "值班员", "", now=t0 + dt.timedelta(hours=2))
    actions.record_step(store, config, smh.id, "report", "值班员", "已电话报告局长", now=t0 + dt.timedelta(hours=2))
    extended = actions.extend(store, config, smh.id, "press", local(2026, 12, 2, 12), "值班员", "等待检测结果",
                              now=t0 + dt.timedelta(hours=3))
    assert extended.deadlines["press"] == local(2026, 12, 2, 12)

    # The job did not run for a day: one pass catches up, records every rung it passed.
    report = run_escalation(store, config, local(2026, 12, 1, 20))
    with store.read() as tx:
        esc = [e for e in tx.audit_for(smh.id) if e.action == "escalate"]
    steps = {(e.detail["step"], e.detail["rung"]) for e in esc}
    assert ("response", "leader") in steps and ("sign_off", "reminder") in steps
    assert not any(s in ("report", "press") for s, _ in steps)  # done / extended
    assert report.climbed == len(esc)
    assert run_escalation(store, config, local(2026, 12, 1, 20, 1)).climbed == 0  # nothing twice


def test_old_database_gets_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT NOT NULL, unit VARCHAR(100), "
                "unit_code VARCHAR(20), department VARCHAR(100), topic VARCHAR(20) NOT NULL, place VARCHAR(200), "
                "grade VARCHAR(10) NOT NULL, grade_reasons JSON NOT NULL, state VARCHAR(16) NOT NULL, "
                "opened_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, deadlines JSON NOT NULL, "
                "post_count INTEGER NOT NULL)")
    con.execute("INSERT INTO incidents VALUES (1, 'old', NULL, NULL, NULL, 'water', NULL, 'blue', '[]', 'new', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '{}', 0)")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{path}")
    with store.read() as tx:
        old = tx.get_incident(1)
    assert old.title == "old" and old.reach == {} and old.returns == 0 and old.milestones == {}
    store.dispose()
