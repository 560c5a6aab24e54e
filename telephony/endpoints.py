"""Where Hotline reaches a person: a phone number, a Twilio Client identity (the browser,
``client:<identity>``) or a SIP URI (a desk phone or PBX, ``sip:<user>@<host>``).

Each is what Twilio's Calls API takes as ``To`` ("The phone number, SIP address, or
client identifier to call", twilio.com/docs/voice/api/call-resource) and what a
``<Dial>`` reaches with its matching noun (``calls.twiml.dial_endpoint``). Operators
write them in the import file and in ``OVERFLOW_NUMBER``; they are parsed there, once,
and stored in the form this module writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

import phonenumbers

from telephony.numbers import to_e164

# The ``agents.endpoint`` column's width, and Twilio's own bound on a SIP URI ("a valid
# SIP URI under 255 characters", twilio.com/docs/voice/api/sip-making-calls).
MAX_LENGTH = 255
CLIENT_PREFIX = "client:"
SIP_PREFIX = "sip:"
# "The client identifier should not contain control, space, delimiters, or unwise
# characters. Mobile SDKs ... must only use alphanumeric characters and underscore"
# (twilio.com/docs/voice/twiml/client): the rule every SDK accepts.
_IDENTITY = re.compile(r"[A-Za-z0-9_]+")
# sip:user@host[:port][;param[=value]]...[?header=value[&header=value]...] (RFC 3261
# §19.1; twilio.com/docs/voice/twiml/sip: ``;transport=``, ``;region=``, ``;edge=``
# parameters, and headers after ``?``). The user part is RFC 3261's unreserved and
# user-unreserved characters but ``;`` and ``?`` (which would blur where it ends), or
# %-escapes.
_SIP = re.compile(
    r"(?P<user>(?:[A-Za-z0-9\-_.!~*'()&=+$,/]|%[0-9A-Fa-f]{2})+)"
    r"@(?P<host>[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*"
    r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<params>(?:;[A-Za-z0-9\-_.!~*'()%]+(?:=[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]+)?)*)"
    r"(?:\?(?P<headers>[^\s?]+))?"
)
_HEADER = re.compile(r"(?P<name>[A-Za-z0-9\-]+)=(?P<value>[^\s&=]*)")
# Custom headers take the x- prefix; these standard ones are allowed without it
# (twilio.com/docs/api/errors/13252).
STANDARD_HEADERS = frozenset(
    {"user-to-user", "remote-party-id", "p-preferred-identity", "p-called-party-id"}
)


@dataclass(frozen=True)
class Phone:
    """A phone number in E.164."""

    number: str

    def __str__(self) -> str:
        return self.number

    @property
    def key(self) -> str:
        return self.number


@dataclass(frozen=True)
class Client:
    """A Twilio Client identity: a browser or app signed in with a Voice SDK."""

    identity: str

    def __str__(self) -> str:
        return CLIENT_PREFIX + self.identity

    @property
    def key(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Sip:
    """A SIP URI, ``sip:`` included; ``address`` is its user@host, lower-case host,
    without port, parameters or headers: what names the same desk phone however the
    URI is decorated."""

    uri: str
    address: str

    def __str__(self) -> str:
        return self.uri

    @property
    def key(self) -> str:
        return SIP_PREFIX + self.address


# Each has a ``key``: the same for two ways of writing one place (a SIP URI with and
# without its parameters), different for two places.
Endpoint: TypeAlias = Phone | Client | Sip


def parse_endpoint(raw: str, region: str | None) -> Endpoint:
    """The endpoint ``raw`` names; ValueError, saying what is wrong, otherwise.

    ``region`` applies to phone numbers written without a country code; None requires
    the ``+``. Only the prefixes ``client:`` and ``sip:`` are case-insensitive."""
    text = raw.strip()
    if len(text) > MAX_LENGTH:
        raise ValueError(f"longer than {MAX_LENGTH} characters")
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() == "client":
        return _client(rest)
    if colon and scheme.lower() == "sip":
        return _sip(rest)
    if colon and scheme.lower() == "sips":
        raise ValueError("Twilio dials sip: URIs; for TLS write sip:…;transport=tls")
    return _phone(text, region)


def _phone(text: str, region: str | None) -> Phone:
    # Parsed as the import file's phone numbers are (telephony.numbers.to_e164); with no
    # region, only a number written with its + and country code.
    unplaced = region is None and not text.startswith("+")  # national, and no region
    number = None if unplaced else to_e164(text, region or phonenumbers.UNKNOWN_REGION)
    if number is None:
        shape = "a phone number" if region is not None else "a phone number in +E.164 form"
        raise ValueError(f"not {shape}, client:<identity> or sip:<user>@<host>")
    return Phone(number)


def _client(identity: str) -> Client:
    if not _IDENTITY.fullmatch(identity):
        raise ValueError(
            "a client: identity is letters, digits and underscores (Twilio's SDKs accept no"
            " other characters)"
        )
    return Client(identity)


def _sip(rest: str) -> Sip:
    found = _SIP.fullmatch(rest)
    if found is None:
        raise ValueError("not a SIP URI such as sip:desk@pbx.example.com")
    for header in found["headers"].split("&") if found["headers"] else []:
        named = _HEADER.fullmatch(header)
        if named is None:
            raise ValueError(f"SIP header {header!r} is not name=value")
        name = named["name"].lower()
        if not name.startswith("x-") and name not in STANDARD_HEADERS:
            raise ValueError(f"SIP header {named['name']!r}: Twilio passes x- headers only")
    address = f"{found['user']}@{found['host'].lower()}"
    return Sip(SIP_PREFIX + rest, address)
