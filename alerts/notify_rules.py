"""Who is told what, and when (pure): per-recipient routing, quiet hours, retry backoff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.jurisdiction import Department
from core.models import Grade, Incident
from core.timeutil import SHANGHAI

PUSH_CHANNELS = ("email", "wecom", "dingtalk")
FEED = "feed"
SMS = "sms"  # the SMS gateway: pages only, to the phone on the rota (alerts.paging)


@dataclass(slots=True, frozen=True)
class Recipient:
    """One address of one contact on one channel."""

    name: str
    role: str
    channel: str
    address: str


def _matches(contact: Mapping[str, Any], role: str, incident: Incident, department: Department | None) -> bool:
    if role not in contact.get("roles", []):
        return False
    if role == "unit" and contact.get("unit_codes"):
        return incident.unit_code in contact["unit_codes"]
    if role == "department" and contact.get("departments"):
        names = (department.code, department.name) if department is not None else (incident.department,)
        return any(name in contact["departments"] for name in names)
    return True


def recipients(event: str, incident: Incident, contacts: Sequence[Mapping[str, Any]],
               routes: Mapping[str, Sequence[str]], channels: Sequence[str],
               department: Department | None = None) -> list[Recipient]:
    """The addresses that hear about ``event`` for this incident.

    ``routes`` (the pack's ``[notify.routes]``) names the roles per event; a contact with that role
    (and, for unit/department contacts that list them, this incident's unit or department) gets the
    in-app feed plus every configured push channel it has an address for. ``department`` names the
    department meant instead of the incident's competent one (a copy to it, 抄送; a contact's
    ``departments`` may list its code or its name). A unit event on an incident without a unit goes
    to the duty desk instead: someone must always hear.
    """
    roles = list(routes.get(event, ["duty_desk"]))
    if "unit" in roles and not incident.unit_code and "duty_desk" not in roles:
        roles.append("duty_desk")
    out: list[Recipient] = []
    seen: set[tuple[str, str]] = set()
    for role in roles:
        for contact in contacts:
            if not _matches(contact, role, incident, department):
                continue
            name = str(contact.get("name", role))
            wanted = [(FEED, name)] + [(ch, str(contact[ch])) for ch in PUSH_CHANNELS if contact.get(ch)]
            for channel, address in wanted:
                if channel not in channels or (channel, address) in seen:
                    continue
                seen.add((channel, address))
                out.append(Recipient(name, role, channel, address))
    return out


def _parse_hm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_until(now: dt.datetime, quiet_hours: Sequence[str] | None, grade: Grade, channel: str) -> dt.datetime:
    """When a message may go out: ``now``, or the end of quiet hours (Asia/Shanghai) for a non-red
    push message. Red is never held back, and the in-app feed is always live."""
    if not quiet_hours or grade is Grade.RED or channel == FEED:
        return now
    start, end = (_parse_hm(t) for t in quiet_hours)
    local = now.astimezone(SHANGHAI)
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=SHANGHAI).astimezone(now.tzinfo or dt.UTC)


def backoff(attempts: int, base_seconds: float, cap_seconds: float = 3600.0) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1-based): base, 2×base, 4×base … up to ``cap``."""
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0)))
