"""The duty desk's rota (值班): who is on duty now, the month and its overrides, acknowledging a page
(from the console, or from the signed link in the message), taking a hand-over, the duty log.

The rules are in :mod:`alerts.duty`, :mod:`alerts.paging` and :mod:`alerts.handover`; this module
only checks who may ask and turns refusals into HTTP answers. Each write checks the state in the
statement that writes it (a page taken twice, a hand-over accepted by someone else: 409), and its
user again in that transaction (disabled or moved off the desk since the token was checked: 403).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from alerts.acting import ActorRefused, roles_for
from alerts.duty import DutyError, duty_board, override
from alerts.handover import accept, remark
from alerts.paging import acknowledge, read_ack
from briefing.duty_log import build_duty_log, month_bounds, render_duty_log
from core.duty import HandoverState, PageState, Tier
from core.timeutil import utcnow
from dashboard_api.bodies import OverrideBody, RemarksBody
from dashboard_api.deps import MAX_ID, AlertsDep, OverviewDep, Principal, StoreDep, require_roles
from dashboard_api.errors import ACTION_ERRORS, ERRORS, refusals
from dashboard_api.schemas import DutyNowPublic, GapPublic, HandoverPublic, PagePublic, ShiftPublic
from storage.sql import Tx

router = APIRouter(tags=["rota"])

# The gates in front; each write checks the user again where it writes (alerts.acting).
DeskDep = Annotated[Principal, Depends(require_roles(*roles_for("override")))]  # the rota's keepers
TakerDep = Annotated[Principal, Depends(require_roles(*roles_for("page_ack")))]  # who may take a page
OfficerDep = Annotated[Principal, Depends(require_roles(*roles_for("handover")))]
PageId = Annotated[int, Path(ge=1, le=MAX_ID, description="page id")]
HandoverId = Annotated[int, Path(ge=1, le=MAX_ID, description="hand-over id")]
ShiftId = Annotated[int, Path(ge=1, le=MAX_ID, description="shift id")]
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="a month, e.g. 2026-10", examples=["2026-10"])]
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    try:
        return month_bounds(month)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _pages(tx: Tx, rows: list[dict[str, Any]]) -> list[PagePublic]:
    out = []
    for row in rows:
        incident = tx.get_incident(row["incident_id"])
        out.append(PagePublic.of(row, incident.title if incident else None))
    return out


@router.get("/api/rota/now", response_model=DutyNowPublic, responses=ERRORS)
def duty_now(_user: OverviewDep, store: StoreDep, config: AlertsDep) -> DutyNowPublic:
    """Who is on duty now (name, phone, until when, backup, leader on call), the next shift, the gaps
    ahead, the pages nobody has acknowledged and the hand-over into this shift."""
    now = utcnow()
    with store.read() as tx:
        board = duty_board(tx, config.rota, now)
        pages = _pages(tx, tx.list_pages(PageState.PAGING))
        handover = None
        if board.current is not None:
            handover = next((h for h in tx.list_handovers(since=board.current.starts_at)
                             if h["to_shift_id"] == board.current.id), None)
    return DutyNowPublic(at=now, on_duty=ShiftPublic.of(board.current) if board.current else None,
                         next=ShiftPublic.of(board.following) if board.following else None,
                         gaps=[GapPublic(starts_at=a, ends_at=b) for a, b in board.gaps], pages=pages,
                         handover=HandoverPublic.of(handover) if handover else None)


@router.get("/api/rota/month", response_model=list[ShiftPublic], responses=ERRORS)
def month_view(_user: OverviewDep, store: StoreDep, month: Month) -> list[ShiftPublic]:
    """The shifts starting in a month, in order."""
    start, end = _bounds(month)
    with store.read() as tx:
        return [ShiftPublic.of(s) for s in tx.shifts_between(start, end) if s.starts_at >= start]


@router.post("/api/rota/shifts/{shift_id}/override", response_model=ShiftPublic, responses=ACTION_ERRORS)
def override_shift(shift_id: ShiftId, body: OverrideBody, user: DeskDep, store: StoreDep) -> ShiftPublic:
    """代班/换班: put someone else in one slot of a shift, recorded in the duty log with who approved it."""
    try:
        with refusals(), store.begin() as tx:
            changed = override(tx, shift_id, Tier(body.tier), body.person.strip(), body.phone,
                               approved_by=body.approved_by, reason=body.reason, actor=user.name, now=utcnow(),
                               version=user.token_version)
    except DutyError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return ShiftPublic.of(changed)


@router.post("/api/rota/pages/{page_id}/ack", response_model=PagePublic, responses=ACTION_ERRORS)
def ack_page(page_id: PageId, user: TakerDep, store: StoreDep) -> PagePublic:
    """Take a page (确认接警): it stops climbing and is never sent again; the audit and duty logs say who."""
    with refusals(), store.begin() as tx:
        if tx.get_page(page_id) is None:
            raise HTTPException(status_code=404, detail=f"no page {page_id}")
        if not acknowledge(tx, page_id, user.name, "console", utcnow(), version=user.token_version):
            raise HTTPException(status_code=409, detail="this page was acknowledged already")
        page = tx.get_page(page_id)
        assert page is not None
        return _pages(tx, [page])[0]


def _pending_handover(tx: Tx, handover_id: int) -> None:
    """404 for no such hand-over, 409 for one taken already (the write re-checks the state)."""
    found = tx.get_handover(handover_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no hand-over {handover_id}")
    if found["state"] != HandoverState.PENDING.value:
        raise HTTPException(status_code=409, detail="this hand-over was taken already")


@router.post("/api/rota/handovers/{handover_id}/accept", response_model=HandoverPublic, responses=ACTION_ERRORS)
def accept_handover(handover_id: HandoverId, user: OfficerDep, store: StoreDep) -> HandoverPublic:
    """Take the hand-over (接班): only the incoming officer or the shift's backup, once."""
    with refusals(), store.begin() as tx:
        _pending_handover(tx, handover_id)
        if not accept(tx, handover_id, user.name, utcnow(), version=user.token_version):
            raise HTTPException(status_code=403, detail="only the incoming officer or the shift's backup takes it")
        taken = tx.get_handover(handover_id)
    assert taken is not None
    return HandoverPublic.of(taken)


