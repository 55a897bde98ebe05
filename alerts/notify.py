"""Queue notifications for an event on an incident, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt

from alerts.config import AlertsConfig
from alerts.notify_rules import quiet_until, recipients
from core.jurisdiction import Department
from core.models import Incident
from core.timeutil import to_local
from storage.sql import Tx


def subject_of(incident: Incident) -> str:
    """The subject line of every message about an incident."""
    where = incident.unit or "待分拣"
    return f"[{incident.grade.label}] #{incident.id} {where}: {incident.title[:60]}"


def notify(tx: Tx, config: AlertsConfig, incident: Incident, event: str, text: str, now: dt.datetime,
           department: Department | None = None) -> int:
    """Queue ``text`` about ``event`` for everyone the routes name; returns how many addresses.
    ``department``: the department contacts meant are this one's, not the incident's competent
    department's (a copy to it, alerts.copies).

    Messages are grouped per incident and address (see ``Tx.enqueue_message``) and held back in
    quiet hours for non-red grades; nothing is sent here.
    """
    if incident.id is None:
        return 0
    line = f"{to_local(now):%m-%d %H:%M} {text}"
    count = 0
    for rcpt in recipients(event, incident, config.contacts, config.routes, config.channels, department):
        tx.enqueue_message(incident_id=incident.id, channel=rcpt.channel, recipient=rcpt.name, address=rcpt.address,
                           grade=incident.grade.value, subject=subject_of(incident), line=line, event=event,
                           now=now, not_before=quiet_until(now, config.quiet_hours, incident.grade, rcpt.channel),
                           group=config.group)
        count += 1
    return count
