"""Every write checks its user where it writes, not only at the door (the charter: "every action
checks role, unit and state in the transaction that writes").

The console's dependency checks a request's token when the request arrives; the write comes
after it. Each test here takes the user as the dependency saw it (a :class:`Principal` built from
the stored user, as ``get_principal`` builds it), then changes the user in the real store (an
admin disables it, gives it another role or unit, or resets its password), then runs the
route's own function with the stale principal: the write must be refused (403) and change
nothing. Families: the incident actions (交办 … 办结, 督办, 会办), the rota (override, page,
hand-over), special reports and their sendings, items handed down, 信息简报, user
administration. Then two officers take one page at once, on real SQLite and real PostgreSQL:
one takes it, one audit line, one duty-log line.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import HTTPException, Response
from sqlalchemy import func, select, update

from alerts.config import alerts_config
from alerts.escalation import EscalationState
from alerts.paging import acknowledge
from alerts.registry import ActionInput, apply
from core.duty import PageState, Person, Shift, ShiftKind
from core.errors import NotFoundError, WorkflowError
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from core.timeutil import utcnow
from dashboard_api.bodies import OverrideBody, RemarksBody, UserCreateBody, UserUpdateBody
from dashboard_api.deps import Principal
from dashboard_api.routes import admin, briefs, inbound, reports, rota
from dashboard_api.routes.actions import BODIES
from dashboard_api.routes.actions import _act as act_route
from storage.schema import users
from storage.sql import SqlStore, Tx
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users

JURISDICTION = load_jurisdiction("jiangbei")
ROUNDS = 10  # of each race
CONFIG = alerts_config(JURISDICTION)


def principal(store: SqlStore, name: str) -> Principal:
    """The user as the console's dependency saw it when the request came in."""
    with store.read() as tx:
        user = tx.get_user(name)
    assert user is not None
    return Principal(user.name, user.role, user.unit_code, user.token_version, utcnow() + dt.timedelta(hours=1))


def _set(tx: Tx, name: str, **values: Any) -> None:
    tx.conn.execute(update(users).where(users.c.name == name).values(**values))


# What an admin may do to a user between the dependency and the write, each for real in the store.
CHANGES: dict[str, Callable[[Tx, str], object]] = {
    "disabled": lambda tx, name: tx.set_user_active(name, False),
    "demoted": lambda tx, name: _set(tx, name, role="unit", unit_code=UNIT_B),  # to a street's desk
    "password reset": lambda tx, name: tx.set_user_password(name, "another-hash"),
}


def change(store: SqlStore, name: str, how: str) -> None:
    with store.begin() as tx:
        CHANGES[how](tx, name)


def refused(call: Callable[[], object]) -> str:
    """The route's answer is 403; its message."""
    with pytest.raises(HTTPException) as caught:
        call()
    assert caught.value.status_code == 403, caught.value.detail
    return str(caught.value.detail)


def count(store: SqlStore, table: str) -> int:
    from storage.schema import metadata

    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one())


def _shift(store: SqlStore, now: dt.datetime) -> Shift:
    shift = Shift(now.date(), ShiftKind.FULL, now - dt.timedelta(hours=1), now + dt.timedelta(hours=23),
                  Person("duty2", "13800000002"), Person("duty1", "13800000001"), Person("leader1", None))
    with store.begin() as tx:
        tx.add_user("duty2", "duty", None, "x", now)
        tx.replace_shifts([shift], "system", now, "test")
    return shift


@pytest.fixture
def world(store: SqlStore) -> SqlStore:
    seed_users(store)
    return store


# --- the rota ----------------------------------------------------------------------------------------

ROTA_WRITES: dict[str, Callable[[SqlStore, Principal, int, int, int], object]] = {
    "override": lambda store, officer, shift_id, page_id, handover_id: rota.override_shift(
        shift_id, OverrideBody(person="duty2", phone="13800000009", approved_by="陈建国"), officer, store),
    "page ack": lambda store, officer, shift_id, page_id, handover_id: rota.ack_page(page_id, officer, store),
    "hand-over": lambda store, officer, shift_id, page_id, handover_id: rota.accept_handover(handover_id, officer,
                                                                                             store),
}


