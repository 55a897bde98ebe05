"""The live feed as the API serves it: the JSON shape of a line and the server-sent-event stream.

It only reads storage.events (the one live-feed table): every line is written by the change it
reports, and ``overdue`` lines by the escalation job (alerts.escalation_job), never by a client reading.
The wire format and the keep-alive are FastAPI's own (``fastapi.sse``).

Readers resume by id (SSE ``Last-Event-ID``, ``?after=``), so a line may be served only when no
line with a smaller id can still appear: on PostgreSQL an id is taken when a line is inserted,
not when it commits, and a reader that saw line 11 while line 10's transaction was still open
would resume after 11 and never get 10. Every read of the feed is therefore capped at
``Tx.settled_event_id()`` (storage.cursors, the rule the outbound webhook's cursor moves by):
what is above it waits for the next poll, by when the transaction that holds it has ended."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.sse import ServerSentEvent

from core.event_kinds import EVENT_LABELS
from core.timeutil import utcnow
from dashboard_api.deps import LAPSED, Principal
from storage.rows import Event
from storage.sql import SqlStore, Tx


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


def settled_after(tx: Tx, after: int, *, unit_code: str | None, limit: int, recipient: str | None = None,
                  since: dt.datetime | None = None, department_code: str | None = None) -> tuple[list[Event], int]:
    """The events after ``after`` (addressed as ``Tx.events_after``) that no open transaction can
    still add one below, and how far the reader has now seen: the last id served when ``limit``
    cut the page, else the settled id (the lines up to it that are not this reader's are read
    past, so a unit's stream need not ask again for them). Read in a short transaction: on
    PostgreSQL the settled id holds new lines off until it ends."""
    upto = tx.settled_event_id()
    found = tx.events_after(after, unit_code=unit_code, limit=limit, recipient=recipient, since=since, upto=upto,
                            department_code=department_code)
    seen = (found[-1].id or after) if len(found) >= limit else max(after, upto)
    return [e for e in found if for_department(e, department_code)], seen


def for_department(event: Event, department_code: str | None) -> bool:
    """Whether a department user (``department_code``; None: no department user) may see a line
    of an incident copied to it: not one of another department's 会办 (its copy, answer or
    withdrawal names that department), as the incident's page does not show those either."""
    named = event.payload.get("department_code") if department_code is not None else None
    return named is None or named == department_code


async def stream(request: Request, store: SqlStore, user: Principal, after: int, max_seconds: float,
                 poll_seconds: float = 1.0, recipient: str | None = None) -> AsyncIterator[ServerSentEvent]:
    """Every event after ``after`` as it is written, until the client leaves or ``max_seconds``
    pass (the client then reconnects with Last-Event-ID and misses nothing). The console's lines
    (a unit user's: its unit's; a department user's: those of the incidents copied to it, as
    :func:`settled_after` filters them), or only ``recipient``'s in-app notifications when given.
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

        def read(after: int = after) -> tuple[str | None, list[Event], int]:
            with store.read() as tx:
                lapsed = user.lapsed(tx.get_user(user.name), utcnow())
                if lapsed is not None or tx.last_event_id() <= after:  # nothing new: no lock taken
                    return lapsed, [], after
                return None, *settled_after(tx, after, unit_code=user.unit_scope, limit=500, recipient=recipient,
                                            department_code=user.department_scope)

        lapsed, batch, seen = await asyncio.to_thread(read)
        if lapsed is not None:
            yield closing_event(lapsed)
            return
        for event in batch:
            yield sse_event(event)
        after = seen
        if not batch:
            await asyncio.sleep(poll_seconds)
