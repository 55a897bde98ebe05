"""Workflow actions by people (交办, 签收, 回应, 办结, 审核, 退单, 改派, 并单, 延期, 调级, 确认督办).

Each function checks the transition with :mod:`alerts.workflow` (pure), applies it in one store
transaction, writes who/when/what/from→to to the audit log, queues notifications and writes the
console's ``incident_changed`` live-feed line (storage.events) in that same transaction, so an
action never exists without its feed line nor a feed line without its action. They raise
``core.errors.WorkflowError`` for an action not allowed now and ``NotFoundError`` for an unknown
incident; the API maps those to 409/422 and 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alerts.acting import acting_user, own_unit
from alerts.config import AlertsConfig
from alerts.deadlines import compute_deadlines, lower_deadlines, raise_deadlines, restart_step
from alerts.detection import regrade
from alerts.escalation import EscalationState
from alerts.escalation import acknowledge as ack_state
from alerts.grouping import fold_into
from alerts.labelling import label_incident, label_unit
from alerts.notify import notify
from alerts.workflow import (
    ACTION_LABELS,
    DEPARTMENT,
    RECORDABLE_STEPS,
    STEP_DONE_BY,
    check_assignee,
    check_department,
    check_extension,
    check_grade,
    check_merge,
    check_return,
    require_text,
    target_state,
)
from core.errors import NotFoundError, WorkflowError
from core.models import AuditEntry, Correction, Incident, State
from core.timeutil import utcnow
from storage.sql import SqlStore, Tx


def _load(tx: Tx, incident_id: int, actor: str, action: str, version: int | None) -> Incident:
    """The incident, read and locked in the transaction that will write it, checked against the
    actor: a console user must be active, of a role that may take ``action`` and, when the action
    came through the console (``version``: the token version its request was checked under), still
    under that token version (not logged out by a password reset or a disable); a unit user may
    act only on its own unit's incidents, a department user only on those copied to its department
    and not withdrawn (another's is "not found", so its existence does not leak). Checked here and
    not only before, and under the row lock: the duty desk may reassign (or withdraw a copy of)
    the incident between the console's check and this write, and that change either commits
    before this read (and is seen) or waits for this transaction to end. Actors that are no
    console user (the command line, the system) act as the duty desk."""
    user = acting_user(tx, actor, action, version=version)
    incident = tx.get_incident_for_update(incident_id)
    if user is not None and user.role == DEPARTMENT:  # 会办: only while the incident is copied to it
        hidden = tx.active_copy(incident_id, user.department_code) is None
    else:
        hidden = incident is not None and not own_unit(user, incident.unit_code)
    if incident is None or hidden:
        raise NotFoundError(f"事件 #{incident_id} 不存在")
    return incident


def _pair(tx: Tx, source_id: int, target_id: int, actor: str, action: str,
          version: int | None) -> tuple[Incident, Incident]:
    """The incident acted on and the one it goes into (并单, 移帖), each read by :func:`_load`,
    locked in id order so two such actions on a pair in opposite directions cannot deadlock. A
    missing source is not found; a missing target is a bad request (WorkflowError)."""
    locked: dict[int, Incident] = {}
    for incident_id in sorted({source_id, target_id}):
        try:
            locked[incident_id] = _load(tx, incident_id, actor, action, version)
        except NotFoundError:
            if incident_id == source_id:
                raise
    if target_id not in locked:
        raise WorkflowError(f"目标事件 #{target_id} 不存在")
    return locked[source_id], locked[target_id]


def _until(incident: Incident, step: str, until: dt.datetime | dt.timedelta) -> dt.datetime:
    """A step's new deadline, given as a time or as how much later than its deadline now (read
    under the lock, so an extension asked "24 h more" adds to what is stored, not to a stale copy)."""
    if isinstance(until, dt.datetime):
        return until
    current = incident.deadlines.get(step)
    if current is None:
        raise WorkflowError(f"事件 #{incident.id} 没有「{step}」时限")
    return current + until


@contextmanager
def _acting(store: SqlStore, incident_id: int, actor: str, action: str,
            version: int | None) -> Iterator[tuple[Tx, Incident]]:
    with store.begin() as tx:
        yield tx, _load(tx, incident_id, actor, action, version)


def _audit(tx: Tx, incident: Incident, actor: str, action: str, before: State, at: dt.datetime,
           detail: dict[str, Any]) -> None:
    assert incident.id is not None
    tx.add_audit(AuditEntry(incident.id, at, actor, action, before.value, incident.state.value, detail))


def _finish_step(tx: Tx, incident: Incident, action: str, at: dt.datetime) -> None:
    step = STEP_DONE_BY.get(action)
    if step and incident.id is not None:
        incident.milestones[step] = at
        tx.end_escalations(incident.id, at, [step])


def _route(config: AlertsConfig, incident: Incident, department: str | None) -> str | None:
    """A department by code or name; the routing table's choice when none is given."""
    if department:
        return check_department(department, config.jurisdiction).name
    if incident.department:
        return incident.department
    routed = config.jurisdiction.route(incident.topic, incident.title)
    return routed.name if routed else None


