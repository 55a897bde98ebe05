"""The one door through which the API changes an incident's workflow state.

Small on purpose: it checks the transition, writes the incident, the audit entry and the feed
event in one transaction. The full workflow (alerts/) can replace the body of :func:`apply_action`
without the HTTP contract (routes/actions.py) changing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from alerts.deadlines import compute_deadlines
from core.errors import EcowatchError, WorkflowError
from core.jurisdiction import Jurisdiction
from core.models import AuditEntry, Grade, Incident, State
from storage.events import add_event
from storage.schema import incident_posts, incidents
from storage.sql import SqlStore, Tx

OPEN = {State.NEW, State.ASSIGNED, State.SIGNED, State.RESPONDED, State.RETURNED}


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may take an action, from which states, and to which state (None = unchanged)."""

    roles: frozenset[str]
    from_states: frozenset[State]
    to_state: State | None


def _rule(roles: str, states: set[State], to: State | None) -> Rule:
    return Rule(frozenset(roles.split()), frozenset(states), to)


RULES: dict[str, Rule] = {
    "assign": _rule("duty", {State.NEW, State.RETURNED}, State.ASSIGNED),
    "reassign": _rule("duty", {State.ASSIGNED, State.SIGNED, State.RESPONDED, State.RETURNED}, State.ASSIGNED),
    "sign": _rule("unit", {State.ASSIGNED}, State.SIGNED),
    "respond": _rule("unit", {State.SIGNED}, State.RESPONDED),
    "resolve": _rule("unit", {State.SIGNED, State.RESPONDED}, State.RESOLVED),
    "return": _rule("unit", {State.ASSIGNED, State.SIGNED}, State.RETURNED),
    "close": _rule("duty", {State.RESOLVED}, State.CLOSED),
    "merge": _rule("duty", OPEN, State.CLOSED),
    "grade": _rule("duty", OPEN | {State.RESOLVED}, None),
    "extend": _rule("duty unit", OPEN, None),
}


class IncidentNotFound(EcowatchError):
    """No such incident, or not one the acting user may see."""


class ActionForbidden(EcowatchError):
    """The acting user's role may not take this action."""


def apply_action(store: SqlStore, jurisdiction: Jurisdiction, incident_id: int, action: str, *, actor: str,
                 role: str, unit_scope: str | None, params: dict[str, Any], now: dt.datetime) -> Incident:
    """Apply ``action`` to an incident and return it as it now is.

    ``unit_scope`` is the acting unit user's unit (None for the duty desk): an incident of
    another unit is reported as not found, so its existence does not leak.
    Raises IncidentNotFound, ActionForbidden, or WorkflowError (wrong state or bad parameters).
    """
    rule = RULES.get(action)
    params = {**params, "actor": actor}
    if rule is None:
        raise WorkflowError(f"unknown action {action!r}")
    if role not in rule.roles:
        raise ActionForbidden(f"role {role!r} may not {action} (allowed: {', '.join(sorted(rule.roles))})")
    with store.begin() as tx:
        incident = tx.get_incident(incident_id)
        if incident is None or (unit_scope is not None and incident.unit_code != unit_scope):
            raise IncidentNotFound(f"incident {incident_id} not found")
        if incident.state not in rule.from_states:
            raise WorkflowError(f"cannot {action} an incident that is {incident.state.value}")
        before, old_unit = incident.state, incident.unit_code
        detail = _HANDLERS[action](tx, jurisdiction, incident, role, params, now)
        if rule.to_state is not None:
            incident.state = rule.to_state
        _mark_milestones(tx, incident, action, now)
        incident.updated_at = now
        tx.update_incident(incident)
        audit_action = "extend_request" if action == "extend" and role == "unit" else action
        tx.add_audit(AuditEntry(incident_id, now, actor, audit_action, before.value, incident.state.value, detail))
        payload = {"action": audit_action, "from_state": before.value, "to_state": incident.state.value,
                   "title": incident.title, "grade": incident.grade.value, "unit": incident.unit, "actor": actor}
        add_event(tx, "incident_changed", incident_id, incident.unit_code, payload, now)
        if old_unit != incident.unit_code and old_unit is not None:
            add_event(tx, "incident_changed", incident_id, old_unit, payload, now)  # it left that unit's inbox
    return incident


# The steps an action completes, as the workflow of alerts/ records them: the escalation job reads
# ``milestones`` and the active escalations, so a step done through the API must stop its clock.
_DONE_STEPS = {"sign": ("sign_off",), "respond": ("response",), "resolve": ("closure",), "close": ("closed",),
               "merge": ("closed",)}


def _mark_milestones(tx: Tx, incident: Incident, action: str, now: dt.datetime) -> None:
    if incident.id is None:
        return
    if action in ("assign", "reassign"):
        incident.milestones.pop("sign_off", None)  # the new unit's sign-off clock runs
        tx.end_escalations(incident.id, now, ["sign_off"])
    steps = _DONE_STEPS.get(action, ())
    for step in steps:
        incident.milestones[step] = now
    if action in ("close", "merge"):
        tx.end_escalations(incident.id, now)
    elif steps:
        tx.end_escalations(incident.id, now, list(steps))


