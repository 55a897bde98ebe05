"""Who acts when no console user does: the names the workflow writes into audit logs, events and
sendings for the machine's own steps, for the city platform's items and for the command line.

Defined once here, and reserved: a console user of the same name would be taken for the machine on
every write that looks its actor up (:func:`alerts.acting.acting_user`), so ``storage.users``
refuses to create one.
"""

from __future__ import annotations

SYSTEM = "system"  # detection, escalation, paging, hand-over reminders, report deadlines, inbound feedback
CITY_PLATFORM = "city_platform"  # items the city platform hands down through its key (POST /api/inbound/platform)
# The command line's default actors when --actor is not given: the duty desk (``ecowatch report``,
# ``ecowatch inbound``) and the rota's own commands (``rota import``, ``rota override``). Reserved
# too: a console user of that name (say a street's desk called 值班员) would otherwise be taken for
# whoever runs the command, with that user's role and unit.
CLI_DESK = "值班员"
CLI = "cli"
RESERVED_NAMES = frozenset({SYSTEM, CITY_PLATFORM, CLI_DESK, CLI})
