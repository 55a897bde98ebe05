"""FastAPI dependencies: the store and the jurisdiction, taken from app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.jurisdiction import Jurisdiction
from storage.sql import SqlStore


def get_store(request: Request) -> SqlStore:
    """The store the app was built with."""
    return request.app.state.store


def get_jurisdiction(request: Request) -> Jurisdiction:
    """The jurisdiction the app serves."""
    return request.app.state.jurisdiction


StoreDep = Annotated[SqlStore, Depends(get_store)]
JurisdictionDep = Annotated[Jurisdiction, Depends(get_jurisdiction)]


def get_expected_hours(request: Request) -> dict[str, float]:
    """Per source, hours without an item after which it counts as blind."""
    return getattr(request.app.state, "expected_hours", {})


ExpectedHoursDep = Annotated[dict[str, float], Depends(get_expected_hours)]
