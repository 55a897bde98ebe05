"""The live feed: overdue detection into the event journal (storage.events, the one live-feed
table), and the server-sent-event stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy import select

from core.models import State
from core.timeutil import utcnow
from dashboard_api.overdue import overdue_steps
from storage.events import Event, add_event, events, events_after
from storage.sql import SqlStore

KINDS = {"incident_new": "新事件", "grade_raised": "等级上调", "overdue": "超期", "incident_changed": "处置进展",
         "notification": "通知"}
_check_lock = threading.Lock()
_last_check: dict[int, float] = {}


def note_overdue(store: SqlStore, now: dt.datetime | None = None, min_interval: float = 20.0) -> int:
    """Write one ``overdue`` event per incident and step the first time its deadline is seen passed.

    Called from the feed itself (at most every ``min_interval`` seconds per store), so overdue
    alerts flow even before a scheduler job owns this. Returns how many events were written.
    """
    key = id(store)
    with _check_lock:
        if time.monotonic() - _last_check.get(key, -1e9) < min_interval:
            return 0
        _last_check[key] = time.monotonic()
    now = now or utcnow()
    with store.read() as tx:
        candidates = [i for i in tx.list_incidents(states=[State.ASSIGNED.value, State.SIGNED.value,
                                                           State.RESPONDED.value, State.NEW.value,
                                                           State.RETURNED.value], limit=100000)
                      if overdue_steps(i, now)]
    if not candidates:
        return 0
    written = 0
    with store.begin() as tx:
        # Read what was already written inside the writing transaction, so two API workers noting
        # the same deadline at once do not both write it (SQLite serialises write transactions).
        seen = {(r.incident_id, (r.payload or {}).get("step"))
                for r in tx.conn.execute(select(events.c.incident_id, events.c.payload)
                                         .where(events.c.kind == "overdue", events.c.recipient.is_(None)))}
        for incident in candidates:
            for step in overdue_steps(incident, now):
                if (incident.id, step) in seen:
                    continue
                add_event(tx, "overdue", incident.id, incident.unit_code,
                          {"step": step, "deadline": incident.deadlines[step].isoformat(), "title": incident.title,
                           "grade": incident.grade.value, "state": incident.state.value, "unit": incident.unit},
                          now)
                written += 1
    return written


def event_json(event: Event) -> dict:
    """The JSON shape of one event (also the SSE ``data`` line)."""
    return {"id": event.id, "at": event.at.isoformat(), "kind": event.kind, "label": KINDS.get(event.kind, event.kind),
            "incident_id": event.incident_id, "unit_code": event.unit_code, "payload": event.payload,
            "recipient": event.recipient}


def sse_frame(event: Event) -> str:
    """One server-sent event: id (for Last-Event-ID), event name, JSON data."""
    data = json.dumps(event_json(event), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


async def stream(request: Request, store: SqlStore, after: int, unit_scope: str | None,
                 max_seconds: float, poll_seconds: float = 1.0, recipient: str | None = None) -> AsyncIterator[str]:
    """Yield SSE frames for every event after ``after`` as it is written, until the client leaves or
    ``max_seconds`` pass (the client then reconnects with Last-Event-ID and misses nothing).
    The console's lines, or only ``recipient``'s in-app notifications when given."""
    yield "retry: 2000\n\n"
    deadline = time.monotonic() + max_seconds
    last_beat = time.monotonic()
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.to_thread(note_overdue, store)

        def read(after: int = after) -> list[Event]:
            with store.read() as tx:
                return events_after(tx, after, unit_code=unit_scope, limit=500, recipient=recipient)

        batch = await asyncio.to_thread(read)
        for event in batch:
            yield sse_frame(event)
            after = event.id or after
        if batch:
            continue
        if time.monotonic() - last_beat > 15:
            yield ": keep-alive\n\n"  # proxies close silent connections
            last_beat = time.monotonic()
        await asyncio.sleep(poll_seconds)