@pytest.mark.parametrize("how", sorted(CHANGES))
@pytest.mark.parametrize("write", sorted(ROTA_WRITES))
def test_rota_writes_recheck_the_user(world, write, how):
    store, now = world, utcnow()
    shift = _shift(store, now)
    assert shift.id is not None
    incident_id = add_incident(store, title="石马河死鱼", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道",
                               grade=Grade.ORANGE)
    with store.begin() as tx:
        page_id = tx.open_page(incident_id, Grade.ORANGE.value, now)
        handover_id = tx.add_handover(shift, shift, {"open_items": []}, now)
    assert page_id is not None and handover_id is not None
    officer = principal(store, "duty1")  # the backup of the shift: may take the hand-over
    change(store, "duty1", how)
    before = (count(store, "duty_log"), count(store, "audit_log"))
    refused(lambda: ROTA_WRITES[write](store, officer, shift.id, page_id, handover_id))
    with store.read() as tx:
        assert tx.get_page(page_id)["state"] == PageState.PAGING.value
        assert tx.get_handover(handover_id)["state"] == "pending"
        assert tx.get_shift(shift.id).primary == Person("duty2", "13800000002")
    assert (count(store, "duty_log"), count(store, "audit_log")) == before


def test_outgoing_remarks_recheck_the_user(world):
    store, now = world, utcnow()
    shift = _shift(store, now)
    with store.begin() as tx:
        handover_id = tx.add_handover(shift, shift, {}, now)  # duty2 hands over to itself: it writes the remarks
    assert handover_id is not None
    outgoing = principal(store, "duty2")
    change(store, "duty2", "disabled")
    refused(lambda: rota.handover_remarks(handover_id, RemarksBody(remarks="已报带班领导"), outgoing, store))
    with store.read() as tx:
        assert tx.get_handover(handover_id)["remarks"] == ""


def test_a_signed_page_link_of_a_disabled_officer_takes_nothing(world):
    """The link is the permission, but its person is a console user: disabled since the page was
    sent, the link takes nothing."""
    store, now = world, utcnow()
    incident_id = add_incident(store, title="t", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道",
                               grade=Grade.ORANGE)
    with store.begin() as tx:
        page_id = tx.open_page(incident_id, Grade.ORANGE.value, now)
    assert page_id is not None
    change(store, "duty1", "disabled")
    with pytest.raises(WorkflowError, match="停用"), store.begin() as tx:
        acknowledge(tx, page_id, "duty1", "link", now)
    with store.read() as tx:
        assert tx.get_page(page_id)["state"] == PageState.PAGING.value
        assert [a.action for a in tx.audit_for(incident_id)] == ["open"]


# --- special reports and their sendings (报送) ------------------------------------------------------------

REPORT_WRITES: dict[str, Callable[[SqlStore, Principal, int, int, int], object]] = {
    "write report": lambda store, officer, incident_id, report_id, sending_id: reports.write_report(
        incident_id, officer, store, JURISDICTION, None),
    "send": lambda store, officer, incident_id, report_id, sending_id: reports.send_report(
        report_id, reports.SendBody(recipient="cac", channel="manual"), officer, store, CONFIG),
    "mark sent": lambda store, officer, incident_id, report_id, sending_id: reports.mark_sending_sent(
        sending_id, officer, store, CONFIG),
}


@pytest.mark.parametrize("how", sorted(CHANGES))
@pytest.mark.parametrize("write", sorted(REPORT_WRITES))
def test_reports_and_sendings_recheck_the_user(world, write, how):
    store = world
    incident_id = add_incident(store, title="石马河大面积死鱼", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit="石马河街道", grade=Grade.ORANGE)
    officer = principal(store, "duty1")
    kept = reports.write_report(incident_id, officer, store, JURISDICTION, None)  # 首报, before the change
    queued = reports.send_report(kept.id, reports.SendBody(recipient="city_bureau", channel="email",
                                                           address="a@example.org"), officer, store, CONFIG)
    change(store, "duty1", how)
    before = (count(store, "special_reports"), count(store, "report_sends"), count(store, "audit_log"))
    refused(lambda: REPORT_WRITES[write](store, officer, incident_id, kept.id, queued.id))
    with store.read() as tx:
        assert tx.get_sending(queued.id).status == "pending"
        assert "first_report" not in tx.get_incident(incident_id).milestones
    assert (count(store, "special_reports"), count(store, "report_sends"), count(store, "audit_log")) == before


