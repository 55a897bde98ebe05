"""Answers encoded once, straight from plain dicts: for the hot reads (the incident list and
detail), whose response models cost more to build and validate again than the query itself
(bench/api.py). The route keeps its ``response_model`` for the schema; the dicts come from the
same builders as the models (``dashboard_api.schemas``), and the encoder is pydantic-core's, so
the bytes are the ones the model would have given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Response
from pydantic_core import to_json


def json_response(content: Any, headers: Mapping[str, str] | None = None) -> Response:
    """``content`` (dicts, lists, strings, numbers, aware datetimes) as a JSON answer."""
    return Response(to_json(content), media_type="application/json", headers=headers)
