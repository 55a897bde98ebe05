"""Handling by unit (属地办理情况), the accountability table, computed from the audit log (pure).

The audit log is cut into *episodes*: each (re)assignment of an incident to a unit (交办, 改派,
reopening to the same unit) starts one, and it lasts until the next one. Within an episode the
unit's steps are 签收 (sign), 回应 (respond) and 办结 (resolve); each is judged against its
deadline: on time, late, overdue (not done and past due) or not yet due. The deadline of the
incident's latest episode is the stored one (it includes extensions and stricter deadlines after
a grade rise); an earlier episode's is recomputed from the deadline policy for the grade the
incident had when it was assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from alerts.deadlines import compute_deadlines
from briefing.records import IncidentRecord
from core.models import AuditEntry, Grade, State

# Step → the action that does it.
UNIT_STEPS = {"sign_off": "sign", "response": "respond", "closure": "resolve"}
STARTS = ("assign", "reassign")


@dataclass(slots=True, frozen=True)
class DepartmentOpinion:
    """A department's 会办意见 on an incident copied to it (alerts.copies), as it wrote it."""

    at: dt.datetime
    department: str
    actor: str
    text: str


def department_opinions(record: IncidentRecord, as_of: dt.datetime) -> list[DepartmentOpinion]:
    """The departments' 会办意见 up to ``as_of``, oldest first: the copies' replies in the audit log
    (the one record of what each said; ``incident_copies`` only counts them)."""
    return [DepartmentOpinion(e.at, str(e.detail.get("department") or e.detail.get("department_code") or "—"),
                              e.actor, str(e.detail.get("opinion") or ""))
            for e in record.audit if e.action == "reply" and e.at <= as_of]


@dataclass(slots=True)
class StepOutcome:
    """How one step of one episode went."""

    step: str
    deadline: dt.datetime
    done_at: dt.datetime | None
    status: str  # on_time | late | overdue | not_due


@dataclass(slots=True)
class Episode:
    """One unit's turn with one incident."""

    incident_id: int
    title: str
    unit: str
    start: dt.datetime
    end: dt.datetime  # next episode, merge, or the as-of time
    latest: bool  # the incident's latest episode as of the as-of time
    returned_at: dt.datetime | None = None
    steps: list[StepOutcome] = field(default_factory=list)


def grade_at(record: IncidentRecord, at: dt.datetime) -> Grade:
    """The incident's grade at ``at``, from the audit log (opening grade, then raises and overrides)."""
    grade = record.incident.grade
    for entry in record.audit:
        if entry.at > at:
            break
        if entry.action == "open" and entry.detail.get("grade"):
            grade = Grade(entry.detail["grade"])
        elif entry.action in ("grade_raised", "grade_override") and entry.detail.get("to_grade"):
            grade = Grade(entry.detail["to_grade"])
    return grade


def state_at(record: IncidentRecord, at: dt.datetime) -> State | None:
    """The incident's workflow state at ``at`` (None: not opened yet)."""
    state: State | None = None
    for entry in record.audit:
        if entry.at > at:
            break
        if entry.to_state:
            state = State(entry.to_state)
    if state is None and record.incident.opened_at <= at:
        return record.incident.state if not record.audit else State.NEW
    return state


def _starts(audit: Sequence[AuditEntry]) -> list[tuple[int, str]]:
    """(index in the audit log, unit name) of each episode start."""
    out, unit = [], None
    for i, entry in enumerate(audit):
        if entry.action in STARTS and entry.detail.get("unit"):
            unit = str(entry.detail["unit"])
            out.append((i, unit))
        elif entry.action == "reopen" and entry.to_state == State.ASSIGNED.value and unit:
            out.append((i, unit))
    return out


def episodes(record: IncidentRecord, as_of: dt.datetime, policy: Mapping[str, Mapping[str, float]]) -> list[Episode]:
    """The incident's episodes that started by ``as_of``, each step judged as of ``as_of``."""
    audit = [e for e in record.audit if e.at <= as_of]
    starts = _starts(record.audit)
    visible = [(i, u) for i, u in starts if record.audit[i].at <= as_of]
    out = []
    for n, (index, unit) in enumerate(visible):
        start = record.audit[index].at
        stop = visible[n + 1][0] if n + 1 < len(visible) else len(audit)
        window = audit[index + 1:stop]
        merged = next((e.at for e in window if e.action == "merge"), None)
        end = record.audit[stop].at if stop < len(audit) else (merged or as_of)
        latest = n == len(starts) - 1
        if latest:
            deadlines = record.incident.deadlines
        else:
            grade = grade_at(record, start)
            deadlines = compute_deadlines(policy, grade, start, record.incident.complex)
        assert record.incident.id is not None
        episode = Episode(record.incident.id, record.incident.title, unit, start, end, latest)
        episode.returned_at = next((e.at for e in window if e.action == "return"), None)
        for step, action in UNIT_STEPS.items():
            due = deadlines.get(step)
            if due is None:
                continue
            done = _done_at(window, action)
            limit = min(end, episode.returned_at or end)
            if done is not None:
                status = "on_time" if done <= due else "late"
            elif due <= limit and state_at(record, limit) is not State.CLOSED:
                status = "overdue"
            else:
                status = "not_due"
            episode.steps.append(StepOutcome(step, due, done, status))
        out.append(episode)
    return out


