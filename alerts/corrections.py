"""The duty desk's corrections of what the machine concluded: 误报 (not ours), 修正 (a post's unit,
topic or polarity), 拆分 (posts out into a new incident, the inverse of 并单), 移帖 (posts into
the incident they belong to), and 撤销更正 (undo the latest of these).

Built like the workflow actions (alerts.actions): the transition is checked by
:mod:`alerts.workflow` (pure), and one transaction reads the incident (checked against the
actor), applies the change, writes the audit entry, the labels (alerts.labelling) and the
console's feed line. A refused correction changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alerts.actions import _acting, _audit, _pair
from alerts.config import AlertsConfig
from alerts.deadlines import compute_deadlines
from alerts.detection import regrade
from alerts.grading import Reach, add_post, grade_incident, source_tier
from alerts.labelling import in_incident, incident_post_ids, not_ours, write_labels
from alerts.workflow import (
    check_edit,
    check_merge,
    check_posts,
    check_scope,
    last_undoable,
    require_text,
    target_state,
)
from core.errors import WorkflowError
from core.models import AuditEntry, Correction, Incident, PostRole, State
from core.timeutil import utcnow
from storage.sql import SqlStore, Tx

TITLE_CHARS = 40


def _roles(tx: Tx, incident_id: int) -> dict[int, PostRole]:
    return {p.id: role for p, _a, role in tx.incident_post_rows(incident_id) if p.id is not None}


def _refresh_reach(tx: Tx, config: AlertsConfig, incident: Incident) -> None:
    """The reach of what the incident now holds (its reports), after posts left or came."""
    assert incident.id is not None
    reach = Reach()
    for post, analysis, role in tx.incident_post_rows(incident.id):
        if analysis is not None and role is PostRole.REPORT:
            add_post(reach, post, analysis, source_tier(post, config.grading))
    incident.reach = reach.to_dict()


def dismiss(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, scope: str | None,
            reason: str | None, post_ids: list[int] | None = None, now: dt.datetime | None = None, *,
            version: int | None = None) -> Incident:
    """误报/不相关: the incident (or only ``post_ids`` of it) is not about the environment
    (``scope`` environment) or not in this jurisdiction (``jurisdiction``). A dismissed incident
    is closed and its clocks stop; dismissed posts leave it. Every post concerned is labelled
    not relevant. A later post like a dismissed incident is absorbed by it, not reopening it nor
    opening a new one (alerts.grouping): the officer said "not ours" once, for every hour after."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "dismiss", version) as (tx, incident):
        assert incident.id is not None
        why = check_scope(scope)
        text = require_text(reason, "误报理由")
        rows = tx.incident_post_rows(incident.id)
        before = incident.state
        if post_ids:
            target_state("dismiss_posts", incident)
            roles = {p.id: r for p, _a, r in rows if p.id is not None}
            chosen = check_posts(post_ids, list(roles), "误报", keep_one=True)
            _audit(tx, incident, actor, "dismiss_posts", before, now,
                   {"scope": why, "reason": text, "post_ids": chosen, "posts": len(chosen),
                    "roles": {str(p): roles[p].value for p in chosen}})
            tx.detach_posts(incident.id, chosen)
            _refresh_reach(tx, config, incident)
        else:
            incident.state = target_state("dismiss", incident)
            chosen = [p.id for p, _a, _r in rows if p.id is not None]
            incident.milestones["closed"] = incident.milestones["dismissed"] = now  # alerts.grouping.dismissed
            tx.end_escalations(incident.id, now)
            _audit(tx, incident, actor, "dismiss", before, now, {"scope": why, "reason": text, "posts": len(chosen)})
        for post, analysis, _role in rows:
            if post.id in chosen:
                write_labels(tx, Correction.NOT_RELEVANT, incident, [post.id], not_ours(why, analysis), actor, now)
        incident.updated_at = now
        tx.update_incident(incident)
        tx.announce_change(incident, "dismiss", before.value, actor, now)
        return incident


