"""A thin adapter from the HTTP workflow actions to :mod:`alerts.registry` (the one table of
actions, the same the CLI's ``act`` uses).

alerts.actions checks each transition and, in one transaction, writes the incident, the audit
entry, the escalation state, the queued notifications and the console's ``incident_changed``
live-feed line. This module only turns an HTTP body into the registry's ``ActionInput``; who may
act on which incident (a unit user only on its own unit's: another's is "not found"), and whether
the user is still the one the request's token stood for, is checked there too, in the transaction
that writes, not here before it. It raises ``core.errors``
exceptions only; routes/actions.py turns them into HTTP statuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alerts.config import AlertsConfig
from alerts.registry import ACTIONS, ActionInput, apply
from core.models import Incident
from storage.sql import SqlStore


def action_input(action: str, params: dict[str, Any], *, actor: str, role: str, version: int,
                 now: dt.datetime) -> ActionInput:
    """The registry's input from an HTTP body (already validated by its model): the action's one
    free-text field (reason, note, response or feedback) becomes ``text``; ``version`` is the
    token version the request was checked under (the action checks it again where it writes)."""
    text_field = ACTIONS[action].text_field
    text = params.get(text_field) if text_field else None
    into = params.get("into")
    hours = params.get("hours")
    posts = [*params.get("post_ids", ()), *([params["post_id"]] if params.get("post_id") is not None else [])]
    return ActionInput(actor=actor, now=now, role=role, version=version, text=str(text) if text is not None else None,
                       unit_code=params.get("unit_code"), department=params.get("department"),
                       step=params.get("step"), hours=float(hours) if hours is not None else None,
                       grade=params.get("grade"), into=int(into) if into is not None else None,
                       post_ids=tuple(int(p) for p in posts), topic=params.get("topic"),
                       polarity=params.get("polarity"), scope=params.get("scope"))


def apply_action(store: SqlStore, config: AlertsConfig, incident_id: int, action: str, *, actor: str, role: str,
                 version: int, params: dict[str, Any], now: dt.datetime) -> Incident:
    """Apply the HTTP ``action`` and return the incident it was asked about, as it now is.
    Raises NotFoundError (also for another unit's incident) or WorkflowError (ActorRefused when
    the user was disabled, changed or logged out since its request was checked)."""
    inp = action_input(action, params, actor=actor, role=role, version=version, now=now)
    return apply(store, config, action, incident_id, inp).incident
