"""Briefings: the kept weekly briefings and daily duty reports, and any period on demand.

The role check (duty, leader, admin: briefings cover every unit) is a dependency of the whole
router, added where it is mounted (``dashboard_api.app.create_app``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from briefing.period import PeriodError
from briefing.service import MEDIA_TYPES, build_briefing, file_name, list_kept, period_for, render
from core.settings import load_settings
from dashboard_api.deps import ExpectedHoursDep, JurisdictionDep, StoreDep

router = APIRouter(tags=["briefings"])


def get_briefings_dir(request: Request) -> Path:
    """Where the scheduler keeps briefings: app.state.briefings_dir, else data_dir/briefings."""
    configured = getattr(request.app.state, "briefings_dir", None)
    return Path(configured) if configured else load_settings().briefings_dir


BriefingsDirDep = Annotated[Path, Depends(get_briefings_dir)]


class BriefingFilePublic(BaseModel):
    """A kept briefing file."""

    kind: str  # weekly | daily
    key: str  # 2026-W48 | 2026-11-29
    format: str
    size: int
    modified_at: str
    url: str


@router.get("/api/briefings", response_model=list[BriefingFilePublic])
def list_briefings(directory: BriefingsDirDep) -> list[BriefingFilePublic]:
    """Kept briefings, newest first."""
    return [BriefingFilePublic(kind=k.kind, key=k.key, format=k.format, size=k.size,
                               modified_at=k.modified_at.isoformat(), url=f"/api/briefings/{k.key}?format={k.format}")
            for k in list_kept(directory)]


@router.get("/api/briefings/{key}")
def get_briefing(key: str, store: StoreDep, jurisdiction: JurisdictionDep, expected: ExpectedHoursDep,
                 directory: BriefingsDirDep,
                 fmt: Annotated[Literal["docx", "html"], Query(alias="format")] = "docx") -> Response:
    """The briefing of a week (``2026-W48``) or a daily report (``2026-11-29``): the kept file when
    there is one (what was sent round), else computed now from the store."""
    try:
        period = period_for(key)
    except PeriodError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    name = file_name(period, fmt)
    kept = directory / name
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if fmt == "docx" else {}
    if kept.is_file():
        return FileResponse(kept, media_type=MEDIA_TYPES[fmt], headers=headers)
    data = render(build_briefing(store, jurisdiction, period, expected_hours=expected), fmt)
    return Response(content=data, media_type=MEDIA_TYPES[fmt], headers=headers)
