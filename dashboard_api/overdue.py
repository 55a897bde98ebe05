"""Which deadlines of an incident have passed without the step being done (pure)."""

from __future__ import annotations

import datetime as dt

from core.models import Incident, State

# A step is done once the incident has reached one of these states.
DONE_IN: dict[str, frozenset[State]] = {
    "sign_off": frozenset({State.SIGNED, State.RESPONDED, State.RESOLVED, State.CLOSED}),
    "response": frozenset({State.RESPONDED, State.RESOLVED, State.CLOSED}),
    "closure": frozenset({State.RESOLVED, State.CLOSED}),
}
FINISHED = frozenset({State.RESOLVED, State.CLOSED})


def overdue_steps(incident: Incident, now: dt.datetime) -> list[str]:
    """Steps whose deadline is before ``now`` and that the incident's state has not reached."""
    return [step for step, due in incident.deadlines.items()
            if step in DONE_IN and due < now and incident.state not in DONE_IN[step]]