def edit_post(store: SqlStore, config: AlertsConfig, incident_id: int, post_id: int | None, actor: str, *,
              unit_code: str | None = None, topic: str | None = None, polarity: str | None = None,
              reason: str | None = None, now: dt.datetime | None = None, version: int | None = None) -> Incident:
    """修正: set a post's unit, topic or polarity. Only a label (the analysis stays what the
    machine said, so its accuracy can be measured); the incident does not move (改派 does that)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "edit", version) as (tx, incident):
        assert incident.id is not None
        target_state("edit", incident)
        check_posts([post_id] if post_id else [], list(_roles(tx, incident.id)), "修正", keep_one=False)
        assert post_id is not None
        fields: dict[str, Any] = dict(check_edit(unit_code, topic, polarity, config.jurisdiction.units))
        if "unit_code" in fields:
            fields.update(relevant=True, unit=config.jurisdiction.units[fields["unit_code"]].name)
        _audit(tx, incident, actor, "edit", incident.state, now,
               {"post_id": post_id, **{k: v for k, v in fields.items() if k != "relevant"},
                "reason": (reason or "").strip() or None})
        write_labels(tx, Correction.EDITED, incident, [post_id], fields, actor, now)
        tx.announce_change(incident, "edit", incident.state.value, actor, now)
        return incident


def split(store: SqlStore, config: AlertsConfig, incident_id: int, post_ids: list[int] | None, actor: str,
          reason: str | None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """拆分: ``post_ids`` are about another matter; they leave for a new incident in the triage
    queue (the duty desk assigns it). Returns the new incident."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "split", version) as (tx, source):
        assert source.id is not None
        target_state("split", source)
        text = require_text(reason, "拆分理由")
        rows = tx.incident_post_rows(source.id)
        chosen = check_posts(post_ids, [p.id for p, _a, _r in rows if p.id is not None], "拆分", keep_one=True)
        moving = [(p, a) for p, a, _r in rows if p.id in chosen]
        first, first_analysis = moving[0]
        reach = Reach()
        for post, analysis in moving:
            if analysis is not None:
                add_post(reach, post, analysis, source_tier(post, config.grading))
        grade, reasons = grade_incident(reach, 1.0, config.grading)
        title = (first.title or first.text).strip().splitlines()[0][:TITLE_CHARS] if (first.title or first.text) \
            else f"拆分自事件 #{source.id}"
        new = Incident(title=title, unit=None, unit_code=None,
                       topic=first_analysis.topic if first_analysis is not None else source.topic, grade=grade,
                       state=State.NEW, opened_at=now, updated_at=now, department=None,
                       place=first_analysis.place if first_analysis is not None else None,
                       deadlines=compute_deadlines(config.jurisdiction.deadlines, grade, now),
                       grade_reasons=reasons, keywords=list(source.keywords), last_post_at=now,
                       reach=reach.to_dict())
        new_id = tx.insert_incident(new)
        tx.move_post_ids(source.id, new_id, chosen)
        _refresh_reach(tx, config, source)
        source.updated_at = now
        tx.update_incident(source)
        _audit(tx, source, actor, "split", source.state, now,
               {"into": new_id, "post_ids": chosen, "posts": len(chosen), "reason": text})
        tx.add_audit(AuditEntry(new_id, now, actor, "split_from", None, State.NEW.value,
                                {"from": source.id, "post_ids": chosen, "posts": len(chosen), "reason": text}))
        fresh = tx.get_incident(new_id)
        assert fresh is not None
        new = fresh
        write_labels(tx, Correction.SPLIT, new, chosen, in_incident(new), actor, now, audit_of=source.id)
        write_labels(tx, Correction.SPLIT, source, incident_post_ids(tx, source.id), in_incident(source), actor, now,
                     audit_of=source.id)
        tx.announce_change(source, "split", source.state.value, actor, now)
        tx.announce_change(new, "split", State.NEW.value, actor, now)
        return new


