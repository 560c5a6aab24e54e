"""Twilio's webhook parameters as typed values; odd values never become a 400."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from werkzeug.datastructures import MultiDict

_KEYPAD = re.compile(r"[^0-9*#]")


def _keypad_only(value: object) -> str:
    return _KEYPAD.sub("", str(value))[:64]


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


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
LenientTime = Annotated[datetime | None, BeforeValidator(_rfc2822_or_none)]
Fraction = Annotated[float | None, BeforeValidator(_fraction_or_none)]


class VoiceParams(BaseModel):
    """The fields Hotline reads from a voice webhook; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_sid: str = Field("", alias="CallSid", max_length=64)
    from_: str = Field("", alias="From")
    to: str = Field("", alias="To")
    call_status: str = Field("", alias="CallStatus")
    direction: str = Field("", alias="Direction")
    digits: Keypad = Field("", alias="Digits")
    # The finish key that ended a Gather: "#" alone, with no Digits, is an answer too.
    finished_on_key: Keypad = Field("", alias="FinishedOnKey")
    speech_result: str = Field("", alias="SpeechResult")
    confidence: Fraction = Field(None, alias="Confidence")
    call_duration: LenientInt = Field(None, alias="CallDuration")
    queue_result: str = Field("", alias="QueueResult")
    queue_time: LenientInt = Field(None, alias="QueueTime")
    queue_sid: str = Field("", alias="QueueSid", max_length=64)
    dial_call_status: str = Field("", alias="DialCallStatus")
    recording_url: str = Field("", alias="RecordingUrl")
    recording_sid: str = Field("", alias="RecordingSid")
    recording_duration: LenientInt = Field(None, alias="RecordingDuration")
    # Sent to the Fallback URL: why Twilio gave up on the primary, and where.
    error_code: str = Field("", alias="ErrorCode")
    error_url: str = Field("", alias="ErrorUrl")
    # A conference's status callback (twilio.com/docs/voice/twiml/conference).
    status_callback_event: str = Field("", alias="StatusCallbackEvent")
    conference_sid: str = Field("", alias="ConferenceSid")
    friendly_name: str = Field("", alias="FriendlyName")
    timestamp: LenientTime = Field(None, alias="Timestamp")


_ADAPTER = TypeAdapter(VoiceParams)


def parse_voice(form: MultiDict[str, str]) -> VoiceParams:
    # Over-long or malformed values are cut or dropped rather than refused.
    values = {key: value for key, value in form.items() if len(value) <= 4096}
    if len(values.get("CallSid", "")) > 64:
        values.pop("CallSid")
    return _ADAPTER.validate_python(values)
