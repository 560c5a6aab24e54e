"""Twilio's webhook parameters as typed values; odd values never become a 400.

A signer may send what Twilio never would (issue 11): values are cut, clamped or
dropped here, at the edge, so nothing inside meets a NUL byte (PostgreSQL refuses
one), a SID of the wrong shape, a number too big for a column, or a URL to fetch
that is not Twilio's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from werkzeug.datastructures import MultiDict

_KEYPAD = re.compile(r"[^0-9*#]")


def _keypad_only(value: object) -> str:
    return _KEYPAD.sub("", str(value))[:64]


# Twilio's counts (seconds, positions) fit well inside this; more is no count of Twilio's.
MAX_COUNT = 10**9
# Every SID Twilio sends: two letters of its kind and 32 hexadecimal digits
# (twilio.com/docs/glossary/what-is-a-sid).
_SID = re.compile(r"[0-9a-fA-F]{32}")
# Where Twilio keeps recordings: its API, or a regional one (api.dublin.ie1.twilio.com;
# twilio.com/docs/global-infrastructure/api-domain-migration-guide).
_TWILIO_API_HOST = re.compile(r"api(?:\.[a-z0-9-]+){0,2}\.twilio\.com")


def _int_or_none(value: object) -> int | None:
    """A count from 0 to MAX_COUNT, or None; hundreds of digits are not read at all."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_COUNT)):
        return None
    number = int(text)
    return number if number <= MAX_COUNT else None


def _sid(prefix: str) -> BeforeValidator:
    """A SID of ``prefix``'s kind, or "" for anything else."""

    def shaped(value: object) -> str:
        text = str(value)
        return text if text[:2] == prefix and _SID.fullmatch(text[2:]) else ""

    return BeforeValidator(shaped)


def _word(longest: int) -> BeforeValidator:
    """One of Twilio's words (``in-progress``, ``participant-leave``) of at most
    ``longest`` letters, or "": what is kept of it must fit its column."""
    shape = re.compile(rf"[a-z][a-z-]{{0,{longest - 1}}}")

    def worded(value: object) -> str:
        text = str(value)
        return text if shape.fullmatch(text) else ""

    return BeforeValidator(worded)


def _twilio_recording_or_empty(value: object) -> str:
    """An https URL on Twilio's API hosts, as <Record> gives it; anything else (a
    ``javascript:`` or ``file:`` URL, another host) is no recording."""
    text = str(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.username is not None or port not in (None, 443):
        return ""
    return text if _TWILIO_API_HOST.fullmatch(host) and parts.netloc == host else ""


def _rfc2822_or_none(value: object) -> datetime | None:
    """Twilio writes a callback's ``Timestamp`` in RFC 2822 (``Tue, 24 Nov 2026 02:00:05
    +0000``); anything else is no time at all."""
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _fraction_or_none(value: object) -> float | None:
    """A number from 0 to 1, or None (Twilio does not promise ``Confidence``)."""
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if 0 <= number <= 1 else None


Keypad = Annotated[str, BeforeValidator(_keypad_only)]
LenientInt = Annotated[int | None, BeforeValidator(_int_or_none)]
CallSid = Annotated[str, _sid("CA")]
QueueSid = Annotated[str, _sid("QU")]
RecordingSid = Annotated[str, _sid("RE")]
ConferenceSid = Annotated[str, _sid("CF")]
# A call's status is kept in a column of 16 (models.calls); Twilio's longest is 11.
CallStatus = Annotated[str, _word(16)]
TwilioWord = Annotated[str, _word(32)]
TwilioRecording = Annotated[str, BeforeValidator(_twilio_recording_or_empty)]
LenientTime = Annotated[datetime | None, BeforeValidator(_rfc2822_or_none)]
Fraction = Annotated[float | None, BeforeValidator(_fraction_or_none)]


class VoiceParams(BaseModel):
    """The fields Hotline reads from a voice webhook; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_sid: CallSid = Field("", alias="CallSid")
    from_: str = Field("", alias="From")
    to: str = Field("", alias="To")
    call_status: CallStatus = Field("", alias="CallStatus")
    direction: TwilioWord = Field("", alias="Direction")
    digits: Keypad = Field("", alias="Digits")
    # The finish key that ended a Gather: "#" alone, with no Digits, is an answer too.
    finished_on_key: Keypad = Field("", alias="FinishedOnKey")
    speech_result: str = Field("", alias="SpeechResult")
    confidence: Fraction = Field(None, alias="Confidence")
    call_duration: LenientInt = Field(None, alias="CallDuration")
    queue_result: TwilioWord = Field("", alias="QueueResult")
    queue_time: LenientInt = Field(None, alias="QueueTime")
    queue_sid: QueueSid = Field("", alias="QueueSid")
    dial_call_status: TwilioWord = Field("", alias="DialCallStatus")
    recording_url: TwilioRecording = Field("", alias="RecordingUrl")
    recording_sid: RecordingSid = Field("", alias="RecordingSid")
    recording_duration: LenientInt = Field(None, alias="RecordingDuration")
    # Sent to the Fallback URL: why Twilio gave up on the primary, and where.
    error_code: str = Field("", alias="ErrorCode")
    error_url: str = Field("", alias="ErrorUrl")
    # A conference's status callback (twilio.com/docs/voice/twiml/conference).
    status_callback_event: TwilioWord = Field("", alias="StatusCallbackEvent")
    conference_sid: ConferenceSid = Field("", alias="ConferenceSid")
    friendly_name: str = Field("", alias="FriendlyName")
    timestamp: LenientTime = Field(None, alias="Timestamp")


_ADAPTER = TypeAdapter(VoiceParams)


def parse_voice(form: MultiDict[str, str]) -> VoiceParams:
    # Over-long values are dropped and NUL bytes cut rather than refused.
    values = {key: value.replace("\x00", "") for key, value in form.items() if len(value) <= 4096}
    return _ADAPTER.validate_python(values)
