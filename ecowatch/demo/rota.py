"""The demo's duty rota (值班表): three duty officers and the leader on call, day and night shifts
on working days and 24-hour shifts on weekends and holidays, from the start of the demo month to
two weeks after start-up. Written as the office's 值班表 file and imported the way
``ecowatch rota import`` imports one (alerts.duty.import_rota), so the duty board, hand-overs
and paging have a real rota to read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alerts.duty import import_rota
from alerts.rota import RotaPolicy, day_kinds
from alerts.rota_file import COLUMNS, write_rota
from core.timeutil import SHANGHAI
from storage.sql import SqlStore

# Demo duty officers besides ``duty`` (ecowatch.commands_users.seed_demo_users), with invented phones.
OFFICERS = [("duty", "13800000001"), ("duty2", "13800000002"), ("duty3", "13800000003")]
LEADER = ("leader", "13900000001")
HEADER = [COLUMNS[f][0] for f in ("date", "shift", "primary", "phone", "backup", "backup_phone", "leader",
                                  "leader_phone", "note")]
ROTA_FILE = "demo-rota.csv"


def add_officers(store: SqlStore, now: dt.datetime) -> None:
    """The demo's other duty officers (a rota of one is no rota), with ``duty``'s password (the
    demo password; its hash is reused, as argon2 is slow on purpose)."""
    with store.begin() as tx:
        known = {u.name: u for u in tx.list_users()}
        for name, _phone in OFFICERS:
            if name not in known:
                tx.add_user(name, "duty", None, known["duty"].password_hash, now)


def rota_table(first: dt.date, last: dt.date) -> list[list[str]]:
    """The 值班表 from ``first`` to ``last``: the officers in turn, the next one as backup."""
    rows, turn, day = [HEADER], 0, first
    while day <= last:
        for kind in day_kinds(day):
            (name, phone), (backup, backup_phone) = OFFICERS[turn % 3], OFFICERS[(turn + 1) % 3]
            rows.append([day.isoformat(), kind.label, name, phone, backup, backup_phone, *LEADER,
                         "" if kind.value != "full" else "周末/节假日"])
            turn += 1
        day += dt.timedelta(days=1)
    return rows


def import_demo_rota(store: SqlStore, policy: RotaPolicy, data_dir: Path, start: dt.datetime,
                     now: dt.datetime) -> int:
    """Write the rota file into the demo folder and import it (as of ``start``); the shifts stored."""
    add_officers(store, start)
    path = data_dir / ROTA_FILE
    first = start.astimezone(SHANGHAI).date()
    write_rota(path, rota_table(first, now.astimezone(SHANGHAI).date() + dt.timedelta(days=14)))
    parsed, _replaced = import_rota(store, path, policy, "admin", start)
    if parsed.errors:
        raise ValueError(f"the demo rota does not import: {parsed.errors[:3]}")
    return len(parsed.shifts)
