"""Answers encoded once, straight from plain dicts: for the hot reads (the incident list and
detail), whose response models cost more to build and validate again than the query itself
(bench/api.py). The route keeps its ``response_model`` for the schema; the dicts come from the
same builders as the models (``dashboard_api.schemas``), and the encoder is pydantic-core's, so
the bytes are the ones the model would have given."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Response
from pydantic_core import to_json

from alerts.escalation import overdue_step_names
from core.models import Incident
from dashboard_api.schemas import incident_fields


def json_response(content: Any, headers: Mapping[str, str] | None = None) -> Response:
    """``content`` (dicts, lists, strings, numbers, aware datetimes) as a JSON answer."""
    return Response(to_json(content), media_type="application/json", headers=headers)


# A listed incident's JSON around its ``overdue`` field, by the incident (its id(), the object kept
# with it so the id is not reused while the entry lives). storage.incident_queries gives the same
# Incident for the same stored row, so an unchanged incident is encoded once and only its overdue
# steps, which move with the clock, are encoded per request. At most _PARTS_LIMIT, emptied when full.
_PARTS_LIMIT = 8192
_PARTS: dict[int, tuple[Incident, bytes, bytes]] = {}


def _parts(incident: Incident) -> tuple[bytes, bytes]:
    """``incident_fields(incident)`` encoded, split where its ``overdue`` value goes: what comes
    before it (with the key) and after it, as one encoding of the whole dict would give them."""
    found = _PARTS.get(id(incident))
    if found is not None and found[0] is incident:
        return found[1], found[2]
    fields = incident_fields(incident)
    fields["overdue"] = _MARK
    before, tail = to_json(fields).split(_MARK_JSON)  # exactly two: see _MARK
    head = before + b'"overdue":'
    if len(_PARTS) >= _PARTS_LIMIT:
        _PARTS.clear()
    _PARTS[id(incident)] = (incident, head, tail)
    return head, tail


# Where ``overdue`` goes in an encoded incident: its key with this value. Inside an encoded string
# every quote is escaped, so the key and value, quotes unescaped, occur once, where the field is.
_MARK = "\x00overdue\x00"
_MARK_JSON = b'"overdue":"\\u0000overdue\\u0000"'


def incidents_response(incidents: Sequence[Incident], now: dt.datetime,
                       headers: Mapping[str, str] | None = None) -> Response:
    """The incident list's answer: ``[incident_fields(i, now) for i in incidents]`` as JSON, the
    same bytes, each unchanged incident's fields encoded once (:func:`_parts`); overdue is asked
    of the one rule at ``now`` for every incident of every answer."""
    encoded = []
    for incident in incidents:
        head, tail = _parts(incident)
        encoded.append(head + to_json(overdue_step_names(incident, now)) + tail)
    return Response(b"[" + b",".join(encoded) + b"]", media_type="application/json", headers=headers)
