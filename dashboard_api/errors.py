"""Documented error responses shared by the routes (for the OpenAPI schema), and the one mapping
of a write's refusals to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException

from alerts.acting import ActorRefused
from core.errors import NotFoundError, WorkflowError
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


@contextmanager
def refusals(refused: int = 409) -> Iterator[None]:
    """A write's refusals as HTTP answers: the acting user may not (any more: 403, checked where it
    writes, ``alerts.acting``), no such record (404), or the state or a value refuses it
    (``refused``: 409 for a state, 422 where the refusal is about the input)."""
    try:
        yield
    except ActorRefused as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except WorkflowError as exc:
        raise HTTPException(status_code=refused, detail=str(exc)) from exc
