"""FastAPI dependencies: the store, the jurisdiction, and the logged-in user with their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.base import SecurityBase

from alerts.config import AlertsConfig
from core.jurisdiction import Jurisdiction
from core.timeutil import utcnow
from dashboard_api.security import read_token
from storage.incident_queries import IncidentSnapshot, incident_snapshot
from storage.rows import User
from storage.sql import SqlStore, Tx


async def get_store(request: Request) -> SqlStore:
    """The store the app was built with. (This and the other lookups of app state are ``async``:
    a plain ``def`` dependency costs every request a hop to the thread pool and back.)"""
    return request.app.state.store


async def get_jurisdiction(request: Request) -> Jurisdiction:
    """The jurisdiction the app serves."""
    return request.app.state.jurisdiction


StoreDep = Annotated[SqlStore, Depends(get_store)]
JurisdictionDep = Annotated[Jurisdiction, Depends(get_jurisdiction)]


async def get_alerts_config(request: Request) -> AlertsConfig:
    """The workflow's configuration (policies, notification routes, contacts), built once per app."""
    return request.app.state.alerts_config


AlertsDep = Annotated[AlertsConfig, Depends(get_alerts_config)]


async def get_expected_hours(request: Request) -> dict[str, float]:
    """Per source, hours without an item after which it counts as blind."""
    return getattr(request.app.state, "expected_hours", {})


ExpectedHoursDep = Annotated[dict[str, float], Depends(get_expected_hours)]

# auto_error=False: a missing token gets our own JSON 401 (with WWW-Authenticate), not Starlette's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False,
                                     description="POST name and password to /api/auth/token")


@dataclass(frozen=True, slots=True)
class Principal:
    """The user behind a request."""

    name: str
    role: str  # duty | unit | department | leader | admin
    unit_code: str | None  # set for (and only for) unit users
    token_version: int  # the user's token version the token was issued under
    expires_at: dt.datetime  # when the token stops working
    department_code: str | None = None  # set for (and only for) department users

    @property
    def unit_scope(self) -> str | None:
        """The only unit this user may see, or None for users who see every unit (a department
        user sees no unit's data at all: only the incidents copied to it, ``department_scope``)."""
        return self.unit_code if self.role == "unit" else None

    @property
    def department_scope(self) -> str | None:
        """The department whose copied incidents are all this user may see (会办), or None."""
        return self.department_code if self.role == "department" else None

    @property
    def submitter_scope(self) -> str | None:
        """The only 信息简报 submitter this user is (its unit or department), or None for the desk."""
        return self.unit_scope or self.department_scope

    def lapsed(self, user: User | None, now: dt.datetime) -> str | None:
        """Why the token no longer stands for ``user`` as stored now, or None while it does.

        The one rule, asked at every request and at every poll of an open live-feed stream: the
        token has expired, or its user is gone, disabled, has another role or unit, or had its
        password reset or was disabled and enabled since (another token version)."""
        if now >= self.expires_at:
            return "expired"
        if user is None or not user.active or user.role != self.role or user.unit_code != self.unit_code \
                or user.department_code != self.department_code or user.token_version != self.token_version:
            return "revoked"
        return None


LAPSED = {"expired": "invalid or expired token: log in again",
          "revoked": "this account is disabled or has changed: log in again"}


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def claimed_principal(request: Request, token: str | None) -> Principal:
    """The user a bearer token claims to be, its signature and expiry checked, not yet compared
    with the stored user (:func:`confirm`); 401 when the token is missing, forged or expired."""
    if not token:
        raise _unauthorized("not logged in: send Authorization: Bearer <token> from /api/auth/token")
    claims = read_token(request.app.state.secret_key, token)
    if claims is None:
        raise _unauthorized(LAPSED["expired"])
    return Principal(claims.name, claims.role, claims.unit_code, claims.version, claims.expires_at,
                     claims.department_code)


def confirm(user: Principal, tx: Tx) -> None:
    """401 unless the token still stands for its user as ``tx`` reads it (``Principal.lapsed``)."""
    confirm_stored(user, tx.get_user(user.name))


def confirm_stored(user: Principal, stored: User | None) -> None:
    """401 unless the token still stands for ``stored``, its user as read in the request's view."""
    reason = user.lapsed(stored, utcnow())
    if reason is not None:
        raise _unauthorized(LAPSED[reason])


