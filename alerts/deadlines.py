"""Deadlines of an incident from the jurisdiction's policy for its grade (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from alerts.workdays import add_workdays
from core.models import Grade, Step

# Step names, in the order they fall due.
STEPS = tuple(s.value for s in Step)

# Steps whose clock is set outside the grade policy: the upper level's 反馈 deadline of an item
# handed down (alerts.inbound), and the report-up clocks that sendings move (alerts.reporting).
EXTERNAL_STEPS = frozenset({Step.HANDBACK.value, Step.FIRST_REPORT.value, Step.FOLLOWUP_REPORT.value})


def compute_deadlines(policy: Mapping[str, Mapping[str, float]], grade: Grade,
                      start: dt.datetime, complex_case: bool = False) -> dict[str, dt.datetime]:
    """Deadlines for each step the grade's policy names, counted from ``start``.

    ``policy[grade]`` has ``<step>_hours`` (clock hours) or ``<step>_workdays`` (working days);
    a complex case uses ``<step>_complex_hours`` / ``<step>_complex_workdays`` where given.
    """
    rules = policy.get(grade.value) or policy.get("blue") or {}
    out: dict[str, dt.datetime] = {}
    for step in STEPS:
        if complex_case and f"{step}_complex_hours" in rules:
            out[step] = start + dt.timedelta(hours=float(rules[f"{step}_complex_hours"]))
        elif complex_case and f"{step}_complex_workdays" in rules:
            out[step] = add_workdays(start, float(rules[f"{step}_complex_workdays"]))
        elif f"{step}_hours" in rules:
            out[step] = start + dt.timedelta(hours=float(rules[f"{step}_hours"]))
        elif f"{step}_workdays" in rules:
            out[step] = add_workdays(start, float(rules[f"{step}_workdays"]))
    return out


def raise_deadlines(current: Mapping[str, dt.datetime], policy: Mapping[str, Mapping[str, float]],
                    grade: Grade, at: dt.datetime, done: Collection[str] = (),
                    complex_case: bool = False) -> dict[str, dt.datetime]:
    """Deadlines after the grade rises at ``at``: the stricter grade's clock starts now, a step
    already due earlier keeps its earlier deadline, steps already done keep theirs unchanged."""
    fresh = compute_deadlines(policy, grade, at, complex_case)
    out = dict(current)
    for step, due in fresh.items():
        if step in done:
            continue
        out[step] = min(due, current[step]) if step in current else due
    return out


def lower_deadlines(current: Mapping[str, dt.datetime], policy: Mapping[str, Mapping[str, float]],
                    grade: Grade, opened_at: dt.datetime, done: Collection[str] = (),
                    complex_case: bool = False) -> dict[str, dt.datetime]:
    """Deadlines after the grade is lowered: the laxer grade's policy counted from the opening
    (steps the lower grade lacks are dropped, steps already done keep theirs), and every
    :data:`EXTERNAL_STEPS` deadline kept as it is. The upper level set the 反馈 deadline and a
    lower grade here does not move it; a report-up step once owed stays owed (the upper level
    was told, or expects to be, at the grade it was), and its clock is where the sendings left it,
    not where the opening would put it."""
    fresh = compute_deadlines(policy, grade, opened_at, complex_case)
    out = {k: current[k] if k in done and k in current else due for k, due in fresh.items()}
    out.update({k: due for k, due in current.items() if k in EXTERNAL_STEPS})
    return out


def restart_step(current: Mapping[str, dt.datetime], policy: Mapping[str, Mapping[str, float]], grade: Grade,
                 step: str, at: dt.datetime, complex_case: bool = False) -> dict[str, dt.datetime]:
    """Deadlines with one step's clock restarted at ``at`` (sign-off after a reassignment)."""
    out = dict(current)
    fresh = compute_deadlines(policy, grade, at, complex_case)
    if step in fresh:
        out[step] = fresh[step]
    return out
