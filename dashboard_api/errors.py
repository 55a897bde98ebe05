"""Documented error responses shared by the routes (for the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from dashboard_api.schemas import ErrorPublic

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "not logged in, or the token is invalid or expired"},
    403: {"model": ErrorPublic, "description": "the role may not do this, or another unit's data was asked for"},
    404: {"model": ErrorPublic, "description": "not found (or not visible to this user)"},
    422: {"model": ErrorPublic, "description": "invalid input; detail lists each problem"},
}
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ErrorPublic, "description": "not allowed in the incident's current state"},
}
