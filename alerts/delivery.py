"""The delivery job: sends the notification outbox's due messages through their channels.

A message is leased before it is sent, so two workers never send it twice and one that dies
mid-send frees it again; a failure is retried with backoff and, after the last attempt, kept in
the outbox as failed (visible, never silently dropped). Stored channels (the in-app feed) write
the notification and mark it sent in one transaction. Works from stored timestamps only, so a
run after downtime catches up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from alerts.config import AlertsConfig
from alerts.notifiers import DeliveryError, Message, Notifier, StoredNotifier
from alerts.notify_rules import backoff
from alerts.webhook_out import forward_events
from core.timeutil import utcnow
from storage.sql import SqlStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    """What one outbox pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver(store: SqlStore, notifiers: Mapping[str, Notifier], config: AlertsConfig,
            now: dt.datetime | None = None, limit: int = 200,
            lease: dt.timedelta = dt.timedelta(minutes=5)) -> DeliveryReport:
    """Send due outbox messages; a failure is retried with backoff, then recorded as failed."""
    now = now or utcnow()
    report = DeliveryReport()
    forward_events(store, notifiers, now)  # the outbound webhook's new lines join the outbox first
    with store.begin() as tx:
        claimed = tx.claim_outbox(now, limit, lease)
    for row in claimed:
        message = Message(id=row["id"], channel=row["channel"], recipient=row["recipient"], address=row["address"],
                          subject=row["subject"], lines=list(row["lines"]), grade=row["grade"],
                          incident_id=row["incident_id"], events=list(row["events"]))
        notifier = notifiers.get(message.channel)
        error: str | None = None
        if notifier is None:
            error = f"channel {message.channel} is not configured"
        else:
            try:
                if isinstance(notifier, StoredNotifier):
                    # Stored and marked sent in one transaction: never twice, never lost.
                    with store.begin() as tx:
                        notifier.send_in(tx, message, now)
                        tx.outbox_sent(message.id, now)
                    report.sent += 1
                    continue
                notifier.send(message)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # a bug in one channel must not stop the others
                log.exception("notifier %s crashed", message.channel)
                error = f"{type(exc).__name__}: {exc}"
        with store.begin() as tx:
            if error is None:
                tx.outbox_sent(message.id, now)
                report.sent += 1
                continue
            attempts = int(row["attempts"]) + 1
            final = notifier is None or attempts >= config.max_attempts
            tx.outbox_failed(message.id, error, None if final else now + backoff(attempts, config.backoff_seconds))
            log.warning("notification %s via %s to %s failed (attempt %s%s): %s", message.id, message.channel,
                        message.recipient, attempts, ", giving up" if final else "", error)
            if final:
                report.failed += 1
            else:
                report.retrying += 1
    return report