def _text(params: dict[str, Any], key: str, required: bool = True) -> str:
    value = str(params.get(key) or "").strip()
    if required and not value:
        raise WorkflowError(f"{key} is required")
    return value


def _assign(tx: Tx, jurisdiction: Jurisdiction, incident: Incident, _role: str, params: dict[str, Any],
            now: dt.datetime) -> dict[str, Any]:
    unit = jurisdiction.unit(params.get("unit_code"))
    if unit is None:
        raise WorkflowError(f"unknown unit code {params.get('unit_code')!r}")
    if params.get("department"):
        incident.department = str(params["department"])
    incident.unit, incident.unit_code = unit.name, unit.code
    tx.add_assignment(incident.id or 0, unit.code, unit.name, incident.department, params["actor"], now)
    return {"unit": unit.name, "unit_code": unit.code, "department": incident.department,
            "note": _text(params, "note", required=False), "reason": _text(params, "reason", required=False)}


def _reassign(tx: Tx, jurisdiction: Jurisdiction, incident: Incident, role: str, params: dict[str, Any],
              now: dt.datetime) -> dict[str, Any]:
    reason = _text(params, "reason")
    previous = incident.unit
    detail = _assign(tx, jurisdiction, incident, role, params, now)
    return {**detail, "reason": reason, "previous_unit": previous}


def _note(key: str, required: bool) -> Any:
    def handler(_tx: Tx, _j: Jurisdiction, _i: Incident, _role: str, params: dict[str, Any],
                _now: dt.datetime) -> dict[str, Any]:
        return {key: _text(params, key, required)}

    return handler


def _merge(tx: Tx, _j: Jurisdiction, incident: Incident, _role: str, params: dict[str, Any],
           now: dt.datetime) -> dict[str, Any]:
    target_id = params.get("into")
    target = tx.get_incident(int(target_id)) if isinstance(target_id, int) else None
    if target is None or target.id == incident.id or target.state not in OPEN:
        raise WorkflowError("into must name another open incident")
    tx.conn.execute(update(incident_posts).where(incident_posts.c.incident_id == incident.id)
                    .values(incident_id=target.id))
    count = tx.conn.execute(select(func.count()).select_from(incident_posts)
                            .where(incident_posts.c.incident_id == target.id)).scalar_one()
    if incident.grade.rank > target.grade.rank:
        target.grade = incident.grade
    target.post_count, target.updated_at = int(count), now
    tx.update_incident(target)
    tx.add_audit(AuditEntry(target.id or 0, now, params["actor"], "merged_in", target.state.value,
                            target.state.value, {"from_incident": incident.id,
                                                 "reason": _text(params, "reason", required=False)}))
    incident.post_count, incident.merged_into = 0, target.id
    tx.conn.execute(update(incidents).where(incidents.c.id == incident.id).values(post_count=0))
    return {"into": target.id, "reason": _text(params, "reason", required=False)}


def _grade(_tx: Tx, jurisdiction: Jurisdiction, incident: Incident, _role: str, params: dict[str, Any],
           _now: dt.datetime) -> dict[str, Any]:
    try:
        grade = Grade(params.get("grade"))
    except ValueError as exc:
        raise WorkflowError("grade must be one of blue, yellow, orange, red") from exc
    reason = _text(params, "reason")
    old = incident.grade
    incident.grade = grade
    incident.grade_reasons = [*incident.grade_reasons, f"值班员调整为{grade.label}：{reason}"]
    # Deadlines follow the grade's policy, still counted from when the incident opened.
    incident.deadlines = compute_deadlines(jurisdiction.deadlines, grade, incident.opened_at)
    return {"from_grade": old.value, "to_grade": grade.value, "reason": reason}


def _extend(_tx: Tx, _j: Jurisdiction, incident: Incident, role: str, params: dict[str, Any],
            _now: dt.datetime) -> dict[str, Any]:
    step = _text(params, "step")
    if step not in incident.deadlines:
        raise WorkflowError(f"no deadline named {step!r} (have: {', '.join(incident.deadlines) or 'none'})")
    hours = params.get("hours")
    if not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
        raise WorkflowError("hours must be a number between 0 and 720")
    reason = _text(params, "reason")
    detail = {"step": step, "hours": hours, "reason": reason, "deadline": incident.deadlines[step].isoformat()}
    if role == "duty":  # the duty desk grants; a unit's call is a request the desk sees in its feed
        incident.deadlines = {**incident.deadlines, step: incident.deadlines[step] + dt.timedelta(hours=hours)}
        detail["new_deadline"] = incident.deadlines[step].isoformat()
    return detail


_HANDLERS = {
    "assign": _assign,
    "reassign": _reassign,
    "sign": _note("note", False),
    "respond": _note("response", True),
    "resolve": _note("feedback", True),
    "return": _note("reason", True),
    "close": _note("note", False),
    "merge": _merge,
    "grade": _grade,
    "extend": _extend,
}
