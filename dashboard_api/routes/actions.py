"""Workflow actions on an incident: one POST per action, a JSON body with the reason or feedback.

The HTTP contract (path, body model, summary) is fixed here; which actions exist, who may take
them and what they do is ``alerts.registry`` (the CLI's ``act`` reads the same table), reached
through the thin adapter ``dashboard_api.workflow_gateway``. Each answers with the incident as it
now is.
"""

# No ``from __future__ import annotations`` here: the endpoints are built in a loop, and FastAPI must
# see each one's body class itself, not the string "body_type".
from collections.abc import Callable

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from alerts.config import AlertsConfig
from alerts.registry import ACTIONS, http_actions
from core.timeutil import utcnow
from dashboard_api.bodies import (
    AcknowledgeBody,
    AssignBody,
    CopyBody,
    CopyReplyBody,
    DismissBody,
    EditBody,
    ExtendBody,
    GradeBody,
    MergeBody,
    MoveBody,
    NoteBody,
    ReassignBody,
    RejectBody,
    ResolveBody,
    RespondBody,
    ReturnBody,
    SplitBody,
    UndoBody,
    WithdrawCopyBody,
)
from dashboard_api.deps import AlertsDep, IncidentId, Principal, PrincipalDep, StoreDep, require_roles
from dashboard_api.errors import ACTION_ERRORS, refusals
from dashboard_api.schemas import IncidentPublic
from dashboard_api.workflow_gateway import apply_action
from storage.sql import SqlStore

router = APIRouter(prefix="/api/incidents", tags=["workflow"])


def _act(action: str, incident_id: int, body: BaseModel | None, user: Principal, store: SqlStore,
         config: AlertsConfig) -> IncidentPublic:
    params = body.model_dump(exclude_none=True) if body is not None else {}
    now = utcnow()
    with refusals():  # 409: not allowed in this state, or a bad value the body schema cannot see
        incident = apply_action(store, config, incident_id, action, actor=user.name, role=user.role,
                                version=user.token_version, params=params, now=now)
    return IncidentPublic.of(incident, now)


# The HTTP side of each registry action: its body model and the summary on /docs.
BODIES: dict[str, tuple[type, str]] = {
    "assign": (AssignBody, "Assign (交办) a triaged or returned incident to a unit."),
    "reassign": (ReassignBody, "Reassign (改派) to another unit, with the reason."),
    "sign": (NoteBody, "Sign for (签收) an assigned incident."),
    "respond": (RespondBody, "Record the unit's response (回应)."),
    "resolve": (ResolveBody, "Resolve (办结) a responded incident with feedback."),
    "return": (ReturnBody, "Return (退单) to the duty desk with the reason."),
    "close": (NoteBody, "Close (审核办结) a resolved incident after review."),
    "merge": (MergeBody, "Merge into another open incident (posts move; this one closes)."),
    "grade": (GradeBody, "Override the grade (deadlines follow the new grade)."),
    "reject": (RejectBody, "Send a resolution back (审核退回) to the unit, with the reason."),
    "acknowledge": (AcknowledgeBody, "Acknowledge (确认) the current 催办/督办 so its repeats stop."),
    "extend": (ExtendBody, "Extend a deadline: a unit requests, the duty desk grants."),
    # Corrections (alerts.corrections): each is audited, labels the posts concerned, and is undoable.
    "dismiss": (DismissBody, "Mark the incident, or some of its posts, 误报/不相关 (not environmental or not ours)."),
    "edit": (EditBody, "Set a post's unit, topic or polarity (修正): a label; the incident does not move."),
    "split": (SplitBody, "Split (拆分) posts out into a new incident in the triage queue."),
    "move": (MoveBody, "Move (移帖) posts into another open incident."),
    "undo": (UndoBody, "Undo (撤销) the latest correction: 误报, 拆分, 移帖 or 修正."),
    # 会办 / 抄送 (alerts.copies): the incident's state, unit and deadlines do not move.
    "copy": (CopyBody, "Copy (抄送) the incident to a department for its 会办; it is told, and sees this incident."),
    "reply": (CopyReplyBody, "The department's handling note (会办意见) on an incident copied to it."),
    "withdraw_copy": (WithdrawCopyBody, "Withdraw (撤回) the copy to a department: it no longer sees the incident."),
}
WHO = {"duty": "duty", "unit": "the unit it is assigned to", "department": "the department it is copied to"}


def _route(action: str) -> None:
    body_type, summary = BODIES[action]
    roles = ACTIONS[action].roles
    doc = f"{summary} Allowed for: {', '.join(WHO.get(r, r) for r in roles)}."
    # ``body_type`` is a variable used as an annotation: FastAPI reads it at run time to validate
    # the body; a type checker cannot (hence the valid-type ignores).
    endpoint: Callable[..., IncidentPublic]
    if body_type in (NoteBody, AcknowledgeBody, UndoBody):  # every field is optional, and so is the body
        def optional_body(incident_id: IncidentId, user: PrincipalDep, store: StoreDep, config: AlertsDep,
                          body: body_type | None = None) -> IncidentPublic:  # type: ignore[valid-type]
            return _act(action, incident_id, body, user, store, config)
        endpoint = optional_body
    else:
        def required_body(incident_id: IncidentId, body: body_type,  # type: ignore[valid-type]
                          user: PrincipalDep, store: StoreDep, config: AlertsDep) -> IncidentPublic:
            return _act(action, incident_id, body, user, store, config)
        endpoint = required_body
    endpoint.__name__ = f"{action}_incident"
    endpoint.__doc__ = doc
    router.add_api_route(f"/{{incident_id}}/{action}", endpoint, methods=["POST"], response_model=IncidentPublic,
                         responses=ACTION_ERRORS, summary=summary, operation_id=f"{action}_incident",
                         dependencies=[Depends(require_roles(*roles))])


for _spec in http_actions():
    _route(_spec.name)
