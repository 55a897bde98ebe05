"""Deadlines of an incident from the jurisdiction's policy for its grade (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from alerts.workdays import add_workdays
from core.models import Grade

# Step names, in the order they fall due.
STEPS = ("report", "sign_off", "response", "press", "closure")


def compute_deadlines(policy: Mapping[str, Mapping[str, float]], grade: Grade,
                      start: dt.datetime) -> dict[str, dt.datetime]:
    """Deadlines for each step the grade's policy names, counted from ``start``.

    ``policy[grade]`` has ``<step>_hours`` (clock hours) or ``<step>_workdays`` (working days).
    """
    rules = policy.get(grade.value) or policy.get("blue") or {}
    out: dict[str, dt.datetime] = {}
    for step in STEPS:
        if f"{step}_hours" in rules:
            out[step] = start + dt.timedelta(hours=float(rules[f"{step}_hours"]))
        elif f"{step}_workdays" in rules:
            out[step] = add_workdays(start, float(rules[f"{step}_workdays"]))
    return out
