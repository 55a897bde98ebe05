"""A thin adapter from the HTTP workflow actions to :mod:`alerts.actions` (the one workflow).

alerts.actions checks each transition and, in one transaction, writes the incident, the audit
entry, the escalation state, the queued notifications and the console's ``incident_changed``
live-feed line. This module only maps HTTP bodies onto those calls and keeps a unit user to its
own unit's incidents. It raises ``core.errors`` exceptions only; routes/actions.py turns them into HTTP statuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from alerts import actions
from alerts.config import AlertsConfig
from alerts.workflow import require_text
from core.errors import NotFoundError, WorkflowError
from core.models import Incident
from storage.sql import SqlStore

# Who may take each HTTP action; checked by a route dependency before anything is read.
ROLES: dict[str, tuple[str, ...]] = {
    "assign": ("duty",), "reassign": ("duty",), "close": ("duty",), "merge": ("duty",), "grade": ("duty",),
    "reject": ("duty",), "acknowledge": ("duty",), "extend": ("duty", "unit"),
    "sign": ("unit",), "respond": ("unit",), "resolve": ("unit",), "return": ("unit",),
}

Handler = Callable[[SqlStore, AlertsConfig, Incident, str, str, dict[str, Any], dt.datetime], Incident]


def apply_action(store: SqlStore, config: AlertsConfig, incident_id: int, action: str, *, actor: str, role: str,
                 unit_scope: str | None, params: dict[str, Any], now: dt.datetime) -> Incident:
    """Apply the HTTP ``action`` through alerts.actions and return the incident as the API shows it.

    ``unit_scope`` is the acting unit user's unit (None for the duty desk): another unit's incident
    is reported as not found, so its existence does not leak. Raises NotFoundError or WorkflowError.
    """
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
    if incident is None or (unit_scope is not None and incident.unit_code != unit_scope):
        raise NotFoundError(f"事件 #{incident_id} 不存在")
    return _HANDLERS[action](store, config, incident, actor, role, params, now)


def _text(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    return str(value) if value is not None else None


def _assign(store: SqlStore, config: AlertsConfig, incident: Incident, actor: str, _role: str,
            params: dict[str, Any], now: dt.datetime) -> Incident:
    # 交办 carries an optional instruction (note); alerts records it as the assignment's reason.
    return actions.assign(store, config, _id(incident), params.get("unit_code"), actor,
                          department=params.get("department"), reason=_text(params, "note"), now=now,
                          announce_as="assign")


def _reassign(store: SqlStore, config: AlertsConfig, incident: Incident, actor: str, _role: str,
              params: dict[str, Any], now: dt.datetime) -> Incident:
    return actions.assign(store, config, _id(incident), params.get("unit_code"), actor,
                          department=params.get("department"), reason=require_text(params.get("reason"), "改派理由"),
                          now=now, announce_as="reassign")


def _merge(store: SqlStore, config: AlertsConfig, incident: Incident, actor: str, _role: str,
           params: dict[str, Any], now: dt.datetime) -> Incident:
    # alerts.merge answers with the target; the API answers with the incident it was asked about
    # (the source, now closed), as every other action does.
    try:
        actions.merge(store, config, _id(incident), int(params["into"]), actor, _text(params, "reason"), now)
    except NotFoundError as exc:  # the path's incident exists; a missing target is a bad request
        raise WorkflowError(f"目标事件 #{params['into']} 不存在") from exc
    return _reload(store, incident)


def _extend(store: SqlStore, config: AlertsConfig, incident: Incident, actor: str, role: str,
            params: dict[str, Any], now: dt.datetime) -> Incident:
    step, hours = str(params.get("step")), float(params.get("hours", 0))
    current = incident.deadlines.get(step)
    if current is None:
        raise WorkflowError(f"事件 #{incident.id} 没有「{step}」时限")
    until = current + dt.timedelta(hours=hours)
    if role == "duty":
        return actions.extend(store, config, _id(incident), step, until, actor, _text(params, "reason"), now)
    # A unit only asks: the duty desk sees the request in its feed and grants it with its own extend.
    return actions.request_extension(store, config, _id(incident), step, until, actor, _text(params, "reason"), now)


def _acknowledge(store: SqlStore, config: AlertsConfig, incident: Incident, actor: str, _role: str,
                 params: dict[str, Any], now: dt.datetime) -> Incident:
    actions.acknowledge(store, config, _id(incident), actor, _text(params, "step"), now)
    return _reload(store, incident)


def _id(incident: Incident) -> int:
    assert incident.id is not None
    return incident.id


def _reload(store: SqlStore, incident: Incident) -> Incident:
    with store.read() as tx:
        fresh = tx.get_incident(_id(incident))
    if fresh is None:
        raise NotFoundError(f"事件 #{incident.id} 不存在")
    return fresh


_HANDLERS: dict[str, Handler] = {
    "assign": _assign,
    "reassign": _reassign,
    "sign": lambda s, c, i, a, _r, _p, n: actions.sign(s, c, _id(i), a, n),
    "respond": lambda s, c, i, a, _r, p, n: actions.respond(s, c, _id(i), a, p.get("response"), n),
    "resolve": lambda s, c, i, a, _r, p, n: actions.resolve(s, c, _id(i), a, p.get("feedback"), n),
    "return": lambda s, c, i, a, _r, p, n: actions.return_incident(s, c, _id(i), a, p.get("reason"), n),
    "close": lambda s, c, i, a, _r, p, n: actions.close(s, c, _id(i), a, p.get("note"), n),
    "reject": lambda s, c, i, a, _r, p, n: actions.reject(s, c, _id(i), a, p.get("reason"), n),
    "grade": lambda s, c, i, a, _r, p, n: actions.override_grade(s, c, _id(i), str(p.get("grade")), a,
                                                                  p.get("reason"), n),
    "merge": _merge,
    "extend": _extend,
    "acknowledge": _acknowledge,
}
