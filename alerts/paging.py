"""Paging with acknowledgement (呼叫/确认): a major incident must reach a person who takes it.

The Alertmanager model: this job alone decides what fires. An active incident at or above the
grade that pages at that hour (the pack's ``[rota]``: 较大 by day, 重大 at night) opens one page;
the officer on duty is paged through every channel they have (the in-app feed, their email, their
WeCom/DingTalk group with @mobile, the SMS gateway), quiet hours ignored. Unacknowledged after
``ack_minutes`` the backup is paged, then the leader on call; a tier with nobody is skipped, and a
page that found nobody on the rota goes to the pack's leaders. Acknowledged (console or signed
link), a page is never sent again, for that incident, ever.

Messages go through the outbox (:mod:`storage.outbox`), so delivery is once-only, retried with
backoff and visible when it fails. The job works from stored times and climbs at most one tier a
pass, for the shift on duty *now*: after downtime the page that fell due is sent once, to whoever
is on duty at restart, not replayed tier by tier.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerts.acting import acting_user
from alerts.config import AlertsConfig
from alerts.notify import subject_of
from alerts.notify_rules import FEED, PUSH_CHANNELS, SMS, Recipient, recipients
from alerts.rota import RotaPolicy, on_duty, page_threshold
from core.actors import SYSTEM
from core.duty import TIERS, PageState, Person, Shift, Tier
from core.models import AuditEntry, Incident, State
from core.timeutil import to_local
from storage.sql import SqlStore, Tx

# Incidents past these states have been taken care of: nobody is woken for them, and a hand-over
# does not list them as open.
HANDLED = (State.RESOLVED, State.CLOSED)
# Signed acknowledgement links stay valid this long (a page is answered within hours, not days).
LINK_VALID = dt.timedelta(hours=24)

Linker = Callable[[int, str, dt.datetime], str | None]  # (page id, person, now) -> ack URL


@dataclass(slots=True, frozen=True)
class Target:
    """Who a page goes to next: a tier of the shift on duty, or (tier None) the pack's leaders."""

    tier: Tier | None
    person: Person | None
    shift: Shift | None


def next_target(current: Tier | None, started: bool, shift: Shift | None) -> Target | None:
    """The next tier after ``current`` with someone in it on ``shift`` (from the officer when the
    page has not been sent yet); the pack's leaders when the rota has nobody left; None when the
    ladder is done (the leader, or the fallback leaders, were paged)."""
    if started and (current is Tier.LEADER or current is None):
        return None
    order = TIERS[TIERS.index(current) + 1:] if started and current else TIERS
    for tier in order:
        person = shift.person(tier) if shift else None
        if person is not None:
            return Target(tier, person, shift)
    return Target(None, None, shift)


def climb_due(paged_at: dt.datetime, now: dt.datetime, policy: RotaPolicy) -> bool:
    """True once the tier paged at ``paged_at`` has had its time to acknowledge."""
    return now >= paged_at + policy.ack_timeout


def wants_page(incident: Incident, now: dt.datetime, policy: RotaPolicy) -> bool:
    """True when ``incident`` should page at ``now``: not done, graded high enough for the hour,
    and changed recently (a backlog found at first start is the desk's, not a night call)."""
    return (incident.state not in HANDLED and incident.merged_into is None
            and incident.grade.rank >= page_threshold(now, policy).rank
            and incident.updated_at >= now - dt.timedelta(hours=policy.lookback_hours))


def page_recipients(person: Person, contacts: Sequence[Mapping[str, Any]],
                    channels: Collection[str]) -> list[Recipient]:
    """Every address of one person: the in-app feed under their name, the push addresses of the
    contact of the same name, and their phone through the SMS gateway when one is configured."""
    out = [Recipient(person.name, "duty", FEED, person.name)] if FEED in channels else []
    for contact in contacts:
        if contact.get("name") != person.name:
            continue
        out += [Recipient(person.name, "duty", ch, str(contact[ch])) for ch in PUSH_CHANNELS
                if contact.get(ch) and ch in channels]
    if person.phone and SMS in channels:
        out.append(Recipient(person.name, "duty", SMS, person.phone))
    return list(dict.fromkeys(out))


# --- signed acknowledgement links -----------------------------------------------------------------

