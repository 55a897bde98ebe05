"""The escalation job: climbs each overdue step's escalation ladder, notifies the rung's contacts
through the outbox and writes the console's ``overdue`` lines.

The escalation job is the only writer of the console's ``overdue`` lines: it decides what is
overdue (:func:`alerts.escalation.overdue_steps`) and writes each step's line once per deadline
(a unique key on the events table), so the API only reads the feed.

It works from stored timestamps only, so running it for a given ``now`` is repeatable and a run
after downtime catches up: nothing is lost, nothing sent twice. Delivering what it queued is
:mod:`alerts.delivery`'s job.

It plans from one unlocked read of every active incident (cheap), then writes in chunks; each
chunk's transaction first locks its incidents as the actions do (``Tx.get_incident_for_update``,
in id order) and reads them and their escalation rows again, and writes only what still holds:
the step still overdue with the same deadline and its row as planned. An incident closed, a step
done or acknowledged, a row ended by an action in between is left alone (counted ``skipped``):
the next pass sees it as it now is. Without this, on PostgreSQL the job's stale plan re-activated
the escalation an action had just ended, or escalated an incident just closed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from alerts.config import AlertsConfig
from alerts.escalation import RUNG_LABELS, EscalationEvent, EscalationState, evaluate, overdue_steps
from alerts.inbound import prepare_feedback
from alerts.notify import notify
from core.actors import SYSTEM
from core.models import STEP_LABELS, AuditEntry, Incident
from core.timeutil import to_local, utcnow
from storage.escalations import EscalationFields
from storage.events import OnceLine, overdue_key
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)


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
    skipped: int = 0  # planned writes an action made obsolete before the write: left to the next pass


# What the plan read of a step's escalation row: the write goes ahead only if the row still says so.
_ROW_FIELDS = ("deadline", "rung", "last_notified_at", "notify_count", "acknowledged_rung", "acknowledged_at",
               "acknowledged_by")


def _row_key(row: EscalationFields | None) -> tuple[object, ...] | None:
    return None if row is None else tuple(getattr(row, f) for f in _ROW_FIELDS)


@dataclass(slots=True)
class _Now:
    """A chunk's incidents as they are inside its writing transaction, locked."""

    incidents: dict[int, Incident]
    overdue: dict[tuple[int, str], dt.datetime]  # (incident, step) -> deadline, of the locked incidents
    rows: dict[tuple[int, str], tuple[object, ...] | None]

    @classmethod
    def lock(cls, tx: Tx, ids: set[int], now: dt.datetime) -> _Now:
        """Lock ``ids`` in id order (as a merge locks its pair: no deadlock with an action) and
        read them and their active escalation rows again."""
        incidents = tx.get_incidents_for_update(ids)
        overdue = {(i, step): due for i, inc in incidents.items() for step, due in overdue_steps(inc, now)}
        rows = {key: _row_key(row) for key, row in tx.active_escalations(sorted(ids)).items()}
        return cls(incidents, overdue, rows)


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
    planned = {key: _row_key(row) for key, row in rows.items()}
    for start in range(0, max(len(work), len(stale), len(fresh)), chunk):
        stale_part, fresh_part, work_part = (stale[start:start + chunk], fresh[start:start + chunk],
                                             work[start:start + chunk])
        ids = ({i for i, _ in stale_part} | {_id(inc) for inc, _, _ in fresh_part}
               | {_id(inc) for inc, _, _, _ in work_part})
        with store.begin() as tx:
            held = _Now.lock(tx, ids, now)
            for incident_id, step in stale_part:
                if (incident_id, step) in held.overdue:  # overdue again (a deadline moved): the next pass
                    report.skipped += 1
                    continue
                report.ended += tx.end_escalations(incident_id, now, [step])
            lines = []
            for incident, step, deadline in fresh_part:
                if held.overdue.get((_id(incident), step)) != deadline:
                    report.skipped += 1
                    continue
                lines.append(_overdue_line(held.incidents[_id(incident)], step, deadline, now))
            report.announced += tx.add_events_once(lines)
            batch = []
            for incident, step, state, events in work_part:
                key = (_id(incident), step)
                if held.overdue.get(key) != state.deadline or held.rows.get(key) != planned.get(key):
                    report.skipped += 1  # closed, done, acknowledged or ended since the plan
                    continue
                batch.append((held.incidents[key[0]], step, state, events))
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
