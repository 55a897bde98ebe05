"""Hand-over (交接班) at each shift change: what the outgoing shift passes on, and who took it.

At the start of a shift the duty job writes the hand-over note once: the daily duty report of
the day (built by :mod:`briefing`, referred to by its key), the open incidents, the pages nobody
has acknowledged yet and the rota's gaps ahead; the outgoing officer adds free-text remarks, the
incoming officer (or the shift's backup) acknowledges it in the console. Not acknowledged within
``handover_ack_minutes`` (the pack's ``[rota]``), the incoming shift's backup is paged, once.

The note is written in the first ``handover_window_hours`` of a shift; after downtime only the
shift on duty now can get one, and one long under way gets none: missed hand-overs are not replayed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from alerts.acting import acting_user
from alerts.config import AlertsConfig
from alerts.paging import HANDLED, page_recipients
from alerts.rota import gaps, on_duty
from core.actors import SYSTEM
from core.duty import HandoverState, PageState, Shift, Tier
from core.models import Grade
from core.timeutil import to_local
from storage.sql import Tx


@dataclass(slots=True)
class HandoverReport:
    """What one hand-over pass did."""

    written: int = 0
    late_paged: int = 0


def handover_content(tx: Tx, config: AlertsConfig, outgoing: Shift | None, incoming: Shift,
                     now: dt.datetime) -> dict[str, Any]:
    """The note's content: the report's key, open incidents (gravest first), pages not yet
    acknowledged, incidents opened in the outgoing shift, and gaps in the rota ahead."""
    day = f"{to_local(incoming.starts_at):%Y-%m-%d}"
    open_items = sorted((i for i in tx.active_incidents() if i.state not in HANDLED),
                        key=lambda i: (-i.grade.rank, i.opened_at))
    pending = tx.list_pages(PageState.PAGING)
    ahead = tx.shifts_between(now, now + dt.timedelta(days=config.rota.gap_warn_days + 2))
    since = outgoing.starts_at if outgoing else incoming.starts_at - dt.timedelta(hours=24)
    return {
        "report": {"key": day, "url": f"/api/briefings/{day}?format=html"},
        "open_items": [{"id": i.id, "title": i.title, "grade": i.grade.value, "grade_label": i.grade.label,
                        "state": i.state.value, "state_label": i.state.label, "unit": i.unit,
                        "opened_at": i.opened_at.isoformat()} for i in open_items[:100]],
        "open_count": len(open_items),
        "opened_in_shift": [i.id for i in open_items if i.opened_at >= since],
        "unacked_pages": [{"page_id": p["id"], "incident_id": p["incident_id"], "tier": p["tier"],
                           "person": p["person"], "opened_at": p["opened_at"].isoformat()} for p in pending],
        "gaps": [{"from": a.isoformat(), "until": b.isoformat()}
                 for a, b in gaps(ahead, now, now + dt.timedelta(days=config.rota.gap_warn_days))],
    }


def run_handovers(tx: Tx, config: AlertsConfig, channels: Collection[str], now: dt.datetime) -> HandoverReport:
    """Write the note of the shift on duty at ``now`` (once), and page the backup of a shift
    whose note has waited too long."""
    report = HandoverReport()
    shifts = tx.shifts_between(now - dt.timedelta(days=2), now + dt.timedelta(minutes=1))
    incoming = on_duty(shifts, now)
    if incoming is not None and config.rota.handover_due(incoming.starts_at, now):
        earlier = [s for s in shifts if s.ends_at <= incoming.starts_at]
        outgoing = max(earlier, key=lambda s: s.ends_at) if earlier else None
        content = handover_content(tx, config, outgoing, incoming, now)
        handover_id = tx.add_handover(incoming, outgoing, content, now)
        if handover_id is not None:
            report.written += 1
            detail = {"handover_id": handover_id, "from": outgoing.primary.name if outgoing and outgoing.primary
                      else None, "to": incoming.primary.name if incoming.primary else None,
                      "open_items": content["open_count"], "unacked_pages": len(content["unacked_pages"])}
            tx.add_duty_log("handover", SYSTEM, now, shift_id=incoming.id, detail=detail)
            if content["gaps"]:  # warned at every shift change until the rota is filled
                tx.add_duty_log("gap", SYSTEM, now, shift_id=incoming.id, detail={"gaps": content["gaps"]})
            if incoming.primary is not None:
                _tell(tx, config, channels, incoming, Tier.PRIMARY, handover_id,
                      f"【交接班】{incoming.kind.label}开始：待办 {content['open_count']} 件，未确认呼叫 "
                      f"{len(content['unacked_pages'])} 个，请在控制台「值班」确认接班", now)
    for handover in tx.list_handovers(state=HandoverState.PENDING):
        if handover["late_paged_at"] is not None or now < handover["created_at"] + config.rota.handover_timeout:
            continue
        shift = tx.get_shift(handover["to_shift_id"])
        if shift is None or not tx.handover_late_paged(handover["id"], now):
            continue
        report.late_paged += 1
        tier = Tier.BACKUP if shift.backup else Tier.LEADER
        paged = shift.person(tier)
        tx.add_duty_log("handover_late", SYSTEM, now, shift_id=shift.id,
                        detail={"handover_id": handover["id"], "to": handover["to_name"], "paged": tier.value,
                                "person": paged.name if paged else None})
        _tell(tx, config, channels, shift, tier, handover["id"],
              f"【交接班超时】{handover['to_name'] or '值班员'} 未在 {config.rota.handover_ack_minutes:g} "
              f"分钟内确认接班，请{tier.label}到岗接班", now)
    return report


def _tell(tx: Tx, config: AlertsConfig, channels: Collection[str], shift: Shift, tier: Tier, handover_id: int,
          text: str, now: dt.datetime) -> None:
    """Queue a hand-over message for one tier of a shift (no incident: grouped by address alone)."""
    person = shift.person(tier)
    if person is None:
        return
    mention = f" @{person.phone}" if person.phone else ""
    for rcpt in page_recipients(person, config.contacts, channels):
        tx.enqueue_message(incident_id=None, channel=rcpt.channel, recipient=rcpt.name, address=rcpt.address,
                           grade=Grade.ORANGE.value,
                           subject=f"交接班 #{handover_id} {shift.duty_date} {shift.kind.label}",
                           line=f"{to_local(now):%m-%d %H:%M} {text}{mention}", event="handover", now=now,
                           not_before=now, group=dt.timedelta(0))


def accept(tx: Tx, handover_id: int, actor: str, now: dt.datetime, *, version: int | None = None) -> bool:
    """The incoming officer (or the backup) takes the hand-over; False when they are not the
    shift's, or it was taken already; ActorRefused when ``actor`` may not (``alerts.acting``)."""
    acting_user(tx, actor, "handover", version=version)
    if not tx.accept_handover(handover_id, actor, now):
        return False
    found = tx.get_handover(handover_id)
    assert found is not None
    tx.add_duty_log("handover_ack", actor, now, shift_id=found["to_shift_id"],
                    detail={"handover_id": handover_id,
                            "after_minutes": round((now - found["created_at"]).total_seconds() / 60, 1)})
    return True


def remark(tx: Tx, handover_id: int, remarks: str, actor: str, *, version: int | None = None) -> bool:
    """The outgoing officer's remarks (交班备注) while the hand-over is not yet taken; False when
    ``actor`` is not the outgoing officer or it was taken; ActorRefused as for :func:`accept`."""
    acting_user(tx, actor, "handover", version=version)
    return tx.handover_remarks(handover_id, remarks, actor)