def _done_at(window: Sequence[AuditEntry], action: str) -> dt.datetime | None:
    """When the step was done in the episode; a resolution sent back (审核退回) is undone."""
    done = None
    for entry in window:
        if entry.action == action and done is None:
            done = entry.at
        elif action == "resolve" and entry.action == "reject":
            done = None
    return done


@dataclass(slots=True)
class UnitHandling:
    """One row of the accountability table."""

    unit: str
    assigned: int = 0  # episodes started in the period
    sign_due: int = 0
    sign_on_time: int = 0
    response_due: int = 0
    response_on_time: int = 0
    closure_due: int = 0
    closure_on_time: int = 0
    overdue: int = 0  # episodes with a step late or overdue
    returned: int = 0  # returns (退单) by the unit in the period

    @property
    def due(self) -> int:
        """Steps that fell due (or were done) in the period's episodes."""
        return self.sign_due + self.response_due + self.closure_due

    @property
    def on_time(self) -> int:
        """Steps done by their deadline."""
        return self.sign_on_time + self.response_on_time + self.closure_on_time

    @property
    def rate(self) -> float | None:
        """On-time rate over due steps; None when nothing fell due (not 100%: nothing to judge)."""
        return self.on_time / self.due if self.due else None


@dataclass(slots=True, frozen=True)
class OverdueItem:
    """A step past its deadline and not done, as of the report time."""

    incident_id: int
    title: str
    unit: str
    step: str
    deadline: dt.datetime
    hours_over: float


def handling_by_unit(records: Iterable[IncidentRecord], start: dt.datetime, end: dt.datetime, as_of: dt.datetime,
                     policy: Mapping[str, Mapping[str, float]],
                     units: Sequence[str] = ()) -> tuple[list[UnitHandling], list[OverdueItem]]:
    """The accountability table (episodes assigned in [start, end), judged as of ``as_of``) and the
    list of steps overdue at ``as_of`` (whenever they were assigned). Units with nothing to report
    are left out; rows follow the order of ``units`` (the pack's), then any other unit by name."""
    rows: dict[str, UnitHandling] = {}
    overdue: list[OverdueItem] = []
    for record in records:
        for entry in record.audit:
            if entry.action == "return" and start <= entry.at < end and entry.at <= as_of:
                name = str(entry.detail.get("unit") or record.incident.unit or "未定属地")
                rows.setdefault(name, UnitHandling(name)).returned += 1
        for ep in episodes(record, as_of, policy):
            if start <= ep.start < end:
                row = rows.setdefault(ep.unit, UnitHandling(ep.unit))
                row.assigned += 1
                for outcome in ep.steps:
                    if outcome.status == "not_due":
                        continue
                    prefix = {"sign_off": "sign", "response": "response", "closure": "closure"}[outcome.step]
                    setattr(row, f"{prefix}_due", getattr(row, f"{prefix}_due") + 1)
                    if outcome.status == "on_time":
                        setattr(row, f"{prefix}_on_time", getattr(row, f"{prefix}_on_time") + 1)
                if any(o.status in ("late", "overdue") for o in ep.steps):
                    row.overdue += 1
            if ep.latest and ep.returned_at is None and ep.end >= as_of:
                for outcome in ep.steps:
                    if outcome.status == "overdue":
                        overdue.append(OverdueItem(ep.incident_id, ep.title, ep.unit, outcome.step, outcome.deadline,
                                                   round((as_of - outcome.deadline).total_seconds() / 3600, 1)))
    order = {name: i for i, name in enumerate(units)}
    table = sorted(rows.values(), key=lambda r: (order.get(r.unit, len(order)), r.unit))
    overdue.sort(key=lambda o: (-o.hours_over, o.incident_id))
    return table, overdue


def total_row(rows: Iterable[UnitHandling]) -> UnitHandling:
    """The 合计 row."""
    total = UnitHandling("合计")
    for row in rows:
        for name in ("assigned", "sign_due", "sign_on_time", "response_due", "response_on_time", "closure_due",
                     "closure_on_time", "overdue", "returned"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total
