"""PINs and SMS codes as keyed hashes, so a stolen database alone reveals none of them.

An HMAC keyed with ``HOTLINE_SECRET_KEY`` over (purpose, owner, value): the owner
acts as a salt, so equal PINs of two customers hash differently, and without
the key even the small space of 4–6 digit PINs cannot be searched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "hmac-sha256-v1"


def keyed_hash(key: bytes, purpose: str, owner: str, value: str) -> str:
    message = "\x1f".join((purpose, owner, value)).encode()
    return f"{SCHEME}${hmac.new(key, message, hashlib.sha256).hexdigest()}"


def matches(key: bytes, purpose: str, owner: str, value: str, stored: str | None) -> bool:
    # Hash even when nothing is stored, so a missing record takes as long as a wrong value.
    candidate = keyed_hash(key, purpose, owner, value)
    return stored is not None and hmac.compare_digest(candidate, stored)


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


CUSTOMER_PIN = "customer-pin"
AGENT_PIN = "agent-pin"
SMS_CODE = "sms-code"
CLAIMED_NUMBER = "claimed-number"  # a number claimed at verification, for its lockout guard
