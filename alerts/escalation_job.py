"""The escalation job: climbs each overdue step's escalation ladder, notifies the rung's contacts
through the outbox and writes the console's ``overdue`` lines.

The escalation job is the only writer of the console's ``overdue`` lines: it decides what is
overdue (:func:`alerts.escalation.overdue_steps`) and writes each step's line once per deadline
(a unique key on the events table), so the API only reads the feed.

It works from stored timestamps only, so running it for a given ``now`` is repeatable and a run
after downtime catches up: nothing is lost, nothing sent twice. Delivering what it queued is
:mod:`alerts.delivery`'s job.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from alerts.config import AlertsConfig
from alerts.escalation import RUNG_LABELS, EscalationEvent, EscalationState, evaluate, overdue_steps
from alerts.inbound import prepare_feedback
from alerts.notify import notify
from core.models import STEP_LABELS, AuditEntry, Incident
from core.timeutil import to_local, utcnow
from storage.events import OnceLine, overdue_key
from storage.sql import SqlStore

log = logging.getLogger(__name__)
SYSTEM = "system"


@dataclass(slots=True)
class EscalationReport:
    """What one escalation pass did."""

    incidents: int = 0
    overdue_steps: int = 0
    climbed: int = 0
    repeated: int = 0
    notified: int = 0
    ended: int = 0
    announced: int = 0  # ``overdue`` console lines written
    feedback_ready: int = 0  # items handed down whose 处置情况反馈 was written (alerts.inbound)


def run_escalation(store: SqlStore, config: AlertsConfig, now: dt.datetime | None = None,
                   chunk: int = 500) -> EscalationReport:
    """Escalate every overdue, unfinished step of every active incident as of ``now``."""
    now = now or utcnow()
    report = EscalationReport()
    with store.begin() as tx:  # items handed down and now resolved: their feedback, before the steps
        report.feedback_ready = prepare_feedback(tx, now)
    with store.read() as tx:
        incidents = tx.active_incidents()
        rows = tx.active_escalations()
    report.incidents = len(incidents)
    work: list[tuple[Incident, str, EscalationState, list[EscalationEvent]]] = []
    fresh: list[tuple[Incident, str, dt.datetime]] = []  # overdue since the last pass: announce
    live: set[tuple[int, str]] = set()
    for incident in incidents:
        assert incident.id is not None
        for step, deadline in overdue_steps(incident, now):
            report.overdue_steps += 1
            live.add((incident.id, step))
            row = rows.get((incident.id, step))
            if row is not None and row.deadline == deadline:
                state = EscalationState(deadline, row.rung, row.last_notified_at, row.notify_count,
                                        row.acknowledged_rung, row.acknowledged_at, row.acknowledged_by)
            else:  # first time overdue, or the deadline moved (grade raised, reassigned): start again
                state = EscalationState(deadline)
                fresh.append((incident, step, deadline))
            result = evaluate(state, now, config.escalation)
            if result.events:
                work.append((incident, step, result.state, result.events))
    stale = [key for key in rows if key not in live]
    for start in range(0, max(len(work), len(stale), len(fresh)), chunk):
        with store.begin() as tx:
            for incident_id, step in stale[start:start + chunk]:
                report.ended += tx.end_escalations(incident_id, now, [step])
            report.announced += tx.add_events_once([_overdue_line(incident, step, deadline, now)
                                                    for incident, step, deadline in fresh[start:start + chunk]])
            batch = work[start:start + chunk]
            # Escalation rows and audit entries are written in batches: same rows, same order.
            tx.save_escalations([(_id(incident), step, state) for incident, step, state, _ in batch])
            audits: list[AuditEntry] = []
            for incident, step, state, events in batch:
                assert incident.id is not None
                for event in events:
                    report.climbed += event.kind == "climb"
                    report.repeated += event.kind == "repeat"
                    label = RUNG_LABELS.get(event.name, event.name)
                    audits.append(AuditEntry(incident.id, now, SYSTEM, "escalate", incident.state.value,
                                             incident.state.value,
                                             {"step": step, "rung": event.name, "kind": event.kind,
                                              "deadline": state.deadline.isoformat(),
                                              "due_at": event.due_at.isoformat()}))
                    if event.notify:
                        again = "（再次）" if event.kind == "repeat" else ""
                        text = (f"{label}{again}: 「{STEP_LABELS.get(step, step)}」已于 "
                                f"{to_local(state.deadline):%m-%d %H:%M} 超时")
                        report.notified += notify(tx, config, incident, event.name, text, now)
            tx.add_audits(audits)
    return report


def _id(incident: Incident) -> int:
    assert incident.id is not None  # every incident the job reads is stored
    return incident.id


def _overdue_line(incident: Incident, step: str, deadline: dt.datetime, now: dt.datetime) -> OnceLine:
    """The console's ``overdue`` line for one step's deadline (written unless it was before)."""
    payload = {"step": step, "deadline": deadline.isoformat(), "title": incident.title,
               "grade": incident.grade.value, "state": incident.state.value, "unit": incident.unit}
    return OnceLine(overdue_key(_id(incident), step, deadline), "overdue", incident.id, incident.unit_code, payload,
                    now)
