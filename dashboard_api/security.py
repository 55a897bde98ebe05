"""Signed expiring tokens (JWT, HS256) and the login rate limiter (passwords: core.passwords)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import jwt

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
    without a version, issued before versions existed, too)."""
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

    In memory, per process: enough for the single-process server ecowatch runs; a restart forgets
    the counts (the argon2 hash keeps each guess slow regardless). The client address is the
    connection's own unless ``ECOWATCH_TRUSTED_PROXIES`` names the reverse proxy in front
    (``ecowatch serve``): otherwise any client could pick its address with X-Forwarded-For.
    """

    def __init__(self, attempts: int = 5, window_seconds: float = 300.0, address_attempts: int = 20) -> None:
        self.attempts = attempts
        self.address_attempts = address_attempts
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._by_address: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _wait(self, q: deque[float] | None, limit: int, now: float) -> int:
        """Seconds until ``q``'s failures in the window drop below ``limit`` (0 = already)."""
        recent = [t for t in q or () if now - t <= self.window]
        return 0 if len(recent) < limit else max(1, int(self.window - (now - recent[-limit])) + 1)

    def retry_after(self, name: str, address: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(self._wait(self._failures.get((name, address)), self.attempts, now),
                       self._wait(self._by_address.get(address), self.address_attempts, now))

    def failed(self, name: str, address: str, now: float | None = None) -> None:
        """Count a failed attempt (the oldest ones beyond what the limits look at are dropped)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            _count(self._failures, (name, address), now, self.attempts, self.window)
            _count(self._by_address, address, now, self.address_attempts, self.window)

    def succeeded(self, name: str, address: str) -> None:
        """A successful login clears that user's count from that address (not the address's own:
        one known password must not reset a spray)."""
        with self._lock:
            self._failures.pop((name, address), None)


def _count(table: dict[Any, deque[float]], key: Any, now: float, keep: int, window: float) -> None:
    """Add a failure at ``now`` under ``key``, keeping the newest ``keep``; past 10,000 keys, drop
    those with nothing in the window (memory stays bounded under a spray of names or addresses)."""
    table.setdefault(key, deque(maxlen=keep)).append(now)
    if len(table) > 10000:
        for stale in [k for k, q in table.items() if now - q[-1] > window][:5000]:
            del table[stale]
