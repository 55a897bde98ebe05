"""上级交办: items handed down by the city bureau or 网信办, entered by the duty desk in the console or
pushed by the city platform with its key; their list with the incident's progress and feedback.

The platform's endpoint takes ``Authorization: Bearer <ECOWATCH_INBOUND_TOKEN>`` (no console user:
the key can do this one thing only); it refuses everything (401) while no key is configured.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from alerts.acting import roles_for
from alerts.config import AlertsConfig
from alerts.escalation import overdue_step_names
from alerts.inbound import InboundError, parse_request, receive
from alerts.reporting import FeedbackNotReady, request_sending
from core.actors import CITY_PLATFORM
from core.models import Step
from core.settings import load_settings
from core.sharing import UPPER_LABELS, SendChannel
from core.timeutil import utcnow
from dashboard_api.deps import MAX_ID, AlertsDep, OverviewDep, Principal, StoreDep, require_roles
from dashboard_api.errors import ACTION_ERRORS, ERRORS, refusals
from dashboard_api.routes.reports import SenderDep, SendingPublic
from storage.sql import SqlStore

router = APIRouter(tags=["inbound"])
InboundId = Annotated[int, Path(ge=1, le=MAX_ID, description="item handed down (id)")]
# The gate in front; receive() checks the user again where it writes (alerts.acting).
EntryDep = Annotated[Principal, Depends(require_roles(*roles_for("inbound")))]


class InboundBody(BaseModel):
    """An item handed down (the fields of ``ecowatch inbound``)."""

    origin: str = Field(max_length=50, examples=["city_bureau"], description="city_bureau | cac (or 市生态环境局 …)")
    reference: str = Field(max_length=200, examples=["渝环舆〔2026〕118号"])
    title: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=20000)
    link: str | None = Field(default=None, max_length=2000)
    deadline: str = Field(max_length=50, examples=["2026-12-05T18:00:00+08:00"])
    unit: str | None = Field(default=None, max_length=100, description="the unit's name or code")
    topic: str | None = Field(default=None, max_length=20)
    grade: str | None = Field(default=None, max_length=10)
    reply_channel: str | None = Field(default=None, max_length=10, description="email | webhook: where feedback goes")
    reply_address: str | None = Field(default=None, max_length=2000)


class ReceivedPublic(BaseModel):
    """What became of the item."""

    incident_id: int
    inbound_id: int
    duplicate: bool
    triage: bool
    late: bool


class InboundPublic(BaseModel):
    """An item handed down, with its incident's progress and its feedback."""

    id: int
    origin: str
    origin_label: str
    reference: str
    title: str
    link: str | None
    deadline: dt.datetime
    unit_given: str | None
    incident_id: int
    state: str | None
    unit: str | None
    late_on_arrival: bool
    overdue: bool  # their deadline passed and the feedback has not gone back
    feedback: str | None
    feedback_at: dt.datetime | None
    sendings: list[SendingPublic] = Field(default_factory=list)


class FeedbackSendBody(BaseModel):
    """How the feedback goes back."""

    channel: SendChannel
    address: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)


def _take(store: SqlStore, config: AlertsConfig, body: InboundBody, by: str, response: Response,
          version: int | None = None) -> ReceivedPublic:
    try:
        with refusals():
            got = receive(store, config, parse_request(body.model_dump()), by, utcnow(), version=version)
    except InboundError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    response.status_code = 200 if got.duplicate else 201
    return ReceivedPublic(incident_id=got.incident_id, inbound_id=got.inbound_id, duplicate=got.duplicate,
                          triage=got.triage, late=got.late)


def platform_key(request: Request) -> None:
    """The city platform's key, checked in constant time; 401 without it, and while none is configured."""
    configured = getattr(request.app.state, "inbound_token", None) or load_settings().inbound_token
    if not configured:
        raise HTTPException(status_code=401, detail="the platform endpoint is off (ECOWATCH_INBOUND_TOKEN not set)",
                            headers={"WWW-Authenticate": "Bearer"})
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {configured}".encode()):
        raise HTTPException(status_code=401, detail="wrong or missing platform key",
                            headers={"WWW-Authenticate": "Bearer"})


@router.post("/api/inbound", response_model=ReceivedPublic, status_code=201, responses=ERRORS)
def enter_item(body: InboundBody, user: EntryDep, store: StoreDep, config: AlertsDep,
               response: Response) -> ReceivedPublic:
    """The duty desk enters an item handed down (201; 200 with ``duplicate`` when the reference is known)."""
    return _take(store, config, body, user.name, response, user.token_version)


@router.post("/api/inbound/platform", response_model=ReceivedPublic, status_code=201, responses=ERRORS,
             dependencies=[Depends(platform_key)])
def platform_item(body: InboundBody, store: StoreDep, config: AlertsDep, response: Response) -> ReceivedPublic:
    """The city platform pushes an item handed down, with its key (same answers as ``POST /api/inbound``)."""
    return _take(store, config, body, CITY_PLATFORM, response)


@router.get("/api/inbound", response_model=list[InboundPublic], responses=ERRORS)
def list_items(user: OverviewDep, store: StoreDep) -> list[InboundPublic]:
    """Items handed down, newest first, with their incident's state, overdue flag and feedback."""
    now = utcnow()
    out = []
    with store.read() as tx:
        for item in tx.list_inbound():
            incident = tx.get_incident(item.incident_id)
            sendings = [SendingPublic.of(s) for s in tx.sendings(inbound_id=item.id)]
            out.append(InboundPublic(
                id=item.id, origin=item.origin, origin_label=UPPER_LABELS.get(item.origin, item.origin),
                reference=item.reference, title=item.title, link=item.link, deadline=item.deadline,
                unit_given=item.unit_given, incident_id=item.incident_id,
                state=incident.state.value if incident else None, unit=incident.unit if incident else None,
                late_on_arrival=item.late_on_arrival,
                overdue=bool(incident and Step.HANDBACK.value in overdue_step_names(incident, now)),
                feedback=item.feedback, feedback_at=item.feedback_at, sendings=sendings))
    return out


@router.post("/api/inbound/{inbound_id}/sendings", response_model=SendingPublic, status_code=201,
             responses=ACTION_ERRORS)
def send_feedback(inbound_id: InboundId, body: FeedbackSendBody, user: SenderDep, store: StoreDep,
                  config: AlertsDep) -> SendingPublic:
    """Send an item's feedback back (or record it sent by hand): 409 before the unit resolved it.
    The item, its feedback and the sender are checked in the transaction that records the
    sending (alerts.reporting), not read before it."""
    with refusals(422):
        try:
            sending = request_sending(store, config, None, None, body.channel.value, body.address, user.name,
                                      body.note, utcnow(), inbound_id=inbound_id, version=user.token_version)
        except FeedbackNotReady as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
    return SendingPublic.of(sending)
