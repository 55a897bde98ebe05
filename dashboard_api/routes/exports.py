"""Exports: the incident list and a search's posts as CSV (UTF-8 with a BOM) or XLSX, with the
console's current filters.

Each export takes exactly the parameters of the list it exports (``/api/incidents``,
``/api/search``), parsed and scoped by the same dependencies, so a unit user exports only its own
unit and a file never holds a row its list would not show. Columns, keys and formats:
docs/exports.md. An export holds at most ``ECOWATCH_EXPORT_MAX_ROWS`` rows; more matching is
refused (422, saying how many matched) rather than cut silently.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response

from alerts.incident_list import select_incidents
from briefing.exports import (
    EXPORT_SCHEMA,
    MEDIA_TYPES,
    ExportFormat,
    file_name,
    incident_row,
    post_row,
    render,
    too_many,
)
from core.settings import load_settings
from core.timeutil import utcnow
from dashboard_api.deps import StoreDep, confirmed_read
from dashboard_api.errors import ERRORS
from dashboard_api.routes.incidents import IncidentQueryDep
from dashboard_api.routes.search import UNAVAILABLE, SearchQueryDep, run_search

router = APIRouter(prefix="/api/exports", tags=["exports"])
Format = Annotated[Literal["csv", "xlsx"], Path(description="csv (UTF-8 with BOM) or xlsx")]
FILE: dict[int | str, dict[str, Any]] = {200: {"description": "the file (Content-Disposition: attachment)",
                                               "content": {t: {} for t in MEDIA_TYPES.values()}}}


def _cap(request: Request) -> int:
    return getattr(request.app.state, "export_max_rows", None) or load_settings().export_max_rows


def _file(kind: Literal["incidents", "posts"], fmt: ExportFormat, body: bytes, total: int) -> Response:
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{file_name(kind, fmt, utcnow())}"',
        "X-Total-Count": str(total), "X-Ecowatch-Schema": EXPORT_SCHEMA, "Cache-Control": "no-store"})


@router.get("/incidents.{fmt}", response_class=Response, responses=ERRORS | FILE)
def export_incidents(request: Request, store: StoreDep, query: IncidentQueryDep, fmt: Format) -> Response:
    """The incidents ``GET /api/incidents`` lists with the same parameters (all of them, not one
    page), newest first. A unit user: its own unit's only."""
    cap, now = _cap(request), utcnow()
    with confirmed_read(store, query.user) as tx:
        total, items = select_incidents(tx, query.filters, query.overdue, now, cap + 1)
    if total > cap:
        raise HTTPException(422, too_many(total, cap, "incidents"))
    return _file("incidents", fmt, render("incidents", fmt, (incident_row(i, now) for i in items)), total)


@router.get("/posts.{fmt}", response_class=Response, responses=ERRORS | UNAVAILABLE | FILE)
async def export_posts(request: Request, store: StoreDep, query: SearchQueryDep, fmt: Format) -> Response:
    """The posts ``GET /api/search`` finds with the same parameters (every match, not one page),
    in its order, with their whole text. A unit user: posts placed in its own unit only."""
    cap = _cap(request)
    found = await run_search(request, store, query, cap, 0)
    if found.result.total > cap:
        raise HTTPException(422, too_many(found.result.total, cap, "posts"))
    rows = [post_row(h) for h in found.result.hits]
    body = await asyncio.to_thread(render, "posts", fmt, rows)  # a big XLSX is seconds of work: off the loop
    return _file("posts", fmt, body, found.result.total)
