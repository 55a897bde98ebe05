"""Administration: users (admin only) and the jurisdiction's units and departments (everyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from alerts.acting import acting_user, roles_for
from core.errors import StoreError
from core.jurisdiction import Jurisdiction
from core.passwords import hash_password, password_problem
from core.timeutil import utcnow
from dashboard_api.bodies import UserCreateBody, UserUpdateBody
from dashboard_api.deps import AdminDep, JurisdictionDep, Principal, SharedReaderDep, StoreDep, require_roles
from dashboard_api.errors import ERRORS, refusals
from dashboard_api.schemas import DepartmentPublic, ErrorPublic, JurisdictionPublic, UnitPublic, UserPublic
from storage.rows import User

router = APIRouter(tags=["admin"])
# The gate in front of the writes; each checks the admin again where it writes (alerts.acting).
UsersDep = Annotated[Principal, Depends(require_roles(*roles_for("users")))]


def _public(user: User, jurisdiction: Jurisdiction) -> UserPublic:
    return UserPublic.of(user, jurisdiction, user.active)


def _acceptable(password: str, name: str) -> None:
    problem = password_problem(password, name)
    if problem is not None:
        raise HTTPException(status_code=422, detail=problem)


@router.get("/api/users", response_model=list[UserPublic], responses=ERRORS)
def list_users(_admin: AdminDep, store: StoreDep, jurisdiction: JurisdictionDep) -> list[UserPublic]:
    """Every console user."""
    with store.read() as tx:
        return [_public(u, jurisdiction) for u in tx.list_users()]


@router.post("/api/users", response_model=UserPublic, status_code=201,
             responses={**ERRORS, 409: {"model": ErrorPublic, "description": "the name is taken"}})
def create_user(body: UserCreateBody, admin: UsersDep, store: StoreDep, jurisdiction: JurisdictionDep) -> UserPublic:
    """Add a user; a unit user must name a unit code of the jurisdiction, a department user a
    department code (会办: it sees only the incidents copied to it). The password must pass
    the policy (``core.passwords.password_problem``: 12 characters or more, not common, not the
    user name), else 422 saying why."""
    _acceptable(body.password, body.name)
    if body.role == "unit" and jurisdiction.unit(body.unit_code) is None:
        raise HTTPException(status_code=422, detail=f"unit_code {body.unit_code!r} is not a unit of "
                                                    f"{jurisdiction.name}")
    if body.role != "unit" and body.unit_code:
        raise HTTPException(status_code=422, detail="only a unit user has a unit_code")
    if body.role == "department" and body.department_code not in jurisdiction.departments:
        raise HTTPException(status_code=422, detail=f"department_code {body.department_code!r} is not a department "
                                                    f"of {jurisdiction.name} (one of "
                                                    f"{', '.join(jurisdiction.departments)})")
    if body.role != "department" and body.department_code:
        raise HTTPException(status_code=422, detail="only a department user has a department_code")
    hashed = hash_password(body.password)  # slow on purpose: before the write lock
    try:
        with refusals(), store.begin() as tx:
            acting_user(tx, admin.name, "users", version=admin.token_version)
            user = tx.add_user(body.name, body.role, body.unit_code, hashed, utcnow(),
                               department_code=body.department_code)
    except StoreError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return _public(user, jurisdiction)


@router.patch("/api/users/{name}", response_model=UserPublic, responses=ERRORS)
def update_user(name: str, body: UserUpdateBody, admin: UsersDep, store: StoreDep,
                jurisdiction: JurisdictionDep) -> UserPublic:
    """Disable/enable a user or set a password (the policy of ``POST /api/users``). Either ends
    every session the user had: its tokens stop working at once, re-enabling revives none."""
    if body.active is False and name == admin.name:
        raise HTTPException(status_code=422, detail="an admin cannot disable itself")
    if body.password is not None:
        _acceptable(body.password, name)
    hashed = hash_password(body.password) if body.password is not None else None  # slow: before the lock
    with refusals(), store.begin() as tx:
        acting_user(tx, admin.name, "users", version=admin.token_version)
        if tx.get_user(name) is None:
            raise HTTPException(status_code=404, detail=f"user {name!r} not found")
        if body.active is not None:
            tx.set_user_active(name, body.active)
        if hashed is not None:
            tx.set_user_password(name, hashed)
        user = tx.get_user(name)
    assert user is not None
    return _public(user, jurisdiction)


@router.get("/api/jurisdiction", response_model=JurisdictionPublic, responses=ERRORS)
def jurisdiction_info(_user: SharedReaderDep, jurisdiction: JurisdictionDep) -> JurisdictionPublic:
    """The district's units (for assigning) and departments."""
    return JurisdictionPublic(
        code=jurisdiction.code, name=jurisdiction.name,
        units=[UnitPublic(code=u.code, name=u.name) for u in jurisdiction.units.values()],
        departments=[DepartmentPublic(code=d.code, name=d.name) for d in jurisdiction.departments.values()])
