"""Special reports (舆情专报): write the next version of an incident's report, list its versions with
their sendings, read a kept document, or preview one without keeping it.

Reports cover what goes up to the city bureau and 网信办: the duty desk writes them, leaders and
admins read them; unit users do not (their own view is the incident page).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from alerts.acting import roles_for
from alerts.reporting import mark_sent, request_sending, retry
from briefing.report_service import build_special_report, keep_special_report
from briefing.service import MEDIA_TYPES
from briefing.special_report import SpecialReport, SpecialReportError, render
from core.errors import NotFoundError
from core.sharing import (
    REPORT_KIND_LABELS,
    SEND_CHANNEL_LABELS,
    SEND_STATE_LABELS,
    UPPER_LABELS,
    ReportKind,
    SendChannel,
    SendState,
)
from core.timeutil import utcnow
from dashboard_api.deps import (
    MAX_ID,
    AlertsDep,
    IncidentId,
    JurisdictionDep,
    OverviewDep,
    Principal,
    StoreDep,
    require_roles,
)
from dashboard_api.errors import ACTION_ERRORS, ERRORS, refusals
from storage.reports import Sending, StoredReport
from storage.sql import SqlStore

router = APIRouter(tags=["reports"])
ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="special report (version) id")]
Format = Annotated[Literal["docx", "html"], Query(alias="format")]
# The gates in front; each write checks the user again where it writes (alerts.acting).
WriterDep = Annotated[Principal, Depends(require_roles(*roles_for("report")))]
SenderDep = Annotated[Principal, Depends(require_roles(*roles_for("send")))]


class SendingPublic(BaseModel):
    """One sending of a report version (or an item's feedback) to one recipient."""

    id: int
    recipient: str
    recipient_label: str
    channel: str
    channel_label: str
    address: str | None
    status: str
    status_label: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    created_by: str
    sent_at: dt.datetime | None
    sent_by: str | None
    note: str | None

    @classmethod
    def of(cls, s: Sending) -> SendingPublic:
        """From the stored sending, with the Chinese labels."""
        return cls(id=s.id, recipient=s.recipient, recipient_label=UPPER_LABELS.get(s.recipient, s.recipient),
                   channel=s.channel, channel_label=SEND_CHANNEL_LABELS.get(s.channel, s.channel),
                   address=s.address, status=s.status, status_label=SEND_STATE_LABELS.get(s.status, s.status),
                   attempts=s.attempts, next_attempt_at=s.next_attempt_at, last_error=s.last_error,
                   created_at=s.created_at, created_by=s.created_by, sent_at=s.sent_at, sent_by=s.sent_by,
                   note=s.note)


class ReportPublic(BaseModel):
    """A kept version of a special report, and whether (and when) it went up."""

    id: int
    incident_id: int
    kind: str
    kind_label: str
    seq: int
    title: str
    created_at: dt.datetime
    created_by: str
    figures: dict[str, object]
    sent: bool  # at least one sending of it is sent
    sendings: list[SendingPublic] = Field(default_factory=list)
    urls: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, r: StoredReport, sendings: list[Sending]) -> ReportPublic:
        """From the stored version and its sendings."""
        mine = [SendingPublic.of(s) for s in sendings if s.report_id == r.id]
        return cls(id=r.id, incident_id=r.incident_id, kind=r.kind, kind_label=REPORT_KIND_LABELS.get(r.kind, r.kind),
                   seq=r.seq, title=r.title, created_at=r.created_at, created_by=r.created_by, figures=r.figures,
                   sent=any(s.status == "sent" for s in mine), sendings=mine,
                   urls={f: f"/api/reports/{r.id}?format={f}" for f in ("docx", "html")})


class SendBody(BaseModel):
    """To whom and how a kept version goes up."""

    recipient: str = Field(min_length=1, max_length=100, examples=["city_bureau"],
                           description="city_bureau | cac | leaders, or another body's name")
    channel: SendChannel = Field(examples=["email"])
    address: str | None = Field(default=None, max_length=2000, description="email address or webhook URL")
    note: str | None = Field(default=None, max_length=2000)


class NewReportBody(BaseModel):
    """Which version to write: 首报 first, then 续报 by default; 终报 when asked."""

    kind: ReportKind | None = None


def reports_of(store: SqlStore, incident_id: int) -> list[ReportPublic]:
    """The incident's kept versions with their sendings, oldest first."""
    with store.read() as tx:
        kept = tx.special_reports_of(incident_id)
        sendings = tx.sendings(report_ids=[k.id for k in kept])
    return [ReportPublic.of(k, sendings) for k in kept]