@router.post("/api/rota/handovers/{handover_id}/remarks", response_model=HandoverPublic, responses=ACTION_ERRORS)
def handover_remarks(handover_id: HandoverId, body: RemarksBody, user: OfficerDep, store: StoreDep) -> HandoverPublic:
    """The outgoing officer's remarks (交班备注), until the hand-over is taken."""
    with refusals(), store.begin() as tx:
        _pending_handover(tx, handover_id)
        if not remark(tx, handover_id, body.remarks, user.name, version=user.token_version):
            raise HTTPException(status_code=403, detail="only the outgoing officer writes the remarks")
        written = tx.get_handover(handover_id)
    assert written is not None
    return HandoverPublic.of(written)


@router.get("/api/rota/log", responses={**ERRORS, 200: {"content": {m: {} for m in MEDIA.values()},
                                                        "description": "the duty log file"}})
def duty_log(_user: OverviewDep, store: StoreDep, month: Month,
             fmt: Annotated[Literal["docx", "xlsx"], Query(alias="format")] = "docx") -> Response:
    """The duty log (值班日志) of a month: shifts, pages, acknowledgements, hand-overs, overrides."""
    start, end = _bounds(month)
    with store.read() as tx:
        log = build_duty_log(tx, month, start, end)
    name = f"duty-log-{month}.{fmt}"
    return Response(content=render_duty_log(log, fmt), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the signed link in a page's message: no login, the token is the permission -------------------

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>确认接警</title><style>body{{font:18px sans-serif;margin:2em}}
button{{font-size:1.2em;padding:.5em 2em}}</style></head><body>{body}</body></html>"""


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status,
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                            "form-action 'self'; frame-ancestors 'none'",
                                 "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _claim(request: Request, token: str) -> tuple[int, str] | None:
    return read_ack(request.app.state.secret_key, token, utcnow())


@router.get("/ack", include_in_schema=False)
def ack_link(request: Request, store: StoreDep, token: Annotated[str, Query(max_length=600)] = "") -> HTMLResponse:
    """The page a message's link opens: what is being acknowledged, and a button (a GET never writes:
    link previews in chat apps fetch it)."""
    claim = _claim(request, token)
    if claim is None:
        return _html("<p>链接无效或已过期。请登录控制台「值班台」确认。</p>", 403)
    page_id, person = claim
    with store.read() as tx:
        page = tx.get_page(page_id)
        incident = tx.get_incident(page["incident_id"]) if page else None
    if page is None or incident is None:
        return _html("<p>呼叫不存在。</p>", 404)
    what = html.escape(f"#{incident.id} [{incident.grade.label}] {incident.title}")
    if page["state"] != PageState.PAGING.value:
        return _html(f"<p>{what}</p><p>已由 {html.escape(page['acked_by'] or '')} 确认接警。</p>")
    return _html(f"<p>{html.escape(person)}：</p><p>{what}</p><form method=post action=/ack>"
                 f"<input type=hidden name=token value=\"{html.escape(token)}\"><button>确认接警</button></form>")


@router.post("/ack", include_in_schema=False)
def ack_link_post(request: Request, store: StoreDep, token: Annotated[str, Form(max_length=600)]) -> HTMLResponse:
    """Acknowledge from the link, as the person the link was sent to."""
    claim = _claim(request, token)
    if claim is None:
        return _html("<p>链接无效或已过期。请登录控制台「值班台」确认。</p>", 403)
    page_id, person = claim
    try:
        with store.begin() as tx:
            done = acknowledge(tx, page_id, person, "link", utcnow())
            page = tx.get_page(page_id)
    except ActorRefused:  # disabled, or moved off the desk, since the link was sent
        return _html("<p>此链接的接收人已无权确认接警。请登录控制台「值班台」确认。</p>", 403)
    if page is None:
        return _html("<p>呼叫不存在。</p>", 404)
    if not done:
        return _html(f"<p>已由 {html.escape(page['acked_by'] or '')} 确认接警，无需重复确认。</p>", 409)
    return _html(f"<p>{html.escape(person)}，已确认接警。请登录控制台处理。</p>")
