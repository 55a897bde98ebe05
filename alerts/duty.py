"""The duty desk's operations over the store: import a rota file, say who is on duty, make an
override (代班/换班). The CLI and the API both call these, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from alerts.acting import acting_user
from alerts.rota import RotaPolicy, gaps, next_shift, on_duty
from alerts.rota_file import ROLES_FOR, ParsedRota, normalise_phone, parse_rota, read_rows
from core.duty import Person, Shift, Tier
from core.errors import EcowatchError, NotFoundError, StoreError
from storage.sql import SqlStore, Tx


class DutyError(EcowatchError):
    """A duty operation was refused (unknown person, bad phone, no such shift)."""


def people(tx: Tx) -> dict[str, str]:
    """Every active console user with their role (the rota file says which roles fit which column)."""
    return {u.name: u.role for u in tx.list_users() if u.active}


def import_rota(store: SqlStore, path: Path, policy: RotaPolicy, actor: str, now: dt.datetime,
                dry_run: bool = False) -> tuple[ParsedRota, int]:
    """Check a 值班表 file and, when every line is good, store it in one transaction (the days it
    covers replaced whole). Returns the checked file and how many stored shifts were replaced;
    with errors nothing is stored. RotaFileError when the file cannot be read at all."""
    rows = read_rows(path)
    with store.read() as tx:
        parsed = parse_rota(rows, people(tx), policy)
    if parsed.errors or dry_run or not parsed.shifts:
        return parsed, 0
    try:
        with store.begin() as tx:
            replaced = tx.replace_shifts(parsed.shifts, actor, now, path.name)
    except StoreError as exc:  # overlaps a shift kept from a day the file does not cover
        parsed.errors.append(str(exc))
        return parsed, 0
    return parsed, replaced


@dataclass(slots=True)
class DutyBoard:
    """Who is on duty at a moment, who comes next, and where the rota ahead is empty."""

    at: dt.datetime
    current: Shift | None
    following: Shift | None
    gaps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)


def duty_board(tx: Tx, policy: RotaPolicy, now: dt.datetime) -> DutyBoard:
    """The board at ``now``: gaps are looked for ``policy.gap_warn_days`` ahead."""
    end = now + dt.timedelta(days=policy.gap_warn_days)
    shifts = tx.shifts_between(now - dt.timedelta(days=2), end + dt.timedelta(days=2))
    return DutyBoard(now, on_duty(shifts, now), next_shift(shifts, now), gaps(shifts, now, end))


def override(tx: Tx, shift_id: int, tier: Tier, name: str, phone: str | None, *, approved_by: str, reason: str,
             actor: str, now: dt.datetime, version: int | None = None) -> Shift:
    """代班/换班 on one shift, checked like an imported line; DutyError when refused, NotFoundError
    when there is no such shift, ActorRefused when ``actor`` may not keep the rota (any more:
    ``alerts.acting``, in this transaction)."""
    acting_user(tx, actor, "override", version=version)
    roles = people(tx)
    if roles.get(name) is None:
        raise DutyError(f"{name!r} is not an active console user")
    allowed = ROLES_FOR[tier.value]
    if roles[name] not in allowed:
        raise DutyError(f"{name!r} is a {roles[name]} user; {tier.label} must be {' or '.join(allowed)}")
    if not approved_by.strip():
        raise DutyError("an override needs who approved it (审批人)")
    normal = normalise_phone(phone) if phone else None
    if phone and normal is None:
        raise DutyError(f"{phone!r} is not a mobile or landline number")
    shift = tx.get_shift(shift_id)
    if shift is None:
        raise NotFoundError(f"no shift {shift_id}")
    kept = shift.person(tier)
    if normal is None and kept is not None and kept.name == name:
        normal = kept.phone
    if tier is Tier.PRIMARY and normal is None:
        raise DutyError("the officer on duty must be reachable: give a phone")
    changed = tx.override_shift(shift_id, tier, Person(name, normal), approved_by=approved_by.strip(),
                                reason=reason.strip(), actor=actor, now=now)
    assert changed is not None
    return changed
