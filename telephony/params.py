"""Twilio's webhook parameters as typed values; odd values never become a 400."""

from __future__ import annotations

import re
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


Keypad = Annotated[str, BeforeValidator(_keypad_only)]
LenientInt = Annotated[int | None, BeforeValidator(_int_or_none)]


class VoiceParams(BaseModel):
    """The fields Hotline reads from a voice webhook; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_sid: str = Field("", alias="CallSid", max_length=64)
    from_: str = Field("", alias="From")
    to: str = Field("", alias="To")
    call_status: str = Field("", alias="CallStatus")
    direction: str = Field("", alias="Direction")
    digits: Keypad = Field("", alias="Digits")
    speech_result: str = Field("", alias="SpeechResult")
    call_duration: LenientInt = Field(None, alias="CallDuration")
    queue_result: str = Field("", alias="QueueResult")
    queue_time: LenientInt = Field(None, alias="QueueTime")
    queue_sid: str = Field("", alias="QueueSid", max_length=64)
    dial_call_status: str = Field("", alias="DialCallStatus")
    dial_call_duration: LenientInt = Field(None, alias="DialCallDuration")
    recording_url: str = Field("", alias="RecordingUrl")
    recording_sid: str = Field("", alias="RecordingSid")
    recording_duration: LenientInt = Field(None, alias="RecordingDuration")
    # Sent to the Fallback URL: why Twilio gave up on the primary, and where.
    error_code: str = Field("", alias="ErrorCode")
    error_url: str = Field("", alias="ErrorUrl")


_ADAPTER = TypeAdapter(VoiceParams)


def parse_voice(form: MultiDict[str, str]) -> VoiceParams:
    # Over-long or malformed values are cut or dropped rather than refused.
    values = {key: value for key, value in form.items() if len(value) <= 4096}
    if len(values.get("CallSid", "")) > 64:
        values.pop("CallSid")
    return _ADAPTER.validate_python(values)
