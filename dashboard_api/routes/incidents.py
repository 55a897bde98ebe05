"""Incidents: list (newest first) and detail with posts and audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from dashboard_api.deps import StoreDep
from dashboard_api.schemas import AuditPublic, IncidentDetailPublic, IncidentPublic, PostPublic

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.get("", response_model=list[IncidentPublic])
def list_incidents(store: StoreDep,
                   unit_code: Annotated[str | None, Query(max_length=20)] = None,
                   state: Annotated[list[str] | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> list[IncidentPublic]:
    """Incidents, newest first; filter by unit code and state."""
    with store.read() as tx:
        return [IncidentPublic.of(i) for i in tx.list_incidents(unit_code=unit_code, states=state,
                                                                 limit=limit, offset=offset)]


@router.get("/{incident_id}", response_model=IncidentDetailPublic)
def get_incident(incident_id: int, store: StoreDep) -> IncidentDetailPublic:
    """One incident with its posts (and their analyses) and its audit log."""
    with store.read() as tx:
        incident = tx.get_incident(incident_id)
        if incident is None:
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
        posts = [PostPublic.of(p, a) for p, a in tx.incident_post_rows(incident_id)]
        audit = [AuditPublic(at=e.at, actor=e.actor, action=e.action, from_state=e.from_state,
                             to_state=e.to_state, detail=e.detail) for e in tx.audit_for(incident_id)]
    return IncidentDetailPublic(**IncidentPublic.of(incident).model_dump(), posts=posts, audit=audit)
