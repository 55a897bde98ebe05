"""Queues the live feed's console lines for the outbound webhook: the dispatch side's half of
``ECOWATCH_WEBHOOK_URLS`` (the other half, signing and POSTing, is
alerts.notifiers.signed_webhook; the API never sends anything).

Each pass reads the console lines after the ``webhook`` cursor and, in ONE transaction, queues
each to every URL on the outbox (channel ``webhook_out``) and moves the cursor: a crash leaves both
or neither, and two passes at once cannot both queue a line; it only moves over lines no open
transaction can still add one below (``Tx.settled_event_id``). From there the
outbox does what it does for every channel: lease, send, retry with backoff, keep failures
visible (``ecowatch notifications --status failed``). Lines about one incident waiting together
go out as one POST (the outbox groups per incident and address); the first pass starts from the
newest line (history is not replayed to a newly configured receiver: the feeds serve it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from alerts.event_documents import event_document
from alerts.notifiers import Notifier
from alerts.notifiers.signed_webhook import CHANNEL, SignedWebhookNotifier
from storage.sql import SqlStore

CURSOR = "webhook"
RECIPIENT = "webhook"  # the outbox's recipient name for these messages


def forward_events(store: SqlStore, notifiers: Mapping[str, Notifier], now: dt.datetime, limit: int = 500) -> int:
    """Queue the console lines written since the last pass to each configured URL; returns how
    many lines were queued (0 when the webhook is off)."""
    outbound = notifiers.get(CHANNEL)
    if not isinstance(outbound, SignedWebhookNotifier):
        return 0
    with store.begin() as tx:  # its own short transaction: on PostgreSQL it holds writers off while it lasts
        settled = tx.settled_event_id()
    with store.begin() as tx:
        read = tx.event_cursor(CURSOR)
        if read is None:
            tx.move_event_cursor(CURSOR, None, settled, now)
            return 0
        lines = [e for e in tx.events_after(read, limit=limit) if (e.id or 0) <= settled]
        for event in lines:
            doc = event_document(event)
            for url in outbound.urls:
                tx.enqueue_message(incident_id=event.incident_id, channel=CHANNEL, recipient=RECIPIENT, address=url,
                                   grade=doc["grade"], subject=f"ecowatch {event.kind} #{event.incident_id}",
                                   line=json.dumps(doc, ensure_ascii=False), event=event.kind, now=now,
                                   not_before=now, group=dt.timedelta(0))
        if lines:
            tx.move_event_cursor(CURSOR, read, lines[-1].id or read, now)
    return len(lines)