def test_a_failed_sending_is_retried_only_by_a_sender(world):
    store = world
    incident_id = add_incident(store, title="石马河大面积死鱼", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit="石马河街道", grade=Grade.ORANGE)
    officer = principal(store, "duty1")
    kept = reports.write_report(incident_id, officer, store, JURISDICTION, None)
    queued = reports.send_report(kept.id, reports.SendBody(recipient="city_bureau", channel="email",
                                                           address="a@example.org"), officer, store, CONFIG)
    with store.begin() as tx:
        tx.sending_failed(queued.id, "smtp refused", None)
    change(store, "duty1", "demoted")
    refused(lambda: reports.retry_sending(queued.id, officer, store))
    with store.read() as tx:
        assert tx.get_sending(queued.id).status == "failed"


# --- items handed down (上级交办) -----------------------------------------------------------------------

@pytest.mark.parametrize("how", sorted(CHANGES))
def test_entering_an_item_rechecks_the_user(world, how):
    store = world
    officer = principal(store, "duty1")
    change(store, "duty1", how)
    body = inbound.InboundBody(origin="city_bureau", reference="渝环舆〔2026〕118号", text="石马河有死鱼",
                               deadline="2026-12-05T18:00:00+08:00", unit=UNIT_A)
    refused(lambda: inbound.enter_item(body, officer, store, CONFIG, Response()))
    assert (count(store, "inbound_items"), count(store, "incidents"), count(store, "audit_log")) == (0, 0, 0)


@pytest.mark.parametrize("how", sorted(CHANGES))
def test_sending_an_items_feedback_rechecks_the_user_first(world, how):
    """反馈 of an item handed down: the sender is checked where the sending is written, before the
    item is read, so a revoked sender learns nothing of the item (403, not 409 "not resolved yet"
    nor 404), and nothing is written. The item was read before that transaction, and apart from it."""
    store = world
    officer = principal(store, "duty1")
    body = inbound.InboundBody(origin="city_bureau", reference="渝环舆〔2026〕119号", text="石马河有死鱼",
                               deadline="2026-12-05T18:00:00+08:00", unit=UNIT_A)
    item = inbound.enter_item(body, officer, store, CONFIG, Response())
    change(store, "duty1", how)
    before = (count(store, "report_sends"), count(store, "audit_log"))
    for inbound_id in (item.inbound_id, item.inbound_id + 100):
        refused(lambda i=inbound_id: inbound.send_feedback(i, inbound.FeedbackSendBody(channel="manual"), officer,
                                                           store, CONFIG))
    assert (count(store, "report_sends"), count(store, "audit_log")) == before
    fresh = principal(store, "duty1") if how == "password reset" else None
    if fresh is not None:  # logged in again: the item is there, and its feedback is not ready (409)
        with pytest.raises(HTTPException) as caught:
            inbound.send_feedback(item.inbound_id, inbound.FeedbackSendBody(channel="manual"), fresh, store, CONFIG)
        assert caught.value.status_code == 409 and "尚未办结" in str(caught.value.detail)