def _built(store: SqlStore, jurisdiction: JurisdictionDep, incident_id: int,
           kind: ReportKind | None) -> SpecialReport:
    try:
        return build_special_report(store, jurisdiction, incident_id, kind, utcnow())
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except SpecialReportError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


@router.get("/api/incidents/{incident_id}/reports", response_model=list[ReportPublic], responses=ERRORS)
def list_reports(incident_id: IncidentId, user: OverviewDep, store: StoreDep) -> list[ReportPublic]:
    """The incident's special reports (首报/续报/终报), each with its sendings and send times."""
    return reports_of(store, incident_id)


@router.post("/api/incidents/{incident_id}/reports", response_model=ReportPublic, status_code=201,
             responses=ACTION_ERRORS)
def write_report(incident_id: IncidentId, user: WriterDep, store: StoreDep, jurisdiction: JurisdictionDep,
                 body: Annotated[NewReportBody | None, Body()] = None) -> ReportPublic:
    """Write and keep the next version from the stored records (409: below 较大, merged, 首报 twice,
    after the 终报, or its number taken by another officer a moment ago)."""
    built = _built(store, jurisdiction, incident_id, body.kind if body else None)
    try:
        with refusals():
            kept = keep_special_report(store, built, user.name, version=user.token_version)
    except SpecialReportError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return ReportPublic.of(kept, [])


@router.get("/api/incidents/{incident_id}/reports/preview", responses=ACTION_ERRORS)
def preview_report(incident_id: IncidentId, user: OverviewDep, store: StoreDep, jurisdiction: JurisdictionDep,
                   fmt: Format = "html", kind: ReportKind | None = None) -> Response:
    """The next version as it would be written now, not kept."""
    data = render(_built(store, jurisdiction, incident_id, kind), fmt)
    return Response(content=data, media_type=MEDIA_TYPES[fmt])


@router.get("/api/reports/{report_id}", responses=ERRORS)
def get_report(report_id: ReportId, user: OverviewDep, store: StoreDep, fmt: Format = "docx") -> Response:
    """A kept version's document, exactly as written (and sent)."""
    with store.read() as tx:
        kept = tx.special_report(report_id)
        data = tx.special_report_document(report_id, fmt) if kept else None
    if kept is None or data is None:
        raise HTTPException(status_code=404, detail=f"专报 #{report_id} 不存在")
    name = f"report-{kept.incident_id}-{kept.seq}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if fmt == "docx" else {}
    return Response(content=data, media_type=MEDIA_TYPES[fmt], headers=headers)


SendingId = Annotated[int, Path(ge=1, le=MAX_ID, description="sending id")]


@router.post("/api/reports/{report_id}/sendings", response_model=SendingPublic, status_code=201,
             responses=ACTION_ERRORS)
def send_report(report_id: ReportId, body: SendBody, user: SenderDep, store: StoreDep,
                config: AlertsDep) -> SendingPublic:
    """报送 a kept version: email (DOCX attached) and webhook are queued and sent by the job (retried;
    failures stay visible); ``manual`` records one sent another way, now, by this user."""
    with refusals(422):
        sending = request_sending(store, config, report_id, body.recipient, body.channel.value, body.address,
                                  user.name, body.note, utcnow(), version=user.token_version)
    return SendingPublic.of(sending)


@router.post("/api/sendings/{sending_id}/sent", response_model=SendingPublic, responses=ACTION_ERRORS)
def mark_sending_sent(sending_id: SendingId, user: SenderDep, store: StoreDep, config: AlertsDep) -> SendingPublic:
    """Record a pending or failed sending as delivered another way (409 when it was sent already)."""
    with refusals():
        mark_sent(store, config, sending_id, user.name, utcnow(), version=user.token_version)
    with store.read() as tx:
        found = tx.get_sending(sending_id)
    assert found is not None  # it was just marked
    return SendingPublic.of(found)


@router.post("/api/sendings/{sending_id}/retry", response_model=SendingPublic, responses=ACTION_ERRORS)
def retry_sending(sending_id: SendingId, user: SenderDep, store: StoreDep) -> SendingPublic:
    """Queue a failed sending again (409 unless it had failed)."""
    with refusals():
        return SendingPublic.of(retry(store, sending_id, user.name, utcnow(), version=user.token_version))


@router.get("/api/sendings", response_model=list[SendingPublic], responses=ERRORS)
def list_sendings(user: OverviewDep, store: StoreDep, status: SendState | None = None) -> list[SendingPublic]:
    """Every sending, or those of one state (``failed``: what did not get through)."""
    with store.read() as tx:
        return [SendingPublic.of(s) for s in tx.sendings(status=status.value if status else None)]
