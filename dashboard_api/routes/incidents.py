"""Incidents: filtered list (newest first) and detail with posts, evidence, timeline, audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from alerts.incident_list import select_incidents
from core.models import STEP_LABELS
from core.timeutil import utcnow
from dashboard_api.deps import IncidentId, ReaderDep, StoreDep, aware_time, scoped_unit
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import AuditPublic, IncidentDetailPublic, IncidentPublic, PostPublic, TimelineItem
from storage.incident_queries import IncidentFilters

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

StateName = Literal["new", "assigned", "signed", "responded", "resolved", "closed", "returned"]
GradeName = Literal["blue", "yellow", "orange", "red"]
TopicName = Literal["water", "air", "noise", "waste", "soil", "ecology", "other"]


@dataclass(slots=True)
class IncidentQuery:
    """The list's filters as the request gave them, the unit already held to the user's scope."""

    filters: IncidentFilters
    overdue: bool | None


def incident_query(
        user: ReaderDep,
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
    parameters, parsed and scoped here once (a unit user asking for another unit is 403)."""
    filters = IncidentFilters(unit_code=scoped_unit(user, unit_code), states=state or (), grades=grade or (),
                              topics=topic or (), since=aware_time(since, "since"), until=aware_time(until, "until"))
    return IncidentQuery(filters, overdue)


IncidentQueryDep = Annotated[IncidentQuery, Depends(incident_query)]


@router.get("", response_model=list[IncidentPublic], responses=ERRORS)
def list_incidents(
        user: ReaderDep, store: StoreDep, response: Response, query: IncidentQueryDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[IncidentPublic]:
    """Incidents, newest first, filtered; the total matching is in the ``X-Total-Count`` header.

    A unit user sees only its own unit's incidents (asking for another unit is 403)."""
    now = utcnow()
    with store.read() as tx:
        total, items = select_incidents(tx, query.filters, query.overdue, now, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return [IncidentPublic.of(i, now) for i in items]


@router.get("/{incident_id}", response_model=IncidentDetailPublic, responses=ERRORS)
def get_incident(incident_id: IncidentId, user: ReaderDep, store: StoreDep) -> IncidentDetailPublic:
    """One incident with its posts (analyses and evidence spans), a timeline and the audit log.

    Another unit's incident is 404 for a unit user: its existence does not leak."""
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
        if incident is None or (user.unit_scope is not None and incident.unit_code != user.unit_scope):
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
        posts = [PostPublic.of(p, a, role) for p, a, role in tx.incident_post_rows(incident_id)]
        audit = [AuditPublic(at=e.at, actor=e.actor, action=e.action, from_state=e.from_state,
                             to_state=e.to_state, detail=e.detail) for e in tx.audit_for(incident_id)]
    timeline = [TimelineItem(at=p.published_at or p.fetched_at or incident.opened_at,
                             kind="post" if p.role == "report" else "response",
                             text=f"{p.role_label} · {p.source}：{p.title or p.text[:40]}") for p in posts]
    timeline += [TimelineItem(at=a.at, kind="action", text=f"{a.actor} {a.action}"
                              + (f" {a.from_state}→{a.to_state}" if a.from_state != a.to_state else ""))
                 for a in audit]
    timeline += [TimelineItem(at=due, kind="deadline", text=f"{STEP_LABELS.get(step, step)}时限")
                 for step, due in incident.deadlines.items()]
    timeline.sort(key=lambda t: t.at)
    now = utcnow()
    return IncidentDetailPublic(**IncidentPublic.of(incident, now).model_dump(), posts=posts, audit=audit,
                                timeline=timeline)
