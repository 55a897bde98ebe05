"""Who acts when no console user does: the names the workflow writes into audit logs, events and
sendings for the machine's own steps and for the city platform's items.

Defined once here, and reserved: a console user of the same name would be taken for the machine on
every write that looks its actor up (:func:`alerts.acting.acting_user`), so ``storage.users``
refuses to create one.
"""

from __future__ import annotations

SYSTEM = "system"  # detection, escalation, paging, hand-over reminders, report deadlines, inbound feedback
CITY_PLATFORM = "city_platform"  # items the city platform hands down through its key (POST /api/inbound/platform)
RESERVED_NAMES = frozenset({SYSTEM, CITY_PLATFORM})
