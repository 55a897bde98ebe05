"""Login (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from core.passwords import verify_password
from core.timeutil import utcnow
from dashboard_api.deps import JurisdictionDep, PrincipalDep, StoreDep
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import ErrorPublic, TokenPublic, UserPublic
from dashboard_api.security import create_token

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenPublic, responses={
    400: {"model": ErrorPublic, "description": "wrong user name or password"},
    422: ERRORS[422], 429: {"model": ErrorPublic, "description": "too many failed logins; see Retry-After"}})
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep,
          jurisdiction: JurisdictionDep) -> TokenPublic:
    """Exchange a user name and password (form fields ``username``, ``password``) for a bearer token.

    Failed attempts are limited per user name and client address (``ECOWATCH_LOGIN_ATTEMPTS`` per
    ``ECOWATCH_LOGIN_WINDOW_SECONDS``) and per client address across names
    (``ECOWATCH_LOGIN_ADDRESS_ATTEMPTS``); past that the answer is 429 with ``Retry-After``."""
    limiter = request.app.state.login_limiter
    address = request.client.host if request.client else "?"
    name = form.username[:100]
    now = utcnow()
    wait = limiter.retry_after(name, address, now)
    if wait:
        raise HTTPException(status_code=429, detail=f"too many failed logins; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    with store.read() as tx:
        user = tx.get_user(name)
    ok = verify_password(user.password_hash if user else None, form.password)
    if not ok or user is None or not user.active:
        limiter.failed(name, address, now)
        raise HTTPException(status_code=400, detail="wrong user name or password")
    limiter.succeeded(name, address)
    token, expires = create_token(request.app.state.secret_key, user.name, user.role, user.unit_code, now,
                                  request.app.state.token_minutes, version=user.token_version,
                                  department_code=user.department_code)
    return TokenPublic(access_token=token, expires_at=expires, user=UserPublic.of(user, jurisdiction))


@router.get("/me", response_model=UserPublic, responses=ERRORS)
def me(user: PrincipalDep, jurisdiction: JurisdictionDep) -> UserPublic:
    """The logged-in user."""
    return UserPublic.of(user, jurisdiction)
