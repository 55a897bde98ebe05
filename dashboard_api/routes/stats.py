"""Statistics: counts and trends by unit, topic, grade, state and day; per-unit on-time rates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from alerts.desk_accuracy import DeskAccuracy, GroupAccuracy, desk_accuracy
from alerts.escalation import overdue_step_names
from core.jurisdiction import Jurisdiction
from core.models import CORRECTION_LABELS, TOPIC_LABELS, TOPICS, Grade, Incident, State
from core.timeutil import SHANGHAI, utcnow
from dashboard_api.deps import JurisdictionDep, ReaderDep, StoreDep, aware_time, scoped_unit
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import AccuracyPublic, CountPublic, StatsPublic, UnitStatsPublic
from storage.incident_queries import IncidentFilters

router = APIRouter(prefix="/api/stats", tags=["stats"])

# The on-time rates read when an incident first reached a state that completes the step (from
# the audit log); an incident counts as open until its unit has resolved it.
_REACHED = {"sign_off": (State.SIGNED, State.RESPONDED, State.RESOLVED, State.CLOSED),
            "response": (State.RESPONDED, State.RESOLVED, State.CLOSED)}
_FINISHED = frozenset({State.RESOLVED, State.CLOSED})


def on_time_rate(items: list[Incident], step: str, reached: dict[int, dt.datetime], now: dt.datetime) -> float | None:
    """Of the incidents whose ``step`` deadline has fallen due or been met, the share met in time."""
    met = due = 0
    for incident in items:
        deadline = incident.deadlines.get(step)
        if deadline is None:
            continue
        done_at = reached.get(incident.id or 0)
        if done_at is None and deadline >= now:
            continue  # still running: neither on time nor late yet
        due += 1
        met += int(done_at is not None and done_at <= deadline)
    return round(met / due, 4) if due else None


NO_UNIT = "待分拣（属地不明）"


def _accuracy_rows(groups: list[GroupAccuracy], name: Mapping[str | None, str]) -> list[AccuracyPublic]:
    return [AccuracyPublic(key=g.key, label=name.get(g.key, g.key or "—"), posts=g.posts, corrected=g.corrected,
                           accuracy=g.accuracy) for g in groups]


def with_learning(stats: StatsPublic, found: DeskAccuracy, jurisdiction: Jurisdiction) -> StatsPublic:
    """The statistics with the desk's corrections and the accuracy fields (alerts.desk_accuracy)."""
    units: dict[str | None, str] = {code: unit.name for code, unit in jurisdiction.units.items()}
    units[None] = NO_UNIT
    stats.corrections = [CountPublic(key=k, label=CORRECTION_LABELS[k], count=n) for k, n in found.corrections.items()]
    stats.corrected_incidents = found.corrected_incidents
    stats.accuracy = found.field_accuracy()
    stats.accuracy_by_unit = _accuracy_rows(found.by_unit, units)
    topics: dict[str | None, str] = dict(TOPIC_LABELS.items())
    stats.accuracy_by_topic = _accuracy_rows(found.by_topic, topics)
    return stats


@router.get("", response_model=StatsPublic, responses=ERRORS)
def stats(user: ReaderDep, store: StoreDep, jurisdiction: JurisdictionDep,
          since: Annotated[dt.datetime | None, Query(description="opened at or after (default: 30 days ago)")] = None,
          until: Annotated[dt.datetime | None, Query(description="opened before (default: now)")] = None,
          unit_code: Annotated[str | None, Query(max_length=20)] = None) -> StatsPublic:
    """Counts of incidents opened in [since, until) by unit, topic, grade, state and day, and per
    unit the share of sign-off and response deadlines met; the duty desk's corrections made in the
    period by kind, and the analysis' accuracy against them per field, unit and topic. A unit
    user gets its own unit only."""
    now = utcnow()
    since, until = aware_time(since, "since"), aware_time(until, "until")
    until = until or now
    since = since or until - dt.timedelta(days=30)
    if since >= until:
        raise HTTPException(status_code=422, detail="since must be before until")
    filters = IncidentFilters(unit_code=scoped_unit(user, unit_code), since=since, until=until)
    with store.read() as tx:
        items = tx.find_incidents(filters, None)
        signed = tx.first_reached([s.value for s in _REACHED["sign_off"]], filters)
        responded = tx.first_reached([s.value for s in _REACHED["response"]], filters)
        ids = [i.id for i in items if i.id is not None]
        period_labels = tx.live_labels(since, until)
        posts = tx.posts_of_incidents(ids)
        post_labels = tx.labels_of([p for _i, p, _a in posts])
    if filters.unit_code is not None:  # a unit sees the corrections of its own incidents only
        scoped = set(ids)
        period_labels = [lab for lab in period_labels if lab.incident_id in scoped]
    learning = desk_accuracy(period_labels, posts, post_labels, {i.id: i.unit_code for i in items if i.id})
    by_unit: dict[str | None, list[Incident]] = {}
    for incident in items:
        by_unit.setdefault(incident.unit_code, []).append(incident)
    units = []
    for code, group in sorted(by_unit.items(), key=lambda kv: -len(kv[1])):
        unit = jurisdiction.unit(code)
        units.append(UnitStatsPublic(
            unit_code=code, unit=unit.name if unit else NO_UNIT, total=len(group),
            open=sum(i.state not in _FINISHED for i in group),
            overdue=sum(bool(overdue_step_names(i, now)) for i in group),
            sign_off_on_time_rate=on_time_rate(group, "sign_off", signed, now),
            response_on_time_rate=on_time_rate(group, "response", responded, now)))
    topics = Counter(i.topic for i in items)
    grades = Counter(i.grade.value for i in items)
    states = Counter(i.state.value for i in items)
    days = Counter(i.opened_at.astimezone(SHANGHAI).date().isoformat() for i in items)
    first_day = since.astimezone(SHANGHAI).date()
    last_day = (until - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    day_list: list[CountPublic] = []
    day = first_day
    while day <= last_day and len(day_list) < 400:  # every day, zeros included, so trends draw straight
        day_list.append(CountPublic(key=day.isoformat(), label=f"{day.month}/{day.day}",
                                    count=days.get(day.isoformat(), 0)))
        day += dt.timedelta(days=1)
    return with_learning(StatsPublic(
        since=since, until=until, total=len(items), by_unit=units,
        by_topic=[CountPublic(key=t, label=TOPIC_LABELS.get(t, t), count=topics.get(t, 0)) for t in TOPICS],
        by_grade=[CountPublic(key=g.value, label=g.label, count=grades.get(g.value, 0)) for g in Grade],
        by_state=[CountPublic(key=s.value, label=s.label, count=states.get(s.value, 0)) for s in State],
        by_day=day_list), learning, jurisdiction)
