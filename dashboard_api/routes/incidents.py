"""Incidents: filtered list (newest first) and detail with posts, evidence, timeline, audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, HTTPException, Query, Response

from alerts.escalation import overdue_step_names
from core.models import State
from core.timeutil import utcnow
from dashboard_api.deps import IncidentId, ReaderDep, StoreDep, aware_time, scoped_unit
from dashboard_api.errors import ERRORS
from dashboard_api.json_out import json_response
from dashboard_api.schemas import IncidentDetailPublic, IncidentPublic, incident_detail_fields, incident_fields
from storage.incident_queries import IncidentFilters

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

StateName = Literal["new", "assigned", "signed", "responded", "resolved", "closed", "returned"]
GradeName = Literal["blue", "yellow", "orange", "red"]
TopicName = Literal["water", "air", "noise", "waste", "soil", "ecology", "other"]


_aware = aware_time


@router.get("", response_model=list[IncidentPublic], responses=ERRORS)
def list_incidents(
        user: ReaderDep, store: StoreDep,
        unit_code: Annotated[str | None, Query(max_length=20, description="only this unit (a unit user: its own)",
                                               examples=["500105003000"])] = None,
        state: Annotated[list[StateName] | None, Query(description="any of these states; repeat the parameter")] = None,
        grade: Annotated[list[GradeName] | None, Query(description="any of these grades")] = None,
        topic: Annotated[list[TopicName] | None, Query(description="any of these topics")] = None,
        since: Annotated[dt.datetime | None, Query(description="opened at or after (with time zone)",
                                                   examples=["2026-03-01T00:00:00+08:00"])] = None,
        until: Annotated[dt.datetime | None, Query(description="opened before (with time zone)")] = None,
        overdue: Annotated[bool | None, Query(description="true: only overdue; false: only not overdue")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """Incidents, newest first, filtered; the total matching is in the ``X-Total-Count`` header.

    A unit user sees only its own unit's incidents (asking for another unit is 403)."""
    filters = IncidentFilters(unit_code=scoped_unit(user, unit_code), states=state or (), grades=grade or (),
                              topics=topic or (), since=_aware(since, "since"), until=_aware(until, "until"))
    now = utcnow()
    with store.read() as tx:
        if overdue is None:
            items = tx.listed_incidents(filters, limit, offset)
            total = tx.count_incidents(filters)
        else:
            # Overdue depends on the clock and the state together: filter in Python over the candidates.
            if overdue:
                open_states = [s for s in (filters.states or get_args(StateName)) if s != State.CLOSED]
                filters.states = open_states or ["-"]
            every = [i for i in tx.listed_incidents(filters, None) if bool(overdue_step_names(i, now)) == overdue]
            total, items = len(every), every[offset:offset + limit]
    return json_response([incident_fields(i, now) for i in items], headers={"X-Total-Count": str(total)})


@router.get("/{incident_id}", response_model=IncidentDetailPublic, responses=ERRORS)
def get_incident(incident_id: IncidentId, user: ReaderDep, store: StoreDep) -> Response:
    """One incident with its posts (analyses and evidence spans), a timeline and the audit log.

    Another unit's incident is 404 for a unit user: its existence does not leak."""
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
        if incident is None or (user.unit_scope is not None and incident.unit_code != user.unit_scope):
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
        post_rows, audit = tx.incident_post_rows(incident_id), tx.audit_for(incident_id)
    return json_response(incident_detail_fields(incident, post_rows, audit, utcnow()))
