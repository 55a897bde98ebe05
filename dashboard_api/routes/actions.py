"""Workflow actions on an incident: one POST per action, a JSON body with the reason or feedback.

The HTTP contract is fixed here; the workflow behind it is ``alerts.actions``, reached through the
thin adapter ``dashboard_api.workflow_gateway``. Each answers with the incident as it now is.
"""

# No ``from __future__ import annotations`` here: the endpoints are built in a loop, and FastAPI must
# see each one's body class itself, not the string "body_type".
from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from core.errors import NotFoundError, WorkflowError
from core.timeutil import utcnow
from dashboard_api.bodies import (
    AcknowledgeBody,
    AssignBody,
    ExtendBody,
    GradeBody,
    MergeBody,
    NoteBody,
    ReassignBody,
    RejectBody,
    ResolveBody,
    RespondBody,
    ReturnBody,
)
from dashboard_api.deps import AlertsDep, IncidentId, PrincipalDep, StoreDep, require_roles
from dashboard_api.errors import ACTION_ERRORS
from dashboard_api.schemas import IncidentPublic
from dashboard_api.workflow_gateway import ROLES, apply_action

router = APIRouter(prefix="/api/incidents", tags=["workflow"])


def _act(action: str, incident_id: int, body: Any, user: Any, store: Any, config: Any) -> IncidentPublic:
    params = body.model_dump(exclude_none=True) if body is not None else {}
    now = utcnow()
    try:
        incident = apply_action(store, config, incident_id, action, actor=user.name, role=user.role,
                                unit_scope=user.unit_scope, params=params, now=now)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except WorkflowError as exc:  # not allowed in this state, or a bad value the body schema cannot see
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return IncidentPublic.of(incident, now)


def _route(action: str, body_type: type, summary: str, who: str) -> None:
    doc = f"{summary} Allowed for: {who}."
    if body_type in (NoteBody, AcknowledgeBody):  # every field is optional, and so is the body
        def endpoint(incident_id: IncidentId, user: PrincipalDep, store: StoreDep, config: AlertsDep,
                     body: body_type | None = None) -> IncidentPublic:  # type: ignore[valid-type]
            return _act(action, incident_id, body, user, store, config)
    else:
        def endpoint(incident_id: IncidentId, body: body_type, user: PrincipalDep,  # type: ignore[valid-type]
                     store: StoreDep, config: AlertsDep) -> IncidentPublic:
            return _act(action, incident_id, body, user, store, config)
    endpoint.__name__ = f"{action}_incident"
    endpoint.__doc__ = doc
    router.add_api_route(f"/{{incident_id}}/{action}", endpoint, methods=["POST"], response_model=IncidentPublic,
                         responses=ACTION_ERRORS, summary=summary, operation_id=f"{action}_incident",
                         dependencies=[Depends(require_roles(*ROLES[action]))])


_route("assign", AssignBody, "Assign (交办) a triaged or returned incident to a unit.", "duty")
_route("reassign", ReassignBody, "Reassign (改派) to another unit, with the reason.", "duty")
_route("sign", NoteBody, "Sign for (签收) an assigned incident.", "the unit it is assigned to")
_route("respond", RespondBody, "Record the unit's response (回应).", "the unit")
_route("resolve", ResolveBody, "Resolve (办结) a responded incident with feedback.", "the unit")
_route("return", ReturnBody, "Return (退单) to the duty desk with the reason.", "the unit")
_route("close", NoteBody, "Close (关闭) a resolved incident after review.", "duty")
_route("merge", MergeBody, "Merge into another open incident (posts move; this one closes).", "duty")
_route("grade", GradeBody, "Override the grade (deadlines follow the new grade).", "duty")
_route("reject", RejectBody, "Send a resolution back (审核退回) to the unit, with the reason.", "duty")
_route("acknowledge", AcknowledgeBody, "Acknowledge (确认) the current 催办/督办 so its repeats stop.", "duty")
_route("extend", ExtendBody, "Extend a deadline: a unit requests, the duty desk grants.", "duty, the unit")