def get_principal(request: Request, store: StoreDep,
                  token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """The user the bearer token names; 401 when the token is missing, forged, expired, or its user
    was disabled, changed role or unit, or had its password reset since it was issued."""
    user = claimed_principal(request, token)
    with store.read() as tx:
        confirm(user, tx)
    return user


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@contextmanager
def confirmed_read(store: SqlStore, user: Principal) -> Iterator[Tx]:
    """A read view whose first read confirms ``user`` (401 when its token lapsed): how a route
    taking a claimed user (``ClaimedSharedReaderDep``) reads, so it answers nothing unconfirmed."""
    with store.read() as tx:
        confirm(user, tx)
        yield tx


def of_roles(user: Principal, roles: tuple[str, ...]) -> Principal:
    """``user`` when its role is one of ``roles``; 403 otherwise."""
    if user.role not in roles:
        raise HTTPException(status_code=403, detail=f"role {user.role!r} may not do this "
                                                    f"(allowed: {', '.join(roles)})")
    return user


@contextmanager
def confirmed_snapshot(store: SqlStore, user: Principal) -> Iterator[IncidentSnapshot]:
    """:func:`confirmed_read` for the incident list and page, over their lean read view
    (``storage.incident_queries.incident_snapshot``: their statements on the driver's cursor)."""
    with incident_snapshot(store.engine) as view:
        confirm_stored(user, view.user(user.name))
        yield view


class ClaimedRoles(SecurityBase):
    """A dependency for the hot reads that confirm the user in their own read view
    (:func:`confirmed_read`): the user its bearer token claims (:func:`claimed_principal`), let
    through when its role is one of ``roles``. Checked there, the user costs no read view and no hop
    to the thread pool of its own, and is read in the same snapshot as the data it is shown. One
    dependency for the token, its claims and the role, not three: FastAPI solving a dependency
    costs every request ~20 µs. To OpenAPI it is the bearer scheme (``oauth2_scheme``'s model and
    name), so the schema is unchanged."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.model = oauth2_scheme.model
        self.scheme_name = oauth2_scheme.scheme_name
        self.roles = roles

    async def __call__(self, request: Request) -> Principal:
        return of_roles(claimed_principal(request, await oauth2_scheme(request)), self.roles)


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    async def check(user: PrincipalDep) -> Principal:  # async: no thread hop for a comparison
        return of_roles(user, roles)

    return check


# Department users (会办) are no readers: they see only the incidents copied to them, through the
# endpoints that take SharedReaderDep and scope by ``department_scope``.
ReaderDep = Annotated[Principal, Depends(require_roles("duty", "unit", "leader", "admin"))]
SHARED_READERS = ("duty", "unit", "department", "leader", "admin")
SharedReaderDep = Annotated[Principal, Depends(require_roles(*SHARED_READERS))]
# The same readers as claimed by their token: only for routes that read through confirmed_read or
# confirmed_snapshot (the incident list, its export and the incident page). tests/test_api_authz.py sends a disabled
# user's token to every endpoint and wants 401: a route that forgot to confirm fails it.
ClaimedSharedReaderDep = Annotated[Principal, Depends(ClaimedRoles(SHARED_READERS))]
DutyDep = Annotated[Principal, Depends(require_roles("duty"))]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
OverviewDep = Annotated[Principal, Depends(require_roles("duty", "leader", "admin"))]


def scoped_unit(user: Principal, requested: str | None) -> str | None:
    """The unit filter to apply: a unit user is held to its own unit (403 if it asks for another)."""
    scope = user.unit_scope
    if scope is None:
        return requested
    if requested is not None and requested != scope:
        raise HTTPException(status_code=403, detail="a unit user sees only its own unit")
    return scope


# SQLite integers are 64-bit; bounding ids keeps an absurd id a 422, not a database overflow.
MAX_ID = 2**53
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="incident id", examples=[1])]


def aware_time(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """A query time as aware UTC; 422 when it has no time zone or lies outside what can be stored."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise HTTPException(status_code=422, detail=f"{name} needs a time zone, e.g. 2026-03-01T08:00:00+08:00")
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise HTTPException(status_code=422, detail=f"{name} is out of range") from exc
    if not 1970 <= utc.year <= 9998:
        raise HTTPException(status_code=422, detail=f"{name} is out of range (years 1970-9998)")
    return utc