def assign(store: SqlStore, config: AlertsConfig, incident_id: int, unit_code: str | None, actor: str, *,
           department: str | None = None, reason: str | None = None, now: dt.datetime | None = None,
           announce_as: str | None = None, version: int | None = None) -> Incident:
    """交办 from the triage queue or after a return, or 改派 (reassign, reason required) an assigned or
    signed incident. The new unit's sign-off clock starts now. ``announce_as`` names the action on
    the live feed when the caller calls it otherwise (the API's 改派 of a returned incident)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "assign", version) as (tx, incident):
        action = "assign" if incident.state in (State.NEW, State.RETURNED) else "reassign"
        target_state(action, incident)
        code = check_assignee(unit_code, config.jurisdiction.units)
        if action == "reassign":
            reason = require_text(reason, "改派理由")
        unit = config.jurisdiction.units[code]
        before, old_unit, old_code = incident.state, incident.unit, incident.unit_code
        incident.department = _route(config, incident, department)
        incident.unit, incident.unit_code, incident.state = unit.name, unit.code, State.ASSIGNED
        incident.milestones.pop("sign_off", None)
        incident.deadlines = restart_step(incident.deadlines, config.jurisdiction.deadlines, incident.grade,
                                          "sign_off", now, incident.complex)
        incident.updated_at = now
        assert incident.id is not None
        tx.end_escalations(incident.id, now, ["sign_off"])
        tx.add_assignment(incident.id, unit.code, unit.name, incident.department, actor, now)
        tx.update_incident(incident)
        _audit(tx, incident, actor, action, before, now, {"from_unit": old_unit, "unit": unit.name,
                                                          "unit_code": unit.code, "department": incident.department,
                                                          "reason": reason})
        label_unit(tx, incident, old_code, actor, now)  # to another unit than it had: a label
        notify(tx, config, incident, "assigned", f"{ACTION_LABELS[action]}至{unit.name}（{incident.department}）", now)
        tx.announce_change(incident, announce_as or action, before.value, actor, now, old_unit=old_code)
        return incident


def _simple(store: SqlStore, config: AlertsConfig, incident_id: int, action: str, actor: str, now: dt.datetime | None,
            version: int | None, detail: dict[str, Any], event: str | None = None, text: str = "") -> Incident:
    now = now or utcnow()
    with _acting(store, incident_id, actor, action, version) as (tx, incident):
        to = target_state(action, incident)
        before = incident.state
        incident.state, incident.updated_at = to, now
        _finish_step(tx, incident, action, now)
        if action == "close":
            incident.milestones["closed"] = now
            assert incident.id is not None
            tx.end_escalations(incident.id, now)
        if action == "reject":
            incident.milestones.pop("closure", None)
        tx.update_incident(incident)
        _audit(tx, incident, actor, action, before, now, detail)
        if event:
            notify(tx, config, incident, event, text or ACTION_LABELS[action], now)
        tx.announce_change(incident, action, before.value, actor, now)
        return incident


def sign(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str,
         now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """签收: the unit takes the incident on; the sign-off step is done."""
    return _simple(store, config, incident_id, "sign", actor, now, version, {})


def respond(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, text: str | None,
            now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """回应: the unit's first public or direct response (text required)."""
    return _simple(store, config, incident_id, "respond", actor, now, version, {"response": require_text(text,
                                                                                                         "回应内容")})


