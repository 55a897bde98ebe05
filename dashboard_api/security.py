"""Signed expiring tokens (JWT, HS256) and the login rate limiter (passwords: core.passwords)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from dataclasses import dataclass

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


def create_token(secret: str, name: str, role: str, unit_code: str | None, now: dt.datetime,
                 minutes: int, *, version: int = 0) -> tuple[str, dt.datetime]:
    """A signed token for a user, valid ``minutes`` from ``now``; returns (token, expiry).

    ``version`` is the user's token version: raising it (a password reset, a disable or enable)
    invalidates every token issued before."""
    expires = now + dt.timedelta(minutes=minutes)
    token = jwt.encode({"sub": name, "role": role, "unit": unit_code, "ver": version, "iat": int(now.timestamp()),
                        "exp": int(expires.timestamp())}, secret, algorithm=ALGORITHM)
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
            or type(data.get("ver")) is not int:
        return None
    return TokenClaims(data["sub"], data["role"], data.get("unit"), dt.datetime.fromtimestamp(data["exp"], dt.UTC),
                       data["ver"])


class LoginLimiter:
    """At most ``attempts`` failed logins per (user name, client address) in a sliding window.

    In memory, per process: enough for the single-process server ecowatch runs; a restart forgets
    the counts (the argon2 hash keeps each guess slow regardless).
    """

    def __init__(self, attempts: int = 5, window_seconds: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, name: str, address: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._recent((name, address), now)
            if len(q) < self.attempts:
                return 0
            return max(1, int(self.window - (now - q[0])) + 1)

    def failed(self, name: str, address: str, now: float | None = None) -> None:
        """Count a failed attempt."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent((name, address), now).append(now)
            if len(self._failures) > 10000:  # bound memory under a spray of names
                for key in [k for k, v in self._failures.items() if not v][:5000]:
                    del self._failures[key]

    def succeeded(self, name: str, address: str) -> None:
        """A successful login clears the count."""
        with self._lock:
            self._failures.pop((name, address), None)
