"""``ecowatch user ...``: console users, with the password read from standard input."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ecowatch import context
from ecowatch.cli import app

if TYPE_CHECKING:
    from core.jurisdiction import Jurisdiction
    from storage.sql import SqlStore
    from storage.users import UsersTx

user_app = typer.Typer(no_args_is_help=True, help="Console users: duty, unit, department, leader, admin.")
app.add_typer(user_app, name="user")


def _read_password() -> str:
    """The first line of standard input (a terminal gets a hidden prompt)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _acceptable_password(name: str) -> str:
    """The password read from standard input, if the policy (``core.passwords``) accepts it for
    ``name``; otherwise say why and exit with status 2, changing nothing."""
    from core.passwords import password_problem

    password = _read_password()
    problem = password_problem(password, name)
    if problem is not None:
        typer.echo(f"ecowatch: {problem}", err=True)
        raise typer.Exit(2)
    return password


def _change(name: str, change: Callable[[UsersTx], bool]) -> None:
    """Apply ``change`` to the user ``name`` in one transaction; exit 1 when there is no such user."""
    with context.store(context.settings()).begin() as tx:
        if not change(tx):
            typer.echo(f"ecowatch: no user {name!r}", err=True)
            raise typer.Exit(1)


@user_app.command("add")
def add(name: Annotated[str, typer.Argument(help="login name")],
        role: Annotated[str, typer.Option(help="duty | unit | department | leader | admin")],
        unit: Annotated[str | None, typer.Option(help="unit code (or name) of a unit user")] = None,
        department: Annotated[str | None, typer.Option(help="department code (or name) of a department user "
                                                            "(会办: it sees only the incidents copied to it)")] = None,
        ) -> None:
    """Add a user; the password is read from standard input (at least 12 characters, not a common
    password, not containing the user name)."""
    from core.errors import StoreError
    from core.jurisdiction import load_jurisdiction
    from core.passwords import hash_password
    from core.timeutil import utcnow
    from storage.users import ROLES

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    settings = context.settings()
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    unit_code = department_code = None
    if role == "unit":
        found = jurisdiction.unit(unit) or (jurisdiction.unit_by_name(unit) if unit else None)
        if found is None:
            raise typer.BadParameter(f"a unit user needs --unit, a unit code or name of {jurisdiction.name}",
                                     param_hint="--unit")
        unit_code = found.code
    elif unit:
        raise typer.BadParameter("only a unit user has --unit", param_hint="--unit")
    if role == "department":
        dep = jurisdiction.department(department)
        if dep is None:
            known = ", ".join(f"{d.code} ({d.name})" for d in jurisdiction.departments.values())
            raise typer.BadParameter(f"a department user needs --department, a department code or name of "
                                     f"{jurisdiction.name}: {known}", param_hint="--department")
        department_code = dep.code
    elif department:
        raise typer.BadParameter("only a department user has --department", param_hint="--department")
    password = _acceptable_password(name)
    try:
        with context.store(settings).begin() as tx:
            tx.add_user(name, role, unit_code, hash_password(password), utcnow(), department_code=department_code)
    except StoreError as exc:
        typer.echo(f"ecowatch: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"name": name, "role": role, "unit_code": unit_code, "department_code": department_code},
                          ensure_ascii=False))


@user_app.command("password")
def password(name: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Set a user's password, read from standard input (the policy of ``user add``); every token
    the user had stops working."""
    from core.passwords import hash_password

    hashed = hash_password(_acceptable_password(name))
    _change(name, lambda tx: tx.set_user_password(name, hashed))
    typer.echo(json.dumps({"name": name, "password": "changed"}))


@user_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable a user: it cannot log in and every token it had stops working at once."""
    _change(name, lambda tx: tx.set_user_active(name, False))
    typer.echo(json.dumps({"name": name, "active": False}))


@user_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Enable a user again; it logs in anew (tokens from before it was disabled stay dead)."""
    _change(name, lambda tx: tx.set_user_active(name, True))
    typer.echo(json.dumps({"name": name, "active": True}))


@user_app.command("list")
def list_() -> None:
    """Print the users as JSON lines (never their password hashes)."""

    with context.store(context.settings()).read() as tx:
        for u in tx.list_users():
            typer.echo(json.dumps({"name": u.name, "role": u.role, "unit_code": u.unit_code,
                                   "department_code": u.department_code, "active": u.active}, ensure_ascii=False))


DEMO_PASSWORD = "ecowatch-demo"


def seed_demo_users(store: SqlStore, jurisdiction: Jurisdiction) -> list[str]:
    """In demo mode only (its own data folder, on 127.0.0.1): when there are no users yet, create
    duty, leader, admin, one user per unit and one per department (会办; each named after its unit or
    department), all with DEMO_PASSWORD."""
    from core.passwords import hash_password
    from core.timeutil import utcnow

    with store.begin() as tx:
        if tx.list_users():
            return []
        hashed, now = hash_password(DEMO_PASSWORD), utcnow()
        names = []
        for name, role, unit in [("duty", "duty", None), ("leader", "leader", None), ("admin", "admin", None),
                                 *[(u.name, "unit", u.code) for u in jurisdiction.units.values()]]:
            tx.add_user(name, role, unit, hashed, now)
            names.append(name)
        for department in jurisdiction.departments.values():
            tx.add_user(department.name, "department", None, hashed, now, department_code=department.code)
            names.append(department.name)
    return names