def resolve(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, feedback: str | None,
            now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """办结 with disposal feedback (处置反馈, required); the bureau reviews it next."""
    return _simple(store, config, incident_id, "resolve", actor, now, version, {"feedback": require_text(feedback,
                                                                                                         "处置反馈")},
                   "resolved", "属地已办结，待审核")


def close(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, note: str | None = None,
          now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """审核办结: the bureau accepts the resolution; escalation stops."""
    return _simple(store, config, incident_id, "close", actor, now, version, {"note": (note or "").strip() or None})


def reject(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, reason: str | None,
           now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """审核退回: the bureau sends a resolution back to the unit (reason required)."""
    return _simple(store, config, incident_id, "reject", actor, now, version, {"reason": require_text(reason,
                                                                                                      "退回理由")},
                   "assigned", "办结审核未通过，退回属地")


def return_incident(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, reason: str | None,
                    now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """退单: the unit says it is not theirs (reason required; limited per incident)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "return", version) as (tx, incident):
        to = target_state("return", incident)
        text = check_return(incident, reason, config.workflow)
        before = incident.state
        incident.state, incident.updated_at = to, now
        incident.returns += 1
        assert incident.id is not None
        tx.end_escalations(incident.id, now, ["sign_off"])
        tx.update_incident(incident)
        _audit(tx, incident, actor, "return", before, now, {"reason": text, "unit": incident.unit,
                                                            "returns": incident.returns})
        notify(tx, config, incident, "returned", f"{incident.unit}退单: {text}", now)
        tx.announce_change(incident, "return", before.value, actor, now)
        return incident


def merge(store: SqlStore, config: AlertsConfig, source_id: int, target_id: int, actor: str,
          reason: str | None = None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """并单: move every post of ``source_id`` into ``target_id``, add up the reach, close the
    source as merged. Returns the target (its grade may rise)."""
    now = now or utcnow()
    with store.begin() as tx:
        source, target = _pair(tx, source_id, target_id, actor, "merge", version)
        target_state("merge", source)
        check_merge(source, target)
        assert source.id is not None and target.id is not None
        moved = tx.move_posts(source.id, target.id)
        before = source.state
        tx.end_escalations(source.id, now)
        refreshed = tx.get_incident(target.id)
        assert refreshed is not None
        target = refreshed
        assert target.id is not None
        fold_into(source, target, now)
        tx.update_incident(source)
        detail = {"into": target.id, "posts": moved, "reason": (reason or "").strip() or None}
        _audit(tx, source, actor, "merge", before, now, detail)
        tx.add_audit(AuditEntry(target.id, now, actor, "merge_in", target.state.value, target.state.value,
                                {"from": source.id, "posts": moved, "reason": detail["reason"]}))
        regrade(tx, config, target, now, actor)
        tx.update_incident(target)
        label_incident(tx, Correction.MERGED, target, actor, now, audit_of=source.id)
        tx.announce_change(source, "merge", before.value, actor, now)
        return target


def extend(store: SqlStore, config: AlertsConfig, incident_id: int, step: str, until: dt.datetime | dt.timedelta,
           actor: str, reason: str | None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """延期: move a step's deadline later (to ``until``, or by it); only before it has passed, with a reason."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "extend", version) as (tx, incident):
        target_state("extend", incident)
        text = require_text(reason, "延期理由")
        until = _until(incident, step, until)
        old = incident.deadlines.get(step)
        incident.deadlines[step] = check_extension(incident, step, until, now)
        incident.updated_at = now
        assert incident.id is not None
        tx.end_escalations(incident.id, now, [step])
        tx.update_incident(incident)
        _audit(tx, incident, actor, "extend", incident.state, now,
               {"step": step, "from": old.isoformat() if old else None, "to": until.isoformat(), "reason": text})
        tx.announce_change(incident, "extend", incident.state.value, actor, now)
        return incident


def request_extension(store: SqlStore, config: AlertsConfig, incident_id: int, step: str,
                      until: dt.datetime | dt.timedelta, actor: str, reason: str | None,
                      now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """申请延期: a unit asks for a later deadline. Checked like a grant, recorded in the audit log
    and the feed (the duty desk grants it with :func:`extend`); the deadline does not move."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "extend_request", version) as (tx, incident):
        target_state("extend", incident)
        text = require_text(reason, "延期理由")
        current = incident.deadlines.get(step)
        if current is None:
            raise WorkflowError(f"事件 #{incident.id} 没有「{step}」时限")
        until = _until(incident, step, until)
        check_extension(incident, step, until, now)
        hours = (until - current).total_seconds() / 3600
        _audit(tx, incident, actor, "extend_request", incident.state, now,
               {"step": step, "hours": hours, "reason": text, "deadline": current.isoformat(),
                "until": until.isoformat()})
        tx.announce_change(incident, "extend_request", incident.state.value, actor, now)
        return incident


def override_grade(store: SqlStore, config: AlertsConfig, incident_id: int, grade: str, actor: str,
                   reason: str | None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """调整等级: an officer sets the grade (up or down) with a reason. It holds until the facts
    justify a higher grade than the officer's."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "override_grade", version) as (tx, incident):
        target_state("override_grade", incident)
        text = require_text(reason, "调整等级理由")
        new = check_grade(grade)
        old = incident.grade
        incident.grade_override = {"grade": new.value, "reason": text, "by": actor, "at": now.isoformat()}
        incident.grade = new
        incident.grade_reasons = [*incident.grade_reasons[:1], f"人工调整为{new.label}: {text}（{actor}）"]
        if new.rank > old.rank:
            incident.deadlines = raise_deadlines(incident.deadlines, config.jurisdiction.deadlines, new, now,
                                                 incident.milestones, incident.complex)
        elif new.rank < old.rank:
            incident.deadlines = lower_deadlines(incident.deadlines, config.jurisdiction.deadlines, new,
                                                 incident.opened_at, incident.milestones, incident.complex)
        incident.updated_at = now
        assert incident.id is not None
        tx.end_escalations(incident.id, now, [s for s in ("report", "press") if s not in incident.deadlines])
        tx.update_incident(incident)
        _audit(tx, incident, actor, "grade_override", incident.state, now,
               {"from_grade": old.value, "to_grade": new.value, "reason": text})
        if new is not old:
            label_incident(tx, Correction.REGRADED, incident, actor, now)
        if new.rank > old.rank:
            notify(tx, config, incident, "grade_raised", f"等级由{old.label}人工调整为{new.label}: {text}", now)
        tx.announce_change(incident, "grade", incident.state.value, actor, now)
        return incident


def record_step(store: SqlStore, config: AlertsConfig, incident_id: int, step: str, actor: str,
                note: str | None = None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """登记 a step done outside the workflow states: ``report`` (报告局领导) or ``press`` (新闻发布会)."""
    now = now or utcnow()
    if step not in RECORDABLE_STEPS:
        raise WorkflowError(f"只能登记 {', '.join(RECORDABLE_STEPS)}，不能登记 {step!r}")
    with _acting(store, incident_id, actor, "record_step", version) as (tx, incident):
        target_state("record_step", incident)
        incident.milestones[step] = now
        incident.updated_at = now
        assert incident.id is not None
        tx.end_escalations(incident.id, now, [step])
        tx.update_incident(incident)
        _audit(tx, incident, actor, "record_step", incident.state, now, {"step": step, "note": note})
        tx.announce_change(incident, "record_step", incident.state.value, actor, now)
        return incident


def set_complex(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, reason: str | None,
                now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """标记复杂: the closure deadline becomes the complex one (e.g. 15 working days)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "set_complex", version) as (tx, incident):
        target_state("set_complex", incident)
        text = require_text(reason, "复杂案件理由")
        if incident.complex:
            raise WorkflowError(f"事件 #{incident.id} 已标记为复杂案件")
        incident.complex = True
        fresh = compute_deadlines(config.jurisdiction.deadlines, incident.grade, incident.opened_at, True)
        old = incident.deadlines.get("closure")
        if "closure" in fresh and (old is None or fresh["closure"] > old):
            incident.deadlines["closure"] = fresh["closure"]
        incident.updated_at = now
        assert incident.id is not None
        tx.end_escalations(incident.id, now, ["closure"])
        tx.update_incident(incident)
        _audit(tx, incident, actor, "set_complex", incident.state, now,
               {"reason": text, "closure": incident.deadlines.get("closure", old).isoformat() if old else None})
        tx.announce_change(incident, "set_complex", incident.state.value, actor, now)
        return incident


def acknowledge(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, step: str | None = None,
                now: dt.datetime | None = None, *, version: int | None = None) -> list[str]:
    """Acknowledge the current escalation (of one step, or all): its repeats stop. Returns the steps."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "acknowledge", version) as (tx, incident):
        assert incident.id is not None
        rows = [r for (_, s), r in tx.active_escalations([incident.id]).items() if step in (None, s)]
        rows = [r for r in rows if r.rung >= 0 and r.acknowledged_rung < r.rung]
        if not rows:
            raise WorkflowError(f"事件 #{incident.id} 没有待确认的催办/督办")
        done = []
        for row in rows:
            state = ack_state(_state_of(row), actor, now)
            tx.save_escalation(incident.id, row.step, state)
            done.append(row.step)
        _audit(tx, incident, actor, "acknowledge", incident.state, now, {"steps": sorted(done)})
        tx.announce_change(incident, "acknowledge", incident.state.value, actor, now)
        return sorted(done)


def _state_of(row: Any) -> EscalationState:
    return EscalationState(deadline=row.deadline, rung=row.rung, last_notified_at=row.last_notified_at,
                           notify_count=row.notify_count, acknowledged_rung=row.acknowledged_rung,
                           acknowledged_at=row.acknowledged_at, acknowledged_by=row.acknowledged_by)
