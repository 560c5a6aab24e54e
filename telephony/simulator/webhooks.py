"""What Twilio sends to a webhook and what it accepts back.

Every request is signed as Twilio signs it (``X-Twilio-Signature``, the
account's auth token over the full URL and the sorted POST parameters). A
reply that is not a 2xx, not ``text/xml``/``application/xml`` or not a
well-formed ``<Response>`` is what Twilio's debugger calls errors 11200, 12300
and 12100: the caller then hears "an application error has occurred" and the
call ends (twilio.com/docs/api/errors/11200, /12100, /12300).
"""

from __future__ import annotations

import io
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
TWIML_TYPES = ("text/xml", "application/xml")
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
# Twilio waits 15 seconds for a webhook's answer, connecting included
# (twilio.com/docs/api/errors/11205).
WEBHOOK_TIMEOUT = 15.0


def sign(token: str, url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


@dataclass(frozen=True)
class Reply:
    """What came back from a webhook; ``status`` is None when nothing answered."""

    url: str
    status: int | None
    content_type: str = ""
    body: str = ""
    error: str = ""
    seconds: float = 0.0  # how long the answer took, on the wall clock


# The audio types <Play> accepts (twilio.com/docs/voice/twiml/play, "MIME types").
AUDIO_TYPES = (
    "audio/mpeg",
    "audio/wav",
    "audio/wave",
    "audio/x-wav",
    "audio/aiff",
    "audio/x-aifc",
    "audio/x-aiff",
    "audio/x-gsm",
    "audio/gsm",
    "audio/ulaw",
)
WAV_TYPES = ("audio/wav", "audio/wave", "audio/x-wav")


@dataclass(frozen=True)
class Media:
    """An audio file as fetched for a <Play>; ``status`` is None when nothing answered."""

    status: int | None
    content_type: str
    body: bytes

    def playable(self) -> bool:
        """What Twilio can play: a 2xx with an audio type (else errors 11200, 13420)."""
        return (
            self.status is not None
            and 200 <= self.status < 300
            and self.content_type in AUDIO_TYPES
        )

    def seconds(self) -> float | None:
        """The length of a WAV file; None for kinds whose length is not read here."""
        if self.content_type not in WAV_TYPES:
            return None
        with wave.Wave_read(io.BytesIO(self.body)) as audio:
            return audio.getnframes() / audio.getframerate()


class TwilioWouldFail(AssertionError):
    """Raised in strict mode where real Twilio would log an error against Hotline."""


def problem(reply: Reply, *, twiml: bool) -> str | None:
    """Why Twilio would refuse this reply, or None. Status callbacks need only a 2xx."""
    if reply.status is None:
        return f"11200 HTTP retrieval failure: {reply.url} did not answer ({reply.error})"
    if reply.seconds > WEBHOOK_TIMEOUT:
        return (
            f"11205 HTTP connection failure: {reply.url} answered after {reply.seconds:.1f} s;"
            f" Twilio waits {WEBHOOK_TIMEOUT:.0f} s"
        )
    if not 200 <= reply.status < 300:
        return f"11200 HTTP retrieval failure: {reply.url} answered HTTP {reply.status}"
    if not twiml:
        return None
    if reply.content_type not in TWIML_TYPES:
        return f"12300 Invalid Content-Type {reply.content_type!r} from {reply.url}"
    try:
        root = ET.fromstring(reply.body)
    except ET.ParseError as exc:
        return f"12100 Document parse failure at {reply.url}: {exc}"
    if root.tag != "Response":
        return f"12100 Document parse failure at {reply.url}: the root is <{root.tag}>"
    return None


def error_code(problem: str) -> str:
    """The Twilio error code a ``problem`` starts with (``ErrorCode`` to a Fallback URL)."""
    return problem.split(" ", 1)[0]
