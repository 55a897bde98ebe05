"""Console passwords: which are acceptable, and argon2id hashes (argon2-cffi).

Here, not in the API package, because three writers hash them (the CLI's ``user add`` and
``user password``, the demo's users and the API's admin routes) and one reader checks them (the
API's login): the rules for which password may be set and how it is kept have one owner that
every layer may import.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

# Twelve characters: long enough that a passphrase is the easy way to comply (NIST SP 800-63B asks
# for 8 at least, 15 without a second factor; the console has none, so the higher end of 10-12).
MIN_PASSWORD_LENGTH = 12
# Digits and punctuation around a word ("password2026!") add little: the word itself is checked too.
_PADDING = re.compile(r"^[\d\W_]+|[\d\W_]+$")


@cache
def _common() -> frozenset[str]:
    """The bundled list of common passwords (``common_passwords.txt`` says where it comes from)."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="ascii")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, name: str) -> str | None:
    """Why ``password`` may not be set for the user ``name``, or None when it may.

    Refused: shorter than MIN_PASSWORD_LENGTH characters, blank, fewer than five different
    characters, containing the user name, or a common password (also once the digits and
    punctuation around it are taken off, so "password2026!" counts as "password")."""
    if not password.strip():
        return "the password is blank"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters (a passphrase is easiest)"
    if len(set(password)) < 5:
        return "the password repeats too few different characters"
    lowered = password.lower()
    if len(name) >= 3 and name.lower() in lowered:
        return "the password must not contain the user name"
    if lowered in _common() or _PADDING.sub("", lowered) in _common():
        return "the password is too common (it is on the list of the most used passwords)"
    return None


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, self-describing)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
