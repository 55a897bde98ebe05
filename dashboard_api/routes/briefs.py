"""信息简报: units submit them (title, text, attachments); the month's tally against the quota, who is
behind, its export (CSV) and monthly summary (DOCX/HTML).

A unit user submits and sees only its own unit's briefs and row, a department user (会办 login)
its own department's; the duty desk may enter a brief for any submitter (a department's, received
by email); leaders and admins read everything. Mails the email import could not place (the triage
list) are read by the duty desk, leaders and admins, and assigned or dismissed by the duty desk.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from alerts.acting import roles_for
from briefing.briefs_service import month_tally, render_tally, submit_brief
from briefing.mail_import import assign_mail, dismiss_mail
from briefing.quota import QuotaError, month_bounds, month_of
from briefing.service import MEDIA_TYPES
from core.sharing import MailState
from core.timeutil import utcnow
from dashboard_api.deps import (
    MAX_ID,
    DutyDep,
    JurisdictionDep,
    OverviewDep,
    Principal,
    PrincipalDep,
    StoreDep,
)
from dashboard_api.errors import ERRORS, refusals
from storage.briefs import StoredBrief
from storage.sql import SqlStore

router = APIRouter(tags=["briefs"])
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$",
                                    description="YYYY-MM (Beijing time); default: this month")]


# A media type as RFC 6838 spells one (type/subtype, no parameters): it goes back out in a header,
# which takes Latin-1 only.
MIME = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"
DOWNLOAD = "application/octet-stream"


class AttachmentBody(BaseModel):
    """A file sent along, base64-encoded."""

    name: str = Field(min_length=1, max_length=200)
    mime: str = Field(default=DOWNLOAD, max_length=100, pattern=MIME, examples=["image/png"])
    content_base64: str = Field(max_length=7_000_000)


class BriefBody(BaseModel):
    """A 信息简报."""

    submitter: str | None = Field(default=None, max_length=100,
                                  description="unit/department code or name (duty desk only; a unit submits its own)")
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=100_000)
    attachments: list[AttachmentBody] = Field(default_factory=list, max_length=5)


class BriefPublic(BaseModel):
    """A submitted brief."""

    id: int
    submitter: str
    submitter_name: str
    title: str
    text: str
    submitted_at: dt.datetime
    submitted_by: str
    files: list[dict[str, object]]


class TallyRowPublic(BaseModel):
    """One submitter's month."""

    submitter: str
    name: str
    kind: str
    kind_label: str
    quota: int
    submitted: int
    behind: int


def _month(month: str | None) -> str:
    chosen = month or month_of(utcnow())
    try:
        month_bounds(chosen)
    except QuotaError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return chosen


def _who(user: Principal, submitter: str | None) -> str:
    own = user.submitter_scope
    if own is not None:
        if submitter not in (None, own):
            raise HTTPException(status_code=403, detail=f"a {user.role} user submits only its own 信息简报")
        return own
    if user.role not in roles_for("brief"):
        raise HTTPException(status_code=403, detail=f"role {user.role!r} may not submit 信息简报")
    if not submitter:
        raise HTTPException(status_code=422, detail="submitter: which unit or department the brief is from")
    return submitter


@router.post("/api/briefs", response_model=BriefPublic, status_code=201, responses=ERRORS)
def post_brief(body: BriefBody, user: PrincipalDep, store: StoreDep, jurisdiction: JurisdictionDep) -> BriefPublic:
    """Submit a 信息简报 (unit, department: its own; duty: for any submitter)."""
    who = _who(user, body.submitter)
    try:
        files = [(a.name, a.mime, base64.b64decode(a.content_base64, validate=True)) for a in body.attachments]
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(status_code=422, detail="attachments: content_base64 is not base64") from exc
    return _written(store, lambda: submit_brief(store, jurisdiction, who, body.title, body.text, user.name, files,
                                                utcnow(), version=user.token_version))


def _written(store: SqlStore, write: Callable[[], int]) -> BriefPublic:
    """Run a write that keeps a brief (refusals as 403/404/409, a bad value as 422) and answer the
    brief as kept."""
    try:
        with refusals():
            brief_id = write()
    except QuotaError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    with store.read() as tx:
        found = tx.get_brief(brief_id)
    assert found is not None  # just written
    return _public(found)


def _public(b: StoredBrief) -> BriefPublic:
    return BriefPublic(id=b.id, submitter=b.submitter, submitter_name=b.submitter_name, title=b.title, text=b.text,
                       submitted_at=b.submitted_at, submitted_by=b.submitted_by,
                       files=[{"id": i, "name": n, "size": s, "url": f"/api/briefs/files/{i}"} for i, n, s in b.files])