def move(store: SqlStore, config: AlertsConfig, incident_id: int, post_ids: list[int] | None, into: int | None,
         actor: str, reason: str | None, now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """移帖: ``post_ids`` belong to incident ``into`` (open); they move there. Returns the target."""
    now = now or utcnow()
    if into is None:
        raise WorkflowError("移帖需要指定目标事件")
    with store.begin() as tx:
        source, target = _pair(tx, incident_id, into, actor, "move", version)
        assert source.id is not None and target.id is not None
        target_state("move", source)
        check_merge(source, target)
        roles = _roles(tx, source.id)
        chosen = check_posts(post_ids, list(roles), "移帖", keep_one=True)
        text = (reason or "").strip() or None
        tx.move_post_ids(source.id, target.id, chosen)
        _refresh_reach(tx, config, source)
        source.updated_at = now
        tx.update_incident(source)
        _audit(tx, source, actor, "move", source.state, now,
               {"into": target.id, "post_ids": chosen, "posts": len(chosen), "reason": text})
        tx.add_audit(AuditEntry(target.id, now, actor, "move_in", target.state.value, target.state.value,
                                {"from": source.id, "post_ids": chosen, "posts": len(chosen), "reason": text}))
        write_labels(tx, Correction.MOVED, target, chosen, in_incident(target), actor, now, audit_of=source.id)
        refreshed = tx.get_incident(target.id)
        assert refreshed is not None
        target = refreshed
        _refresh_reach(tx, config, target)
        target.updated_at = now
        regrade(tx, config, target, now, actor)
        tx.update_incident(target)
        tx.announce_change(source, "move", source.state.value, actor, now)
        tx.announce_change(target, "move", target.state.value, actor, now)
        return target


def undo(store: SqlStore, config: AlertsConfig, incident_id: int, actor: str, reason: str | None = None,
         now: dt.datetime | None = None, *, version: int | None = None) -> Incident:
    """撤销更正: take back the incident's latest correction (误报, 拆分, 移帖, 修正) not yet undone:
    the incident and its posts are as before it, and its labels are retracted (they teach nothing)."""
    now = now or utcnow()
    with _acting(store, incident_id, actor, "undo", version) as (tx, incident):
        assert incident.id is not None
        target_state("undo", incident)
        entry = last_undoable(incident, tx.audit_for(incident.id))
        assert entry.id is not None
        before = incident.state
        posts = [int(p) for p in entry.detail.get("post_ids", [])]
        if entry.action == "dismiss":
            incident.state = State(entry.from_state or State.NEW.value)
            incident.milestones.pop("closed", None)
            incident.milestones.pop("dismissed", None)
        elif entry.action == "dismiss_posts":
            roles = entry.detail.get("roles", {})
            for pid in posts:
                tx.attach_post(incident.id, pid, now, PostRole(roles.get(str(pid), PostRole.REPORT.value)))
            _refresh_reach(tx, config, incident)
        elif entry.action in ("split", "move"):
            other = tx.get_incident(int(entry.detail["into"]))
            if other is None or other.id is None:
                raise WorkflowError(f"事件 #{entry.detail['into']} 已不存在，不能撤销")
            if entry.action == "split" and (other.state is not State.NEW or other.post_count != len(posts)):
                raise WorkflowError(f"拆出的事件 #{other.id} 已有新的处理或新帖，不能撤销拆分；请用并单")
            other_id = other.id
            tx.move_post_ids(other_id, incident.id, posts)
            _refresh_reach(tx, config, incident)
            refreshed = tx.get_incident(other_id)
            assert refreshed is not None
            other = refreshed
            other_before = other.state
            if entry.action == "split":
                other.state, other.merged_into = State.CLOSED, incident.id
                other.milestones["closed"] = now
                tx.end_escalations(other_id, now)
            else:
                _refresh_reach(tx, config, other)
            other.updated_at = now
            tx.update_incident(other)
            tx.add_audit(AuditEntry(other_id, now, actor, "undo", other_before.value, other.state.value,
                                    {"undid": entry.id, "action": entry.action, "from": incident.id}))
            tx.announce_change(other, "undo", other_before.value, actor, now)
        retracted = tx.retract_labels(entry.id, now)
        incident.updated_at = now
        tx.update_incident(incident)
        _audit(tx, incident, actor, "undo", before, now,
               {"undid": entry.id, "action": entry.action, "labels": retracted,
                "reason": (reason or "").strip() or None})
        tx.announce_change(incident, "undo", before.value, actor, now)
        return incident
