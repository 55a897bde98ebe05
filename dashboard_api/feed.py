"""The live feed as the API serves it: the JSON shape of a line and the server-sent-event stream.

It only reads storage.events (the one live-feed table): every line is written by the change it
reports, and ``overdue`` lines by the escalation job (alerts.escalation_job), never by a client reading.
The wire format and the keep-alive are FastAPI's own (``fastapi.sse``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.sse import ServerSentEvent

from core.event_kinds import EVENT_LABELS
from core.timeutil import utcnow
from dashboard_api.deps import LAPSED, Principal
from storage.rows import Event
from storage.sql import SqlStore


def event_json(event: Event) -> dict:
    """The JSON shape of one event (also the SSE ``data`` line)."""
    return {"id": event.id, "at": event.at.isoformat(), "kind": event.kind,
            "label": EVENT_LABELS.get(event.kind, event.kind),
            "incident_id": event.incident_id, "unit_code": event.unit_code, "payload": event.payload,
            "recipient": event.recipient}


def sse_event(event: Event) -> ServerSentEvent:
    """One server-sent event: id (for Last-Event-ID), event name, the JSON line as data (written
    here with its Chinese as is, not \\u-escaped: the same bytes the feed always sent)."""
    return ServerSentEvent(id=str(event.id), event=event.kind,
                           raw_data=json.dumps(event_json(event), ensure_ascii=False))


def closing_event(reason: str) -> ServerSentEvent:
    """The last event of a stream whose token stopped standing for its user: ``closed`` with the
    reason (``expired`` or ``revoked``) and the same words a request would get in its 401."""
    return ServerSentEvent(event="closed", raw_data=json.dumps({"reason": reason, "detail": LAPSED[reason]}))


async def stream(request: Request, store: SqlStore, user: Principal, after: int, max_seconds: float,
                 poll_seconds: float = 1.0, recipient: str | None = None) -> AsyncIterator[ServerSentEvent]:
    """Every event after ``after`` as it is written, until the client leaves or ``max_seconds``
    pass (the client then reconnects with Last-Event-ID and misses nothing). The console's lines
    (a unit user's: its unit's), or only ``recipient``'s in-app notifications when given.
    FastAPI's ``EventSourceResponse`` encodes the events and sends a keep-alive comment whenever
    nothing was sent for 15 s (proxies close silent connections).

    Every poll reads the user with the events and asks ``Principal.lapsed`` again, so a stream
    stops, with a ``closed`` event, as soon as its token expires or its user is disabled or
    changed: an open connection is no way around what every request is checked for."""
    yield ServerSentEvent(retry=2000)
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return

        def read(after: int = after) -> tuple[str | None, list[Event]]:
            with store.read() as tx:
                lapsed = user.lapsed(tx.get_user(user.name), utcnow())
                if lapsed is not None:
                    return lapsed, []
                return None, tx.events_after(after, unit_code=user.unit_scope, limit=500, recipient=recipient)

        lapsed, batch = await asyncio.to_thread(read)
        if lapsed is not None:
            yield closing_event(lapsed)
            return
        for event in batch:
            yield sse_event(event)
            after = event.id or after
        if not batch:
            await asyncio.sleep(poll_seconds)
