"""The live feed: events as JSON (polling) or as server-sent events (push), resumable by id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from dashboard_api.deps import SharedReaderDep, StoreDep
from dashboard_api.errors import ERRORS
from dashboard_api.feed import event_json, for_department, settled_after, stream
from dashboard_api.schemas import EventPublic

router = APIRouter(prefix="/api/feed", tags=["feed"])
# An in-app inbox: one contact's notifications (the pack's contact name) instead of the console's lines.
RecipientQuery = Annotated[str | None, Query(alias="recipient", min_length=1, max_length=100,
                                             description="instead: the in-app notifications of this contact")]


def inbox(user: SharedReaderDep, recipient: RecipientQuery = None) -> str | None:
    """The contact whose in-app notifications are asked for, if any. A department user (会办) reads
    the console's lines of the incidents copied to it, not a contact's notifications: those quote
    other departments' answers (403)."""
    if recipient is not None and user.department_scope is not None:
        raise HTTPException(status_code=403, detail="a department reads only the lines of the incidents copied to it")
    return recipient


Recipient = Annotated[str | None, Depends(inbox)]


@router.get("", response_model=list[EventPublic], responses=ERRORS)
async def feed(user: SharedReaderDep, store: StoreDep,
               after: Annotated[int, Query(ge=0, le=2**53, description="return events with a larger id")] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               tail: Annotated[int | None, Query(ge=1, le=500, description="instead: the newest N events")] = None,
               recipient: Recipient = None) -> list[EventPublic]:
    """Events after ``after``, oldest first, at most ``limit`` (a unit user: only its own unit's;
    a department user: only those of the incidents copied to it, 会办).
    With ``tail``, the newest ``tail`` events instead (what a console shows when it opens).
    With ``recipient``, that contact's in-app notifications (kind ``notification``) instead of
    the console's lines."""
    def read() -> list[EventPublic]:
        with store.read() as tx:  # only settled lines: a client resumes from the last id it got (dashboard_api.feed)
            if tail is not None:
                found = [e for e in tx.latest_events(tail, unit_code=user.unit_scope, recipient=recipient,
                                                     upto=tx.settled_event_id(), department_code=user.department_scope)
                         if for_department(e, user.department_scope)]
            else:
                found, _seen = settled_after(tx, after, unit_code=user.unit_scope, limit=limit, recipient=recipient,
                                             department_code=user.department_scope)
            return [EventPublic(**event_json(e)) for e in found]

    return await asyncio.to_thread(read)


@router.get("/stream", responses={**ERRORS, 200: {"description": "a stream of server-sent events"}},
            response_class=EventSourceResponse)
async def feed_stream(request: Request, user: SharedReaderDep, store: StoreDep,
                      last_event_id: Annotated[str | None, Header(max_length=20,
                                                                  description="resume after this id")] = None,
                      after: Annotated[int | None, Query(ge=0, le=2**53, description="resume after this id (when the "
                                                         "client cannot set Last-Event-ID)")] = None,
                      max_seconds: Annotated[float, Query(gt=0, le=3600)] = 300,
                      recipient: Recipient = None) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``incident_new``, ``grade_raised``, ``overdue``, ``incident_changed``.

    Each frame has an ``id``; reconnect with ``Last-Event-ID`` (or ``?after=``) to get everything
    missed. Without either, the stream starts from now. It ends after ``max_seconds``; clients
    reconnect (EventSource does so on its own). With ``recipient``, that contact's in-app
    ``notification`` events instead (same ids, same resumption). When the token expires or its
    user is disabled or changed while the stream is open, a last ``closed`` event (data
    ``{"reason": "expired" | "revoked", "detail": ...}``) ends it; reconnecting then gets 401."""
    start = after
    if last_event_id is not None and last_event_id.strip().isdigit() and int(last_event_id) < 2**53:
        start = int(last_event_id.strip())
    if start is None:
        def newest() -> int:  # from now: every line up to here is settled, none still to come below it
            with store.read() as tx:
                return tx.settled_event_id()

        start = await asyncio.to_thread(newest)
    async for item in stream(request, store, user, start, max_seconds, recipient=recipient):
        yield item
