"""TwiML as Twilio reads it: a document's verbs, which verbs each kind of document may
hold, and attribute values with Twilio's defaults."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from enum import Enum

Verb = ET.Element


class Context(Enum):
    """Where a document runs; each allows its own verbs."""

    CALL = "call"
    # <Enqueue waitUrl>: twilio.com/docs/voice/twiml/enqueue (waitUrl).
    WAIT = "wait"
    # <Dial><Queue url>, played to the queued caller: twilio.com/docs/voice/twiml/queue.
    ANNOUNCE = "announce"
    # <Dial><Number url> (and Client, Sip), played to the called party before connecting:
    # twilio.com/docs/voice/twiml/number ("not allowed to contain the <Dial> verb").
    WHISPER = "whisper"
    # <Conference waitUrl>: error 13238, twilio.com/docs/api/errors/13238.
    CONFERENCE_WAIT = "conference wait"


_CALL = {"Say", "Play", "Pause", "Gather", "Redirect", "Enqueue", "Dial", "Record", "Hangup"}
ALLOWED: dict[Context, set[str]] = {
    Context.CALL: _CALL,
    Context.WAIT: {"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"},
    Context.ANNOUNCE: {"Say", "Play", "Pause", "Redirect"},
    Context.WHISPER: _CALL - {"Dial", "Enqueue"},
    Context.CONFERENCE_WAIT: {"Say", "Play", "Pause", "Redirect"},
}
GATHER_CHILDREN = {"Say", "Play", "Pause"}


class TwimlError(Exception):
    """A document Twilio would not execute; the message says why."""


def verbs(body: str) -> list[Verb]:
    return list(ET.fromstring(body))


def check(verb: Verb, context: Context) -> None:
    if verb.tag not in ALLOWED[context]:
        raise TwimlError(f"<{verb.tag}> is not allowed in a {context.value} document")
    if verb.tag == "Gather":
        for child in verb:
            if child.tag not in GATHER_CHILDREN:
                raise TwimlError(f"<Gather> may not contain <{child.tag}>")
        # A wait document's Gather listens for keys or speech, not both (TWILIO.md).
        if context is Context.WAIT and set(inputs_of(verb.attrib)) == {"dtmf", "speech"}:
            raise TwimlError('a wait document\'s <Gather> takes input "dtmf" or "speech"')


def inputs_of(attributes: Mapping[str, str]) -> list[str]:
    """A Gather's ``input``: ``dtmf`` unless it says otherwise."""
    return (attributes.get("input") or "dtmf").split()


def flag(verb: Verb, name: str, default: bool) -> bool:
    value = verb.get(name)
    return default if value is None else value.strip().lower() == "true"


def number(verb: Verb, name: str, default: float) -> float:
    try:
        return float(verb.get(name, default))
    except ValueError as exc:
        raise TwimlError(f"<{verb.tag} {name}={verb.get(name)!r}> is not a number") from exc


def spoken(verb: Verb) -> str:
    """The words of a <Say>, SSML children (<say-as>, <break>…) included."""
    return "".join(verb.itertext()).strip()
