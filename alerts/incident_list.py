"""The console's incident list as one rule: the stored filters plus ``overdue``, which depends on
the clock and the state together. ``GET /api/incidents``, its export and ``ecowatch export
incidents`` all ask this module, so a list and its export never disagree about what matched."""

from __future__ import annotations

import dataclasses
import datetime as dt

from alerts.escalation import overdue_step_names
from core.models import Incident, State
from storage.incident_queries import IncidentFilters, IncidentReads


def select_incidents(tx: IncidentReads, filters: IncidentFilters, overdue: bool | None, now: dt.datetime,
                     limit: int | None, offset: int = 0, *, listed: bool = False) -> tuple[int, list[Incident]]:
    """How many incidents match and the page ``offset … offset+limit`` of them (all when ``limit``
    is None), newest first. ``overdue`` True/False keeps only those with/without a step past its
    deadline at ``now``; None ignores it. ``listed``: only what a list shows is read
    (``listed_incidents``), for the console's list; an export reads whole incidents."""
    read = tx.listed_incidents if listed else tx.find_incidents
    if overdue is None:
        items = read(filters, limit, offset)
        return tx.count_incidents(filters), items
    if overdue:  # a closed incident is never overdue: leave it out before reading
        states = [s for s in (filters.states or [s.value for s in State]) if s != State.CLOSED]
        filters = dataclasses.replace(filters, states=states or ["-"])
    every = [i for i in read(filters, None) if bool(overdue_step_names(i, now)) == overdue]
    return len(every), every[offset:] if limit is None else every[offset:offset + limit]
