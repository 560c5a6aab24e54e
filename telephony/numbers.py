"""Phone numbers as callers and operators write them, turned into E.164 or nothing."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from logs import masked

E164 = phonenumbers.PhoneNumberFormat.E164


# Parsing costs a new call's webhook more than a query does; the numbers Hotline is
# called on come back with every call, so the last few are remembered.
@lru_cache(maxsize=256)
def to_e164(raw: str | None, region: str) -> str | None:
    """E.164 for a valid number, else None.

    ``region`` applies to numbers written without a country code. Caller IDs
    such as ``anonymous``, ``Restricted``, an empty string or Twilio's
    placeholders (``+266696687``) are not valid numbers, so they come back as
    None: treat the caller as withheld.
    """
    if not raw:
        return None
    for candidate, candidate_region in ((raw, region), (f"+{raw}", None)):
        try:
            number = phonenumbers.parse(candidate, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, E164)
    return None


def keyed_in_number(digits: str, region: str) -> str | None:
    """A number keyed on the phone pad: national (13800138000), with the
    international prefix (008613800138000) or with the country code alone
    (8613800138000), since a keypad has no ``+``."""
    return to_e164(digits, region) if digits.isdigit() else None


def mask(number: str | None, last: int = 2) -> str:
    """A phone number as logs show it (``last`` digits shown)."""
    return masked(number, last) if number else "withheld"
