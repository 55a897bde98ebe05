"""会办 / 抄送: the duty desk copies an incident to a department (住建, 城管, 公安, 水利, 林业 …), the
department answers with its handling note (会办意见), and the duty desk may withdraw the copy.

The lead unit stays responsible: none of these changes the incident's state, deadlines or
escalations; they add a copy (storage.copies), an audit entry and a live-feed line. Built like the
workflow actions (alerts.actions): one transaction reads the incident under its lock, checked
against the actor's role and department, and writes all of it, so a refused action changes nothing.
A department user acts only on incidents copied to it and not withdrawn (anything else is "not
found"); an operator at the command line acts as the duty desk and names the department.
"""

from __future__ import annotations

import datetime as dt

from alerts.actions import _acting, _audit
from alerts.config import AlertsConfig
from alerts.notify import notify
from alerts.workflow import DEPARTMENT, check_department, require_text, target_state
from core.errors import WorkflowError
from core.jurisdiction import Department
from core.models import Incident
from core.timeutil import utcnow
from storage.sql import SqlStore, Tx


def _detail(department: Department, **more: str | None) -> dict[str, str | None]:
    return {"department_code": department.code, "department": department.name, **more}


def _department_of(tx: Tx, config: AlertsConfig, actor: str, named: str | None) -> Department:
    """The department that answers: a department user's own (whatever it names), else the one named."""
    user = tx.get_user(actor)
    if user is not None and user.role == DEPARTMENT:
        named = user.department_code
    return check_department(named, config.jurisdiction)


def copy_to(store: SqlStore, config: AlertsConfig, incident_id: int, department: str | None, actor: str,
            note: str | None = None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """抄送: copy the incident to ``department`` (code or name) with an optional request; the
    department's contacts are told (pack route ``copied``). One live copy per department."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "copy", version) as (tx, incident):
        assert incident.id is not None
        target_state("copy", incident)
        found = check_department(department, config.jurisdiction)
        if tx.active_copy(incident.id, found.code) is not None:
            raise WorkflowError(f"事件 #{incident.id} 已抄送{found.name}，无需重复抄送")
        text = (note or "").strip() or None
        tx.add_copy(incident.id, found.code, actor, now, text)
        _audit(tx, incident, actor, "copy", incident.state, now, _detail(found, note=text))
        notify(tx, config, incident, "copied", f"抄送{found.name}会办" + (f"：{text}" if text else ""), now,
               department=found)
        tx.announce_change(incident, "copy", incident.state.value, actor, now,
                           department_code=found.code)
        return incident


def reply(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, opinion: str | None,
          department: str | None = None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """会办意见: the department copied on the incident answers (text required); the duty desk and
    the lead unit are told (pack route ``copy_replied``). Several answers are kept, each audited."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "reply", version) as (tx, incident):
        assert incident.id is not None
        target_state("reply", incident)
        text = require_text(opinion, "会办意见")
        found = _department_of(tx, config, actor, department)
        copy = tx.active_copy(incident.id, found.code)
        if copy is None:
            raise WorkflowError(f"事件 #{incident.id} 没有抄送{found.name}（或已撤回），不能回复会办意见")
        tx.note_copy_reply(copy.id, now)
        _audit(tx, incident, actor, "reply", incident.state, now, _detail(found, opinion=text))
        notify(tx, config, incident, "copy_replied", f"{found.name}会办意见：{text}", now)
        tx.announce_change(incident, "reply", incident.state.value, actor, now,
                           department_code=found.code)
        return incident


def withdraw(store: SqlStore, config: AlertsConfig, incident_id: int, department: str | None, actor: str,
             reason: str | None = None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """撤回抄送: the department no longer sees the incident (its answers stay in the audit log)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "withdraw_copy", version) as (tx, incident):
        assert incident.id is not None
        target_state("withdraw_copy", incident)
        found = check_department(department, config.jurisdiction)
        copy = tx.active_copy(incident.id, found.code)
        if copy is None:
            raise WorkflowError(f"事件 #{incident.id} 没有抄送{found.name}（或已撤回）")
        text = (reason or "").strip() or None
        tx.withdraw_copy(copy.id, actor, now)
        _audit(tx, incident, actor, "withdraw_copy", incident.state, now, _detail(found, reason=text))
        notify(tx, config, incident, "copy_withdrawn", f"已撤回抄送{found.name}" + (f"：{text}" if text else ""),
               now, department=found)
        tx.announce_change(incident, "withdraw_copy", incident.state.value, actor, now,
                           department_code=found.code)
        return incident
