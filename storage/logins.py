"""Failed logins, for the login limiter (``dashboard_api.security.LoginLimiter``): rows rather
than process memory, so every worker of ``ecowatch serve --workers`` and every server on one
database counts the same attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, select

from storage.schema import login_failures


class LoginsTx:
    """Failed-login records on :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def login_failures_since(self, name: str, address: str, since: dt.datetime) -> tuple[list[dt.datetime],
                                                                                          list[dt.datetime]]:
        """The times of the failures after ``since`` from ``address``: (those naming ``name``,
        all of them), each oldest first."""
        rows = self.conn.execute(select(login_failures.c.name, login_failures.c.at)
                                 .where(login_failures.c.address == address, login_failures.c.at > since)
                                 .order_by(login_failures.c.at)).all()
        return [r.at for r in rows if r.name == name], [r.at for r in rows]

    def add_login_failure(self, name: str, address: str, at: dt.datetime, forget_before: dt.datetime) -> None:
        """Record a failure, and forget every one older than ``forget_before`` (out of any window)."""
        self.conn.execute(delete(login_failures).where(login_failures.c.at < forget_before))
        self.conn.execute(login_failures.insert().values(name=name, address=address, at=at))

    def clear_login_failures(self, name: str, address: str) -> None:
        """Forget the failures naming ``name`` from ``address`` (a successful login)."""
        self.conn.execute(delete(login_failures).where(login_failures.c.name == name,
                                                       login_failures.c.address == address))
