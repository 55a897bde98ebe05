"""Escalation of overdue steps: reminder (催办) → supervision (督办) → leader (pure).

The Alertmanager/PagerDuty idea: an overdue step climbs the pack's ladder as time passes; the
current rung repeats every ``repeat_minutes`` until someone acknowledges it; acknowledging stops
the repeats of that rung (the step keeps climbing if it stays overdue: a higher level must know).
Everything is computed from the deadline, the stored state and ``now``, so a job that did not run
for an hour catches up in one pass: it climbs straight to the rung due now and records the rungs
it passed with the time each fell due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import ConfigError
from core.models import Incident, State, Step

RUNG_LABELS = {"reminder": "催办", "supervision": "督办", "leader": "领导督办"}
# States in which a step is nobody's to do: closed, or returned and waiting for the duty desk.
_PAUSED: dict[State, frozenset[str]] = {
    State.CLOSED: frozenset(Step),
    State.RETURNED: frozenset({Step.SIGN_OFF}),
}


# Module-level, not read through the class: with ``slots=True`` a dataclass field's class
# attribute is the slot descriptor, not its default (a pack without ``ladder`` used to crash).
_LADDER = ("reminder", "supervision", "leader")


@dataclass(slots=True, frozen=True)
class EscalationPolicy:
    """The ladder, when each rung starts after the deadline, and how often a rung repeats."""

    ladder: tuple[str, ...] = _LADDER
    after: tuple[dt.timedelta, ...] = (dt.timedelta(0), dt.timedelta(hours=2), dt.timedelta(hours=8))
    repeat: dt.timedelta = dt.timedelta(hours=1)

    @classmethod
    def from_pack(cls, escalation: Mapping[str, Any]) -> EscalationPolicy:
        """Build from the pack's ``[escalation]`` table (defaults for what it leaves out)."""
        ladder = tuple(escalation.get("ladder", _LADDER))
        minutes = list(escalation.get("rung_after_minutes", [0, 120, 480]))
        if len(minutes) != len(ladder) or minutes != sorted(minutes):
            raise ConfigError("pack [escalation]: rung_after_minutes needs one ascending value per ladder rung")
        return cls(ladder, tuple(dt.timedelta(minutes=float(m)) for m in minutes),
                   dt.timedelta(minutes=float(escalation.get("repeat_minutes", 60))))


@dataclass(slots=True)
class EscalationState:
    """What has happened so far for one overdue step of one incident (stored)."""

    deadline: dt.datetime
    rung: int = -1  # index in the ladder, -1 = not escalated yet
    last_notified_at: dt.datetime | None = None
    notify_count: int = 0
    acknowledged_rung: int = -1
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None


@dataclass(slots=True, frozen=True)
class EscalationEvent:
    """One thing to record (and maybe send): a rung reached, or a repeat of the current rung."""

    rung: int
    name: str
    kind: str  # "climb" | "repeat"
    due_at: dt.datetime  # when it fell due (earlier than now when catching up)
    notify: bool  # False for rungs passed while catching up: recorded, not sent


@dataclass(slots=True)
class Evaluation:
    """The result of one evaluation: the events, and the state to store."""

    state: EscalationState
    events: list[EscalationEvent] = field(default_factory=list)


def overdue_steps(incident: Incident, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The incident's steps whose deadline has passed and which are not done, earliest first.

    The one overdue rule: the escalation job climbs on it and writes the console's ``overdue``
    lines from it, and the API's per-incident ``overdue`` field and stats are
    :func:`overdue_step_names` of it, so the console never shows another answer than the job acts
    on. A step is done when its milestone is recorded (an action or 登记 sets it, 审核退回 clears
    only the closure), not by the state alone; it is nobody's to do while paused (closed, or
    sign-off while returned to the duty desk); a merged incident has none."""
    paused = _PAUSED.get(incident.state, frozenset())
    if incident.merged_into is not None:
        return []
    out = [(step, due) for step, due in incident.deadlines.items()
           if due <= now and step not in incident.milestones and step not in paused]
    return sorted(out, key=lambda item: item[1])


def overdue_step_names(incident: Incident, now: dt.datetime) -> list[str]:
    """The names of :func:`overdue_steps` (what the API lists as an incident's ``overdue``)."""
    return [step for step, _ in overdue_steps(incident, now)]


def target_rung(deadline: dt.datetime, now: dt.datetime, policy: EscalationPolicy) -> int:
    """The highest rung due at ``now`` (-1 when the deadline has not passed)."""
    rung = -1
    for index, after in enumerate(policy.after):
        if now >= deadline + after:
            rung = index
    return rung


def evaluate(state: EscalationState, now: dt.datetime, policy: EscalationPolicy) -> Evaluation:
    """Climb to the rung due at ``now`` and/or repeat the current rung if it is unacknowledged."""
    new = replace(state)
    events: list[EscalationEvent] = []
    goal = target_rung(state.deadline, now, policy)
    if goal > state.rung:
        for rung in range(state.rung + 1, goal + 1):
            events.append(EscalationEvent(rung, policy.ladder[rung], "climb", state.deadline + policy.after[rung],
                                          notify=rung == goal))
        new.rung = goal
        new.last_notified_at = now
        new.notify_count += 1
    elif (new.rung >= 0 and new.acknowledged_rung < new.rung and new.last_notified_at is not None
          and now - new.last_notified_at >= policy.repeat):
        # Only one repeat however long the job was down: a backlog of identical nags helps nobody.
        missed = int((now - new.last_notified_at) / policy.repeat)
        due = new.last_notified_at + policy.repeat * missed
        events.append(EscalationEvent(new.rung, policy.ladder[new.rung], "repeat", due, notify=True))
        new.last_notified_at = now
        new.notify_count += 1
    return Evaluation(new, events)


def acknowledge(state: EscalationState, by: str, now: dt.datetime) -> EscalationState:
    """Acknowledge the current rung: its repeats stop (a later climb notifies again)."""
    return replace(state, acknowledged_rung=state.rung, acknowledged_at=now, acknowledged_by=by)

