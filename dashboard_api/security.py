"""Signed expiring tokens (JWT, HS256) and the login rate limiter (passwords: core.passwords)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jwt

from storage.sql import SqlStore

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says about its bearer."""

    name: str
    role: str
    unit_code: str | None
    expires_at: dt.datetime
    version: int  # the user's token version when it was issued (storage.users)
    department_code: str | None = None  # a department user's department (会办)


def create_token(secret: str, name: str, role: str, unit_code: str | None, now: dt.datetime,
                 minutes: int, *, version: int = 0, department_code: str | None = None) -> tuple[str, dt.datetime]:
    """A signed token for a user, valid ``minutes`` from ``now``; returns (token, expiry).

    ``version`` is the user's token version: raising it (a password reset, a disable or enable)
    invalidates every token issued before."""
    expires = now + dt.timedelta(minutes=minutes)
    token = jwt.encode({"sub": name, "role": role, "unit": unit_code, "dept": department_code, "ver": version,
                        "iat": int(now.timestamp()), "exp": int(expires.timestamp())}, secret, algorithm=ALGORITHM)
    return token, expires


def read_token(secret: str, token: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token signed with ``secret``; None otherwise (a token
    without a version, issued before versions existed, too).

    Checking the signature was a tenth of an API request's time, and a client sends the same
    token with every request: the claims of the last tokens seen are kept (keyed by secret and
    token, so a token is never read under another key). Only the signature's verdict is kept:
    expiry is checked again here, and the user behind the token by the caller, every time."""
    claims = _checked_tokens.get((secret, token))
    if claims is not None:
        return claims if claims.expires_at > dt.datetime.now(dt.UTC) else None
    claims = _decode(secret, token)
    if claims is not None:
        if len(_checked_tokens) >= _CHECKED_TOKENS_KEPT:
            _checked_tokens.clear()  # a rare full reset keeps it bounded and simple
        _checked_tokens[(secret, token)] = claims
    return claims


_CHECKED_TOKENS_KEPT = 4096
_checked_tokens: dict[tuple[str, str], TokenClaims] = {}


def _decode(secret: str, token: str) -> TokenClaims | None:
    """The claims of ``token`` if its signature, expiry and claims are valid."""
    try:
        data = jwt.decode(token, secret, algorithms=[ALGORITHM],
                          options={"require": ["sub", "exp", "role", "ver"]})
    except jwt.PyJWTError:
        return None
    if not isinstance(data.get("sub"), str) or not isinstance(data.get("role"), str) \
            or type(data.get("ver")) is not int or not isinstance(data.get("dept"), str | None):
        return None
    return TokenClaims(data["sub"], data["role"], data.get("unit"), dt.datetime.fromtimestamp(data["exp"], dt.UTC),
                       data["ver"], data.get("dept"))


class LoginLimiter:
    """Failed logins in a sliding window: at most ``attempts`` per (user name, client address), and
    at most ``address_attempts`` per client address whatever the names (password spraying: one
    common password tried against many user names).

    Counted in the store (``storage.logins``), not in memory: every worker process of ``ecowatch
    serve --workers`` and every server on the same database sees the same failures, so N workers
    do not make N times the guesses, and a restart forgets nothing. The client address is the
    connection's own unless ``ECOWATCH_TRUSTED_PROXIES`` names the reverse proxy in front
    (``ecowatch serve``): otherwise any client could pick its address with X-Forwarded-For.
    """

    def __init__(self, store: SqlStore, attempts: int = 5, window_seconds: float = 300.0,
                 address_attempts: int = 20) -> None:
        self.store = store
        self.attempts = attempts
        self.address_attempts = address_attempts
        self.window = dt.timedelta(seconds=window_seconds)

    def _wait(self, times: list[dt.datetime], limit: int, now: dt.datetime) -> int:
        """Seconds until ``times`` (failures in the window, oldest first) drop below ``limit`` (0 = already)."""
        if len(times) < limit:
            return 0
        return max(1, int((self.window - (now - times[-limit])).total_seconds()) + 1)

    def retry_after(self, name: str, address: str, now: dt.datetime) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        with self.store.read() as tx:
            mine, everyone = tx.login_failures_since(name, address, now - self.window)
        return max(self._wait(mine, self.attempts, now), self._wait(everyone, self.address_attempts, now))

    def failed(self, name: str, address: str, now: dt.datetime) -> None:
        """Count a failed attempt (those out of the window are forgotten: the table stays small
        under a spray of names or addresses)."""
        with self.store.begin() as tx:
            tx.add_login_failure(name, address, now, now - self.window)

    def succeeded(self, name: str, address: str) -> None:
        """A successful login clears that user's count from that address (not the address's own:
        one known password must not reset a spray)."""
        with self.store.begin() as tx:
            tx.clear_login_failures(name, address)
