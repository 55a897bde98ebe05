"""The live feed's console lines as documents for other systems (the city platform, 网信办): the
one shape the authenticated JSON/Atom feeds (``/api/feeds/incidents.*``) and the outbound
webhook both send, versioned by ``schema_version`` and documented field by field in
docs/exports.md (a test holds the two equal).

Every field is always present (null when it does not apply to the kind), times are ISO 8601 in
Asia/Shanghai (+08:00), and officers' user names are left out: the systems outside need what
changed, not who clicked.
"""

from __future__ import annotations

from typing import Any

from core.event_kinds import EVENT_LABELS
from core.models import STATE_LABELS, Grade
from core.timeutil import parse_time, to_local
from storage.rows import Event

EVENT_SCHEMA = "ecowatch.event.v1"
# In the order documents list them; docs/exports.md documents exactly these.
EVENT_FIELDS = ("schema_version", "id", "at", "kind", "label", "incident_id", "unit_code", "unit", "title", "topic",
                "grade", "grade_label", "state", "state_label", "action", "from_state", "to_state", "from_grade",
                "step", "deadline")
_GRADES = {g.value for g in Grade}


def event_document(event: Event) -> dict[str, Any]:
    """One console line (kind ``incident_new``, ``grade_raised``, ``overdue`` or
    ``incident_changed``) as an ``ecowatch.event.v1`` document."""
    p = event.payload or {}
    state = p.get("state") or p.get("to_state")
    grade = p.get("grade")
    deadline = parse_time(p["deadline"]) if isinstance(p.get("deadline"), str) else None
    return {
        "schema_version": EVENT_SCHEMA, "id": event.id, "at": to_local(event.at).isoformat(), "kind": event.kind,
        "label": EVENT_LABELS.get(event.kind, event.kind), "incident_id": event.incident_id,
        "unit_code": event.unit_code, "unit": p.get("unit"), "title": p.get("title"), "topic": p.get("topic"),
        "grade": grade, "grade_label": Grade(grade).label if grade in _GRADES else None,
        "state": state, "state_label": STATE_LABELS.get(state) if state else None, "action": p.get("action"),
        "from_state": p.get("from_state"), "to_state": p.get("to_state"), "from_grade": p.get("from_grade"),
        "step": p.get("step"), "deadline": to_local(deadline).isoformat() if deadline else None,
    }
