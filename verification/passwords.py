"""Agents' desk passwords, hashed with Argon2id (argon2-cffi): salted, slow and
memory-hard, so a stolen database gives up no password cheaply. The parameters are the
library's, which it keeps to current advice; a hash made with older ones still checks."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
HASHER = PasswordHasher()
# Checked against when there is no hash to check, so that an unknown agent or one
# without a desk password costs the same work as a wrong password.
_NOTHING = HASHER.hash("no desk password: nothing matches this")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a desk password has at least {MIN_LENGTH} characters")
    return HASHER.hash(password)


def password_matches(stored: str | None, entered: str) -> bool:
    try:
        return HASHER.verify(stored or _NOTHING, entered) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
