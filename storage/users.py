"""Console users: name, role, the unit a street/town user is bound to, and a password hash.

The hash is computed by the caller (``dashboard_api.security``); storage only keeps it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Column, Integer, String, Table, Text, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import StoreError
from storage.schema import UtcDateTime, metadata

if TYPE_CHECKING:
    from storage.sql import Tx

ROLES = ("duty", "unit", "leader", "admin")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(20)),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
)


@dataclass(slots=True)
class User:
    """A stored user."""

    name: str
    role: str
    unit_code: str | None
    password_hash: str
    active: bool
    created_at: dt.datetime
    id: int | None = None


def _row(row) -> User:  # type: ignore[no-untyped-def]
    return User(name=row.name, role=row.role, unit_code=row.unit_code, password_hash=row.password_hash,
                active=row.active, created_at=row.created_at, id=row.id)


def add_user(tx: Tx, name: str, role: str, unit_code: str | None, password_hash: str, now: dt.datetime) -> User:
    """Store a new user; StoreError if the name is taken or the role/unit pairing is wrong."""
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if (role == "unit") != bool(unit_code):
        raise StoreError("a unit user needs a unit code, and only a unit user has one")
    try:
        with tx.conn.begin_nested():
            new_id = tx.conn.execute(users.insert().values(
                name=name, role=role, unit_code=unit_code, password_hash=password_hash, active=True,
                created_at=now)).inserted_primary_key[0]
    except IntegrityError as exc:
        raise StoreError(f"user {name!r} already exists") from exc
    return User(name, role, unit_code, password_hash, True, now, int(new_id))


def get_user(tx: Tx, name: str) -> User | None:
    """The user with this name, or None."""
    row = tx.conn.execute(select(users).where(users.c.name == name)).first()
    return _row(row) if row else None


def list_users(tx: Tx) -> list[User]:
    """Every user, by name."""
    return [_row(r) for r in tx.conn.execute(select(users).order_by(users.c.name))]


def set_password(tx: Tx, name: str, password_hash: str) -> bool:
    """Replace a user's password hash; False if there is no such user."""
    return tx.conn.execute(update(users).where(users.c.name == name)
                           .values(password_hash=password_hash)).rowcount == 1


def set_active(tx: Tx, name: str, active: bool) -> bool:
    """Enable or disable a user (disabled users cannot log in; their tokens stop working)."""
    return tx.conn.execute(update(users).where(users.c.name == name).values(active=active)).rowcount == 1
