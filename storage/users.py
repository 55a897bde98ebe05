"""Console users: name, role, the unit a street/town user (or the department a department user) is
bound to, and a password hash.

The hash is computed by the caller (``core.passwords``); storage only keeps it, and the token
version that login tokens carry (``dashboard_api.security``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from core.actors import RESERVED_NAMES
from core.errors import StoreError
from storage.rows import User, inserted_id, row_to_user
from storage.schema import users

ROLES = ("duty", "unit", "department", "leader", "admin")
_USER_BY_NAME = select(users).where(users.c.name == bindparam("b_name"))


class UsersTx:
    """User operations of :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def add_user(self, name: str, role: str, unit_code: str | None, password_hash: str, now: dt.datetime, *,
                 department_code: str | None = None) -> User:
        """Store a new user; StoreError if the name is taken or reserved (core.actors: the machine's
        own actors) or the role/unit/department pairing is wrong (whether the codes are the pack's
        is the caller's check: it has the pack)."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if name in RESERVED_NAMES:
            raise StoreError(f"user name {name!r} is reserved for ecowatch's own steps")
        if (role == "unit") != bool(unit_code):
            raise StoreError("a unit user needs a unit code, and only a unit user has one")
        if (role == "department") != bool(department_code):
            raise StoreError("a department user needs a department code, and only a department user has one")
        try:
            with self.conn.begin_nested():
                new_id = inserted_id(self.conn.execute(users.insert().values(
                    name=name, role=role, unit_code=unit_code, department_code=department_code,
                    password_hash=password_hash, active=True, created_at=now)))
        except IntegrityError as exc:
            raise StoreError(f"user {name!r} already exists") from exc
        return User(name, role, unit_code, password_hash, True, now, new_id, department_code=department_code)

    def get_user(self, name: str) -> User | None:
        """The user with this name, or None (asked by every API request: one statement, compiled once)."""
        row = self.conn.execute(_USER_BY_NAME, {"b_name": name}).first()
        return row_to_user(row) if row else None

    def list_users(self) -> list[User]:
        """Every user, by name."""
        return [row_to_user(r) for r in self.conn.execute(select(users).order_by(users.c.name))]

    def set_user_password(self, name: str, password_hash: str) -> bool:
        """Replace a user's password hash; False if there is no such user.

        A reset is how a leaked password is answered, so every token issued before it stops
        working too (the token version goes up)."""
        return self.conn.execute(update(users).where(users.c.name == name).values(
            password_hash=password_hash, token_version=users.c.token_version + 1)).rowcount == 1

    def set_user_active(self, name: str, active: bool) -> bool:
        """Enable or disable a user (disabled users cannot log in; their tokens stop working).

        Either way the token version goes up: re-enabling a user must not revive the tokens it
        had when it was disabled (it logs in again)."""
        return self.conn.execute(update(users).where(users.c.name == name).values(
            active=active, token_version=users.c.token_version + 1)).rowcount == 1
