"""Incidents: filtered list (newest first) and detail with posts, evidence, timeline, audit log; a
department's inbox of the incidents copied to it (会办)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from alerts.incident_list import select_incidents
from core.sharing import COPY_ACTION_LABELS
from core.timeutil import utcnow
from dashboard_api.deps import (
    ClaimedSharedReaderDep,
    IncidentId,
    JurisdictionDep,
    Principal,
    StoreDep,
    aware_time,
    confirmed_snapshot,
    require_roles,
    scoped_unit,
)
from dashboard_api.errors import ERRORS
from dashboard_api.json_out import incidents_response, json_response
from dashboard_api.schemas import (
    CopyPublic,
    IncidentDetailPublic,
    IncidentPublic,
    incident_detail_fields,
)
from storage.incident_queries import IncidentFilters

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
copies_router = APIRouter(prefix="/api/copies", tags=["incidents"])

StateName = Literal["new", "assigned", "signed", "responded", "resolved", "closed", "returned"]
GradeName = Literal["blue", "yellow", "orange", "red"]
TopicName = Literal["water", "air", "noise", "waste", "soil", "ecology", "other"]


@dataclass(slots=True)
class IncidentQuery:
    """The list's filters as the request gave them, the unit already held to the user's scope, and
    the user as its token claims (to be confirmed by the read: ``confirmed_read``)."""

    filters: IncidentFilters
    overdue: bool | None
    user: Principal


async def incident_query(
        user: ClaimedSharedReaderDep,
        unit_code: Annotated[str | None, Query(max_length=20, description="only this unit (a unit user: its own)",
                                               examples=["500105003000"])] = None,
        state: Annotated[list[StateName] | None, Query(description="any of these states; repeat the parameter")] = None,
        grade: Annotated[list[GradeName] | None, Query(description="any of these grades")] = None,
        topic: Annotated[list[TopicName] | None, Query(description="any of these topics")] = None,
        since: Annotated[dt.datetime | None, Query(description="opened at or after (with time zone)",
                                                   examples=["2026-03-01T00:00:00+08:00"])] = None,
        until: Annotated[dt.datetime | None, Query(description="opened before (with time zone)")] = None,
        overdue: Annotated[bool | None, Query(description="true: only overdue; false: only not overdue")] = None,
) -> IncidentQuery:
    """The incident filters of a request: the list and its export (routes.exports) take the same
    parameters, parsed and scoped here once (a unit user asking for another unit is 403; a department
    user is held to the incidents copied to it). ``async``: it computes, and as a plain ``def`` it
    cost the list a hop to the thread pool and back per request."""
    filters = IncidentFilters(unit_code=scoped_unit(user, unit_code), states=state or (), grades=grade or (),
                              topics=topic or (), since=aware_time(since, "since"), until=aware_time(until, "until"),
                              copied_to=user.department_scope)
    return IncidentQuery(filters, overdue, user)


IncidentQueryDep = Annotated[IncidentQuery, Depends(incident_query)]


@router.get("", response_model=list[IncidentPublic], responses=ERRORS)
def list_incidents(
        store: StoreDep, query: IncidentQueryDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """Incidents, newest first, filtered; the total matching is in the ``X-Total-Count`` header.

    A unit user sees only its own unit's incidents (asking for another unit is 403); a department
    user only those copied to its department and not withdrawn."""
    now = utcnow()
    with confirmed_snapshot(store, query.user) as view:
        total, items = select_incidents(view, query.filters, query.overdue, now, limit, offset, listed=True)
    return incidents_response(items, now, headers={"X-Total-Count": str(total)})


def _own(user: Principal, detail: dict[str, object]) -> bool:
    """An audit entry's detail is one a department user may read: another department's copy is not."""
    return user.department_scope is None or detail.get("department_code") == user.department_scope


@router.get("/{incident_id}", response_model=IncidentDetailPublic, responses=ERRORS)
def get_incident(incident_id: IncidentId, user: ClaimedSharedReaderDep, store: StoreDep,
                 jurisdiction: JurisdictionDep) -> Response:
    """One incident with its posts (analyses and evidence spans), a timeline, the audit log and its
    copies to departments.

    Another unit's incident is 404 for a unit user, and one not copied to it (or withdrawn) for a
    department user: its existence does not leak. A department user sees its own copy, not the
    copies to other departments nor their answers."""
    with confirmed_snapshot(store, user) as view:
        incident = view.listed_incident(incident_id)
        if incident is None or (user.unit_scope is not None and incident.unit_code != user.unit_scope):
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
        copies = view.copies_of(incident_id)
        if user.department_scope is not None and not any(  # its own copy, not withdrawn
                c.department_code == user.department_scope and c.active for c in copies):
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
        post_rows = view.incident_post_rows(incident_id, remembered=True)
        audit = [e for e in view.audit_for(incident_id) if e.action not in COPY_ACTION_LABELS or _own(user, e.detail)]
    shown = [CopyPublic.of(c, jurisdiction).model_dump() for c in copies
             if _own(user, {"department_code": c.department_code})]
    return json_response({**incident_detail_fields(incident, post_rows, audit, utcnow()), "copies": shown})


@copies_router.get("", response_model=list[CopyPublic], responses=ERRORS)
def list_copies(user: Annotated[Principal, Depends(require_roles("duty", "department", "leader"))],
                store: StoreDep, jurisdiction: JurisdictionDep,
                withdrawn: Annotated[bool, Query(description="withdrawn copies too (duty desk, leaders)")] = False,
                ) -> list[CopyPublic]:
    """The copies to departments (会办), newest first, each with its incident: a department user's
    inbox (its own copies, never withdrawn ones), or every department's for the duty desk and leaders."""
    now = utcnow()
    with store.read() as tx:
        found = tx.list_copies(user.department_scope, active_only=user.department_scope is not None or not withdrawn)
        incidents = {c.incident_id: tx.get_incident(c.incident_id) for c in found}
    return [CopyPublic.of(c, jurisdiction, IncidentPublic.of(i, now)) for c in found
            if (i := incidents[c.incident_id]) is not None]
