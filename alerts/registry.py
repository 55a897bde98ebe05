"""The one registry of workflow actions people take: name, Chinese label, who may take it, the
states it is allowed in, and its typed handler over :mod:`alerts.actions`.

The API's action routes (``dashboard_api.routes.actions``), the CLI's ``ecowatch act`` and the
console's action list (``GET /api/vocabulary``) all read this table, so an action cannot be
allowed in one place and refused or missing in another. Each handler takes one
:class:`ActionInput` (what an HTTP body or the CLI options carry, by meaning rather than by
field name) and returns an :class:`Outcome`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from alerts import actions, copies, corrections
from alerts.config import AlertsConfig
from alerts.workflow import ACTION_LABELS, ROLES, TRANSITIONS, UNIT, require_text
from core.errors import NotFoundError, WorkflowError
from core.models import Incident, State
from storage.sql import SqlStore


@dataclass(frozen=True, slots=True)
class ActionInput:
    """What the caller gives an action. ``text`` is its one free text (the reason, note, response
    or feedback: which one is the action's :attr:`ActionSpec.text_field`). ``role`` is the
    console role of the actor; None at the command line, where an operator acts as the duty desk.
    ``version`` is the token version the console checked the request under: the action re-reads
    the user in its writing transaction and refuses when it changed since (alerts.acting); None
    at the command line."""

    actor: str
    now: dt.datetime
    role: str | None = None
    version: int | None = None
    text: str | None = None
    unit_code: str | None = None
    department: str | None = None
    step: str | None = None
    hours: float | None = None  # extend: how much later (the API)
    until: dt.datetime | None = None  # extend: the new deadline (the CLI)
    grade: str | None = None
    into: int | None = None
    # Corrections (alerts.corrections): the posts concerned, a post's topic and polarity, and why
    # a 误报 is not ours (``scope``: environment | jurisdiction).
    post_ids: tuple[int, ...] = ()
    topic: str | None = None
    polarity: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The incident acted on, as it now is; for a merge (or a move of posts) also the incident
    they went into; for a split the new incident; for an acknowledgement the steps acknowledged."""

    incident: Incident
    merged_into: Incident | None = None
    acknowledged: tuple[str, ...] = ()
    created: Incident | None = None  # a split's new incident


Handler = Callable[[SqlStore, AlertsConfig, int, ActionInput], Outcome]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: ``name`` is its API path segment and its ``ecowatch act`` name (``cli_names``
    adds the CLI's own spellings); ``http`` False for the command line only."""

    name: str
    label: str
    roles: tuple[str, ...]
    states: frozenset[State]
    handler: Handler
    text_field: str | None = None
    http: bool = True
    cli_names: tuple[str, ...] = field(default=())


def _reload(store: SqlStore, incident_id: int) -> Incident:
    """The incident as the action left it, for the outcome: read after the action committed (every
    check and read the action depends on is in its own transaction, ``alerts.actions``)."""
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
    if incident is None:
        raise NotFoundError(f"事件 #{incident_id} 不存在")
    return incident


def _assign(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    # 交办 carries an optional instruction; alerts records it as the assignment's reason (required
    # when the incident is already assigned, which makes it a 改派).
    return Outcome(actions.assign(store, config, incident_id, inp.unit_code, inp.actor, department=inp.department,
                                  reason=inp.text, now=inp.now, announce_as="assign", version=inp.version))


def _reassign(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.assign(store, config, incident_id, inp.unit_code, inp.actor, department=inp.department,
                                  reason=require_text(inp.text, "改派理由"), now=inp.now, announce_as="reassign",
                                  version=inp.version))


def _sign(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.sign(store, config, incident_id, inp.actor, inp.now, version=inp.version))


def _respond(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.respond(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _resolve(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.resolve(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _return(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.return_incident(store, config, incident_id, inp.actor, inp.text, inp.now,
                                           version=inp.version))


def _close(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.close(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _reject(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.reject(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _merge(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    if inp.into is None:
        raise WorkflowError("并单需要指定目标事件")
    # A missing source is not found and a missing target a bad request: actions.merge tells them
    # apart where it reads both, in its transaction.
    target = actions.merge(store, config, incident_id, inp.into, inp.actor, inp.text, inp.now, version=inp.version)
    return Outcome(_reload(store, incident_id), merged_into=target)


def _extend(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    step = str(inp.step or "")
    # The API gives hours more: added to the deadline read under the lock, in the action's transaction.
    until = inp.until if inp.until is not None else dt.timedelta(hours=float(inp.hours or 0))
    if inp.role == UNIT:
        # A unit only asks: the duty desk sees the request in its feed and grants it with its own extend.
        return Outcome(actions.request_extension(store, config, incident_id, step, until, inp.actor, inp.text,
                                                 inp.now, version=inp.version))
    return Outcome(actions.extend(store, config, incident_id, step, until, inp.actor, inp.text, inp.now,
                                  version=inp.version))


def _grade(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.override_grade(store, config, incident_id, inp.grade or "", inp.actor, inp.text, inp.now,
                                          version=inp.version))


def _acknowledge(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    steps = actions.acknowledge(store, config, incident_id, inp.actor, inp.step, inp.now, version=inp.version)
    return Outcome(_reload(store, incident_id), acknowledged=tuple(steps))


def _record(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.record_step(store, config, incident_id, inp.step or "", inp.actor, inp.text, inp.now,
                                       version=inp.version))


def _complex(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(actions.set_complex(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _dismiss(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(corrections.dismiss(store, config, incident_id, inp.actor, inp.scope, inp.text,
                                       list(inp.post_ids), inp.now, version=inp.version))


def _edit(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    post_id = inp.post_ids[0] if len(inp.post_ids) == 1 else None
    if len(inp.post_ids) > 1:
        raise WorkflowError("修正一次只针对一条帖子")
    return Outcome(corrections.edit_post(store, config, incident_id, post_id, inp.actor, unit_code=inp.unit_code,
                                         topic=inp.topic, polarity=inp.polarity, reason=inp.text, now=inp.now,
                                         version=inp.version))


def _split(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    created = corrections.split(store, config, incident_id, list(inp.post_ids), inp.actor, inp.text, inp.now,
                                version=inp.version)
    return Outcome(_reload(store, incident_id), created=created)


def _move(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    # As for a merge: a missing target is a bad request, told apart in the move's transaction.
    target = corrections.move(store, config, incident_id, list(inp.post_ids), inp.into, inp.actor, inp.text, inp.now,
                              version=inp.version)
    return Outcome(_reload(store, incident_id), merged_into=target)


def _undo(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(corrections.undo(store, config, incident_id, inp.actor, inp.text, inp.now, version=inp.version))


def _copy(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(copies.copy_to(store, config, incident_id, inp.department, inp.actor, inp.text, inp.now,
                                  version=inp.version))


def _reply(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(copies.reply(store, config, incident_id, inp.actor, inp.text, inp.department, inp.now,
                                version=inp.version))


def _withdraw_copy(store: SqlStore, config: AlertsConfig, incident_id: int, inp: ActionInput) -> Outcome:
    return Outcome(copies.withdraw(store, config, incident_id, inp.department, inp.actor, inp.text, inp.now,
                                   version=inp.version))


def _allowed(workflow_action: str) -> frozenset[State]:
    return TRANSITIONS[workflow_action][0]


_OPEN = frozenset(set(State) - {State.CLOSED})

ACTIONS: Mapping[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("assign", ACTION_LABELS["assign"], ROLES["assign"], _allowed("assign"), _assign, "note"),
    ActionSpec("reassign", ACTION_LABELS["reassign"], ROLES["reassign"], _allowed("reassign"), _reassign, "reason"),
    ActionSpec("sign", ACTION_LABELS["sign"], ROLES["sign"], _allowed("sign"), _sign, "note"),
    ActionSpec("respond", ACTION_LABELS["respond"], ROLES["respond"], _allowed("respond"), _respond, "response"),
    ActionSpec("resolve", ACTION_LABELS["resolve"], ROLES["resolve"], _allowed("resolve"), _resolve, "feedback"),
    ActionSpec("return", ACTION_LABELS["return"], ROLES["return"], _allowed("return"), _return, "reason"),
    ActionSpec("close", ACTION_LABELS["close"], ROLES["close"], _allowed("close"), _close, "note"),
    ActionSpec("reject", ACTION_LABELS["reject"], ROLES["reject"], _allowed("reject"), _reject, "reason"),
    ActionSpec("merge", ACTION_LABELS["merge"], ROLES["merge"], _allowed("merge"), _merge, "reason"),
    ActionSpec("grade", ACTION_LABELS["override_grade"], ROLES["override_grade"], _allowed("override_grade"), _grade,
               "reason"),
    # The duty desk extends; a unit asks for an extension (see _extend).
    ActionSpec("extend", ACTION_LABELS["extend"], ROLES["extend"] + ROLES["extend_request"], _allowed("extend"),
               _extend, "reason"),
    ActionSpec("acknowledge", "确认催办/督办", ROLES["acknowledge"], _OPEN, _acknowledge, None, cli_names=("ack",)),
    ActionSpec("dismiss", ACTION_LABELS["dismiss"], ROLES["dismiss"], _allowed("dismiss"), _dismiss, "reason"),
    ActionSpec("edit", ACTION_LABELS["edit"], ROLES["edit"], _allowed("edit"), _edit, "reason"),
    ActionSpec("split", ACTION_LABELS["split"], ROLES["split"], _allowed("split"), _split, "reason"),
    ActionSpec("move", ACTION_LABELS["move"], ROLES["move"], _allowed("move"), _move, "reason"),
    ActionSpec("undo", ACTION_LABELS["undo"], ROLES["undo"], _allowed("undo"), _undo, "reason"),
    # 会办 / 抄送 (alerts.copies): the lead unit's workflow is untouched.
    ActionSpec("copy", ACTION_LABELS["copy"], ROLES["copy"], _allowed("copy"), _copy, "note"),
    ActionSpec("reply", ACTION_LABELS["reply"], ROLES["reply"], _allowed("reply"), _reply, "opinion"),
    ActionSpec("withdraw_copy", ACTION_LABELS["withdraw_copy"], ROLES["withdraw_copy"], _allowed("withdraw_copy"),
               _withdraw_copy, "reason"),
    ActionSpec("record", ACTION_LABELS["record_step"], ROLES["record_step"], _allowed("record_step"), _record, "note",
               http=False),
    ActionSpec("complex", ACTION_LABELS["set_complex"], ROLES["set_complex"], _allowed("set_complex"), _complex,
               "reason", http=False),
)}

# The names ``ecowatch act`` takes (its historical spellings: ``ack``, not ``acknowledge``).
CLI_ACTIONS: Mapping[str, ActionSpec] = {
    name: spec for spec in ACTIONS.values() for name in (spec.cli_names or (spec.name,))
}


def http_actions() -> list[ActionSpec]:
    """The actions the API serves, one POST route each."""
    return [spec for spec in ACTIONS.values() if spec.http]


def apply(store: SqlStore, config: AlertsConfig, name: str, incident_id: int, inp: ActionInput) -> Outcome:
    """Run action ``name`` (a registry name) on the incident. Raises WorkflowError for an unknown
    action or one the workflow refuses, NotFoundError for an unknown incident."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise WorkflowError(f"未知操作 {name!r}")
    return spec.handler(store, config, incident_id, inp)