def _key(secret: str) -> bytes:
    return hashlib.sha256(b"ecowatch page ack\0" + secret.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_ack(secret: str, page_id: int, person: str, expires: dt.datetime) -> str:
    """A token that lets ``person`` acknowledge page ``page_id`` until ``expires``, without a login."""
    body = f"{page_id}.{_b64(person.encode())}.{int(expires.timestamp())}"
    return f"{body}.{_b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())}"


def read_ack(secret: str, token: str, now: dt.datetime) -> tuple[int, str] | None:
    """(page id, person) of a valid, unexpired token; None for anything else."""
    try:
        page, who, expires, sig = token.split(".")
        body = f"{page}.{who}.{expires}"
        good = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(good, sig) or int(expires) < now.timestamp():
            return None
        return int(page), base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def link_maker(secret: str, public_url: str | None) -> Linker:
    """The ack links of messages, under ``public_url`` (the console as officers reach it); no link
    when it is not set (the console's ack button still works)."""
    def link(page_id: int, person: str, now: dt.datetime) -> str | None:
        if not public_url:
            return None
        return f"{public_url.rstrip('/')}/ack?token={sign_ack(secret, page_id, person, now + LINK_VALID)}"

    return link


# --- the job ----------------------------------------------------------------------------------------

@dataclass(slots=True)
class PagingReport:
    """What one paging pass did."""

    opened: int = 0  # new pages
    paged: int = 0  # tiers paged (first pages and climbs)
    to_leaders: int = 0  # pages that found nobody on the rota and went to the pack's leaders
    messages: int = 0  # outbox messages queued


def run_paging(store: SqlStore, config: AlertsConfig, channels: Collection[str], now: dt.datetime,
               link: Linker | None = None) -> PagingReport:
    """One pass: open pages for incidents that call for one, climb those not acknowledged in time."""
    policy = config.rota
    report = PagingReport()
    with store.begin() as tx:
        shift = on_duty(tx.shifts_between(now - dt.timedelta(days=2), now + dt.timedelta(minutes=1)), now)
        paged = tx.paged_incidents()
        for incident in tx.active_incidents():
            if incident.id in paged or not wants_page(incident, now, policy):
                continue
            page_id = tx.open_page(incident.id or 0, incident.grade.value, now)
            if page_id is None:  # another worker opened it meanwhile
                continue
            report.opened += 1
            target = next_target(None, False, shift)
            assert target is not None
            _page(tx, config, channels, incident, page_id, target, now, link, report, last_paged_at=now)
        for page in tx.list_pages(PageState.PAGING):
            if page["incident_id"] not in paged or not climb_due(page["paged_at"], now, policy):
                continue  # opened in this pass, or still within its time to acknowledge
            current = Tier(page["tier"]) if page["tier"] else None
            target = next_target(current, True, shift)
            found = tx.get_incident(page["incident_id"])
            if target is None or found is None or found.state in HANDLED:
                continue
            _page(tx, config, channels, found, page["id"], target, now, link, report,
                  last_paged_at=page["paged_at"])
    return report


def _page(tx: Tx, config: AlertsConfig, channels: Collection[str], incident: Incident, page_id: int,
          target: Target, now: dt.datetime, link: Linker | None, report: PagingReport, *,
          last_paged_at: dt.datetime) -> None:
    """Send one tier's page: messages through the outbox, the page's tier, audit and duty-log lines."""
    assert incident.id is not None
    shift_id = target.shift.id if target.shift else None
    if not tx.page_climbed(page_id, target.tier, target.person.name if target.person else None, shift_id, now,
                           last_paged_at):
        return  # acknowledged meanwhile, or paged by another worker
    report.paged += 1
    when = f"{to_local(now):%m-%d %H:%M}"
    if target.person is not None and target.tier is not None:
        url = link(page_id, target.person.name, now) if link else None
        mention = f" @{target.person.phone}" if target.person.phone else ""
        how = f"：{url}" if url else "（控制台「值班」确认）"
        text = (f"{when} 【呼叫·{target.tier.label}】{target.person.name}{mention}：{incident.grade.label}舆情 "
                f"#{incident.id}「{incident.title[:40]}」请立即确认接警{how}")
        rcpts = page_recipients(target.person, config.contacts, channels)
        who = target.person.name
    else:  # nobody on the rota: the leaders of the pack hear it
        report.to_leaders += 1
        text = (f"{when} 【呼叫·无人值班】{incident.grade.label}舆情 #{incident.id}「{incident.title[:40]}」"
                f"未找到值班人员，请带班领导接警（控制台「值班」确认）")
        rcpts = recipients("page", incident, config.contacts, {"page": ["leader"]}, tuple(channels))
        who = "、".join(dict.fromkeys(r.name for r in rcpts)) or "（无联系人）"
    for rcpt in rcpts:
        tx.enqueue_message(incident_id=incident.id, channel=rcpt.channel, recipient=rcpt.name, address=rcpt.address,
                           grade=incident.grade.value, subject=subject_of(incident), line=text, event="page", now=now,
                           not_before=now, group=dt.timedelta(0))
        report.messages += 1
    detail = {"page_id": page_id, "tier": target.tier.value if target.tier else None, "person": who,
              "shift_id": shift_id, "grade": incident.grade.value, "addresses": len(rcpts)}
    tx.add_audits([AuditEntry(incident.id, now, SYSTEM, "page", incident.state.value, incident.state.value, detail)])
    tx.add_duty_log("page", SYSTEM, now, shift_id=shift_id, incident_id=incident.id, detail=detail)


def acknowledge(tx: Tx, page_id: int, actor: str, via: str, now: dt.datetime, *, version: int | None = None) -> bool:
    """Take a page (from the console or a signed link): the page stops, the audit log and the duty
    log say who took it. False when it was not paging (taken already, or no such page);
    ActorRefused when ``actor`` may not take pages (any more: ``alerts.acting``), checked here,
    in the transaction that writes, so a person disabled since their link was sent takes nothing."""
    acting_user(tx, actor, "page_ack", version=version)
    page = tx.get_page(page_id)
    if page is None or not tx.ack_page(page_id, actor, via, now):
        return False
    incident = tx.get_incident(page["incident_id"])
    state = incident.state.value if incident else None
    detail = {"page_id": page_id, "via": via, "tier": page["tier"],
              "after_minutes": round((now - page["opened_at"]).total_seconds() / 60, 1)}
    tx.add_audits([AuditEntry(page["incident_id"], now, actor, "page_ack", state, state, detail)])
    tx.add_duty_log("page_ack", actor, now, shift_id=page["shift_id"], incident_id=page["incident_id"], detail=detail)
    return True