@router.get("/api/briefs", response_model=list[BriefPublic], responses=ERRORS)
def list_briefs(user: PrincipalDep, store: StoreDep, month: Month = None) -> list[BriefPublic]:
    """The month's briefs, newest first (a unit or department user: its own)."""
    start, end = month_bounds(_month(month))
    with store.read() as tx:
        return [_public(b) for b in tx.list_briefs(start, end, user.submitter_scope)]


@router.get("/api/briefs/tally", response_model=list[TallyRowPublic], responses=ERRORS)
def get_tally(user: PrincipalDep, store: StoreDep, jurisdiction: JurisdictionDep,
              month: Month = None) -> list[TallyRowPublic]:
    """Every submitter's count against its quota, a submitter with none included (a unit or
    department user: its row)."""
    rows = month_tally(store, jurisdiction, _month(month))
    return [TallyRowPublic(submitter=r.submitter.code, name=r.submitter.name, kind=r.submitter.kind.value,
                           kind_label=r.submitter.kind.label, quota=r.submitter.quota, submitted=r.submitted,
                           behind=r.behind)
            for r in rows if user.submitter_scope in (None, r.submitter.code)]


@router.get("/api/briefs/tally/export", responses=ERRORS)
def export_tally(user: OverviewDep, store: StoreDep, jurisdiction: JurisdictionDep, month: Month = None,
                 fmt: Annotated[Literal["csv", "docx", "html"], Query(alias="format")] = "csv") -> Response:
    """The tally as CSV for the district's assessment, or the monthly summary as DOCX/HTML."""
    chosen = _month(month)
    data = render_tally(jurisdiction, chosen, month_tally(store, jurisdiction, chosen), fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else MEDIA_TYPES[fmt]
    return Response(content=data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="briefs-{chosen}.{fmt}"'})


@router.get("/api/briefs/files/{file_id}", responses=ERRORS)
def get_file(file_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: PrincipalDep, store: StoreDep) -> Response:
    """An attachment, as a download (a unit or department user: only its own)."""
    with store.read() as tx:
        found = tx.brief_file(file_id)
    if found is None or user.submitter_scope not in (None, found[3]):
        raise HTTPException(status_code=404, detail=f"附件 #{file_id} 不存在")
    name, mime, data, _ = found
    served = mime if re.fullmatch(MIME, mime) else DOWNLOAD  # one kept before the body checked it
    return Response(content=data, media_type=served, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''" + quote(name),
        "X-Content-Type-Options": "nosniff"})


class MailPublic(BaseModel):
    """A mail read by the email import: what became of it, and why it waits when in triage."""

    id: int
    origin: str
    sender: str
    sender_name: str
    subject: str
    sent_at: dt.datetime | None
    received_at: dt.datetime
    state: str
    state_label: str
    reason: str | None
    brief_id: int | None
    decided_at: dt.datetime | None
    decided_by: str | None


class AssignBody(BaseModel):
    """Whose brief a mail in triage is."""

    submitter: str = Field(min_length=1, max_length=100, description="unit/department code or name")
    remember: bool = Field(default=False, description="the sender's address is this submitter's from now on")


@router.get("/api/briefs/mail-triage", response_model=list[MailPublic], responses=ERRORS)
def mail_triage(user: OverviewDep, store: StoreDep, response: Response,
                all_: Annotated[bool, Query(alias="all", description="every imported mail, not only triage")] = False,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[MailPublic]:
    """Mails from the email import waiting for the duty officer (unknown sender, no unit, two
    units), oldest first; ``all=true``: every mail read, whatever became of it. Paged like the
    incident list (``limit``, ``offset``); the total is in the ``X-Total-Count`` header."""
    states = tuple(s.value for s in MailState) if all_ else (MailState.TRIAGE.value,)
    with store.read() as tx:
        mails = tx.list_mails(states, limit, offset)
        response.headers["X-Total-Count"] = str(tx.count_mails(states))
    return [MailPublic(**{f: getattr(m, f) for f in MailPublic.model_fields if f != "state_label"},
                       state_label=MailState(m.state).label) for m in mails]


@router.post("/api/briefs/mail-triage/{mail_id}/assign", response_model=BriefPublic, responses=ERRORS)
def assign_triage(mail_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: AssignBody, user: DutyDep, store: StoreDep,
                  jurisdiction: JurisdictionDep) -> BriefPublic:
    """Make a mail in triage the brief of a submitter (409 when someone decided it already)."""
    return _written(store, lambda: assign_mail(store, jurisdiction, mail_id, body.submitter, user.name, utcnow(),
                                               remember=body.remember, version=user.token_version))


@router.post("/api/briefs/mail-triage/{mail_id}/dismiss", status_code=204, responses=ERRORS)
def dismiss_triage(mail_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: DutyDep, store: StoreDep) -> Response:
    """Take a mail out of triage as no brief (kept, with who decided)."""
    with refusals():
        dismiss_mail(store, mail_id, user.name, utcnow(), version=user.token_version)
    return Response(status_code=204)