def _together(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment from as many threads; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    out: list[object] = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait()
        try:
            out[k] = calls[k]()
        except Exception as exc:  # recorded: the test says what is allowed
            out[k] = exc

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_one_item_entered_twice_at_once_is_one_incident(sql_store):
    """The platform pushes an item while the desk types it in (or the platform retries): both
    answered, one new and one duplicate of it, never a server error (PostgreSQL let both look for
    the reference before either wrote it; the unique key refused the second with an error)."""
    store = sql_store
    seed_users(store)
    officer = principal(store, "duty1")
    for n in range(ROUNDS):
        body = inbound.InboundBody(origin="city_bureau", reference=f"渝环舆〔2026〕{n}号", text="石马河有死鱼",
                                   deadline="2026-12-05T18:00:00+08:00", unit=UNIT_A)
        got = _together([lambda b=body: inbound.enter_item(b, officer, store, CONFIG, Response()),
                         lambda b=body: inbound.platform_item(b, store, CONFIG, Response())])
        assert sorted(str(getattr(g, "duplicate", repr(g))) for g in got) == ["False", "True"], f"round {n}: {got}"
        assert got[0].inbound_id == got[1].inbound_id and got[0].incident_id == got[1].incident_id
    assert (count(store, "inbound_items"), count(store, "incidents")) == (ROUNDS, ROUNDS)


# --- 信息简报 -------------------------------------------------------------------------------------------------

BRIEF_CHANGES = {**CHANGES, "demoted": lambda tx, name: _set(tx, name, role="leader", unit_code=None),
                 "moved to another unit": lambda tx, name: _set(tx, name, unit_code=UNIT_B)}


@pytest.mark.parametrize("how", sorted(BRIEF_CHANGES))
def test_a_brief_is_kept_only_for_the_unit_the_user_is_of_now(world, how):
    """A unit user submits its own unit's brief; disabled, demoted, logged in under an old password
    or moved to another unit since its token was checked, nothing is kept."""
    store = world
    submitter = principal(store, "unit_a")
    with store.begin() as tx:
        BRIEF_CHANGES[how](tx, "unit_a")
    body = briefs.BriefBody(title="石马河整治进展", text="本月完成清淤", attachments=[briefs.AttachmentBody(
        name="a.txt", content_base64=base64.b64encode(b"x").decode())])
    message = refused(lambda: briefs.post_brief(body, submitter, store, JURISDICTION))
    assert "unit_a" in message or "单位" in message or "角色" in message
    assert (count(store, "info_briefs"), count(store, "info_brief_files")) == (0, 0)


# --- user administration ----------------------------------------------------------------------------------

ADMIN_WRITES: dict[str, Callable[[SqlStore, Principal], object]] = {
    "disable a user": lambda store, boss: admin.update_user("unit_a", UserUpdateBody(active=False), boss, store,
                                                            JURISDICTION),
    "reset a password": lambda store, boss: admin.update_user(
        "duty1", UserUpdateBody(password="a-new-long-passphrase"), boss, store, JURISDICTION),
    "add a user": lambda store, boss: admin.create_user(
        UserCreateBody(name="newadmin", role="admin", password="a-new-long-passphrase"), boss, store, JURISDICTION),
}


@pytest.mark.parametrize("how", sorted(CHANGES))
@pytest.mark.parametrize("write", sorted(ADMIN_WRITES))
def test_user_admin_rechecks_the_admin(world, write, how):
    store = world
    boss = principal(store, "admin1")
    change(store, "admin1", how)
    with store.read() as tx:
        before = [(u.name, u.role, u.active, u.token_version, u.password_hash) for u in tx.list_users()]
    refused(lambda: ADMIN_WRITES[write](store, boss))
    with store.read() as tx:
        assert [(u.name, u.role, u.active, u.token_version, u.password_hash) for u in tx.list_users()] == before


# --- incident actions: every read they depend on is in their transaction -----------------------------

def test_a_unit_asking_to_extend_another_units_incident_learns_nothing(world):
    """延期 by hours reads the step's deadline to add to: in the action's transaction, after the
    unit is checked, so another unit's incident is "not found" whatever step is asked about (it
    used to be read first, and "no such deadline" told the unit the incident exists)."""
    store = world
    theirs = add_incident(store, title="t", text="观音桥噪音扰民", unit_code=UNIT_B, unit="观音桥街道")
    for step in ("response", "press"):  # a deadline it has, and one it has not
        with pytest.raises(NotFoundError):
            apply(store, CONFIG, "extend", theirs, ActionInput(actor="unit_a", now=utcnow(), role="unit", step=step,
                                                               hours=24, text="等监测"))
    with store.read() as tx:
        assert [a.action for a in tx.audit_for(theirs)] == ["open"]


def test_a_merge_tells_a_missing_incident_from_a_missing_target(world):
    store = world
    here = add_incident(store, title="t", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道")
    gone = here + 100
    with pytest.raises(NotFoundError):
        apply(store, CONFIG, "merge", gone, ActionInput(actor="duty1", now=utcnow(), role="duty", into=here))
    with pytest.raises(NotFoundError):
        apply(store, CONFIG, "merge", gone, ActionInput(actor="duty1", now=utcnow(), role="duty", into=gone + 1))
    for action in ("merge", "move"):
        with pytest.raises(WorkflowError, match=f"目标事件 #{gone} 不存在"):
            apply(store, CONFIG, action, here, ActionInput(actor="duty1", now=utcnow(), role="duty", into=gone,
                                                           post_ids=(1,)))
    with store.read() as tx:
        assert [a.action for a in tx.audit_for(here)] == ["open"]


# Every incident action of the console, taken by the role it is for on an incident in a state
# that allows it: (actor, state, body). The duty desk copies the incident to the department first.
INCIDENT_ACTIONS: dict[str, tuple[str, State, dict[str, Any]]] = {
    "assign": ("duty1", State.NEW, {"unit_code": UNIT_A}),
    "reassign": ("duty1", State.ASSIGNED, {"unit_code": UNIT_B, "reason": "地点核实在观音桥"}),
    "close": ("duty1", State.RESOLVED, {}),
    "reject": ("duty1", State.RESOLVED, {"reason": "照片不清晰"}),
    "grade": ("duty1", State.ASSIGNED, {"grade": "orange", "reason": "涉及饮用水源"}),
    "extend": ("duty1", State.ASSIGNED, {"step": "response", "hours": 24, "reason": "等监测数据"}),
    "dismiss": ("duty1", State.ASSIGNED, {"scope": "jurisdiction", "reason": "说的是宁波市江北区"}),
    "copy": ("duty1", State.ASSIGNED, {"department": "ga"}),
    "withdraw_copy": ("duty1", State.ASSIGNED, {"department": "zj"}),
    "sign": ("unit_a", State.ASSIGNED, {}),
    "respond": ("unit_a", State.SIGNED, {"response": "已到现场核查"}),
    "resolve": ("unit_a", State.RESPONDED, {"feedback": "已整改完毕"}),
    "return": ("unit_a", State.ASSIGNED, {"reason": "不属于本街道"}),
    "reply": ("dept_zj", State.ASSIGNED, {"opinion": "已派员会同核查"}),
}


def _incident_world(store: SqlStore, state: State) -> int:
    incident_id = add_incident(store, title="石马河死鱼", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道",
                               state=state)
    apply(store, CONFIG, "copy", incident_id, ActionInput(actor="duty1", now=utcnow(), department="zj"))
    return incident_id


def _incident_snapshot(store: SqlStore, incident_id: int) -> tuple[object, ...]:
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
        audit = [(a.action, a.actor) for a in tx.audit_for(incident_id)]
    assert incident is not None
    return (incident.state, incident.unit_code, incident.grade, incident.deadlines, incident.updated_at, audit,
            count(store, "events"), count(store, "incident_copies"), count(store, "outbox"))


def _take(store: SqlStore, action: str, incident_id: int, officer: Principal) -> object:
    body_type, _summary = BODIES[action]
    return act_route(action, incident_id, body_type(**INCIDENT_ACTIONS[action][2]), officer, store, CONFIG)


@pytest.mark.parametrize("how", sorted(CHANGES))
@pytest.mark.parametrize("action", sorted(INCIDENT_ACTIONS))
def test_incident_actions_recheck_the_user(world, action, how):
    """Disabled, given another role or unit, or logged out by a password reset between the
    console's check and the write: the action is refused where it writes (403; a unit user moved
    to another unit finds the incident "not found", 404) and nothing changes: the incident, its
    audit log, the live feed, the copies, the outbox. The same action by the user logged in again
    after its password was reset goes through: the token version was all that stopped it."""
    store = world
    actor, state, _body = INCIDENT_ACTIONS[action]
    incident_id = _incident_world(store, state)
    officer = principal(store, actor)
    change(store, actor, how)
    before = _incident_snapshot(store, incident_id)
    with pytest.raises(HTTPException) as caught:
        _take(store, action, incident_id, officer)
    assert caught.value.status_code in ((403, 404) if how == "demoted" else (403,)), caught.value.detail
    assert _incident_snapshot(store, incident_id) == before
    if how == "password reset":
        _take(store, action, incident_id, principal(store, actor))
        assert _incident_snapshot(store, incident_id) != before


def test_an_escalation_is_acknowledged_only_under_the_token_it_was_asked_with(world):
    """确认督办 stops the reminders: not for a session revoked by a password reset."""
    store, now = world, utcnow()
    incident_id = add_incident(store, title="t", text="石马河又黑又臭", unit_code=UNIT_A, unit="石马河街道",
                               deadlines={"sign_off": now - dt.timedelta(hours=1)})
    with store.begin() as tx:
        tx.save_escalation(incident_id, "sign_off", EscalationState(deadline=now - dt.timedelta(hours=1), rung=1,
                                                                    last_notified_at=now, notify_count=1))
    officer = principal(store, "duty1")
    change(store, "duty1", "password reset")
    before = _incident_snapshot(store, incident_id)
    assert "重新登录" in refused(lambda: act_route("acknowledge", incident_id, None, officer, store, CONFIG))
    assert _incident_snapshot(store, incident_id) == before
    with store.read() as tx:
        assert [r.acknowledged_rung for r in tx.active_escalations([incident_id]).values()] == [-1]
    act_route("acknowledge", incident_id, None, principal(store, "duty1"), store, CONFIG)
    with store.read() as tx:
        assert [r.acknowledged_rung for r in tx.active_escalations([incident_id]).values()] == [1]


# --- two officers take one page at once ---------------------------------------------------------------


def _race(store: SqlStore, officers: list[Principal], page_id: int) -> dict[str, object]:
    """Each officer presses 确认接警 at once; who got the page (their name), a status, or an exception."""
    def take(officer: Principal) -> object:
        try:
            return rota.ack_page(page_id, officer, store).acked_by
        except HTTPException as exc:
            return exc.status_code

    got = _together([lambda o=o: take(o) for o in officers])
    return {o.name: g for o, g in zip(officers, got, strict=True)}


def test_two_officers_take_one_page_once(sql_store):
    """Both press 确认接警 at the same moment, many rounds: one takes it, the other is told it was
    taken (409), and the audit and duty logs have one line each, naming the one who took it."""
    store = sql_store
    seed_users(store)
    now = utcnow()
    with store.begin() as tx:
        tx.add_user("duty2", "duty", None, "x", now)
    officers = [principal(store, "duty1"), principal(store, "duty2")]
    problems: list[str] = []
    for n in range(ROUNDS):
        incident_id = add_incident(store, title=f"第{n}轮", text="石马河又黑又臭", unit_code=UNIT_A,
                                   unit="石马河街道", grade=Grade.ORANGE)
        with store.begin() as tx:
            page_id = tx.open_page(incident_id, Grade.ORANGE.value, now)
        assert page_id is not None
        out = _race(store, officers, page_id)
        winners = [name for name, got in out.items() if got == name]
        if len(winners) != 1 or sorted(map(str, out.values())) != sorted([winners[0] if winners else "", "409"]):
            problems.append(f"round {n}: {out}")
            continue
        with store.read() as tx:
            page = tx.get_page(page_id)
            acks = [a for a in tx.audit_for(incident_id) if a.action == "page_ack"]
            logged = [e for e in tx.duty_log_between(now - dt.timedelta(days=1), utcnow() + dt.timedelta(days=1))
                      if e["kind"] == "page_ack" and e["incident_id"] == incident_id]
        if page["acked_by"] != winners[0] or [a.actor for a in acks] != winners or \
                [e["actor"] for e in logged] != winners:
            problems.append(f"round {n}: {winners} won, page {page['acked_by']}, audit {[a.actor for a in acks]}, "
                            f"duty log {[e['actor'] for e in logged]}")
    print(f"\n[page race] {store.engine.dialect.name}: {ROUNDS} rounds")
    assert not problems, "\n".join(problems)
