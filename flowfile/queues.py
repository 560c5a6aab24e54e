"""Waiting for agents: business hours, hold music and what waiting callers hear."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field

from flowfile.vocabulary import Strict, Text

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Period = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")
]


class Hours(Strict):
    """When agents answer, in the flow's time zone; a day left out is closed."""

    weekly: dict[Weekday, list[Period]]
    holidays: list[date] = []


class WaitingTexts(Strict):
    position: Text  # {position}
    estimate: Text  # {minutes}
    callback_offer: Text
    callback_recorded: Text  # {number}
    long_wait: Text
    closed: Text
    voicemail_or_callback: Text
    voicemail: Text
    voicemail_saved: Text
    no_message: Text
    rate_call: Text
    thanks: Text


class Waiting(Strict):
    hold_music: AnyHttpUrl = AnyHttpUrl(
        "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
    )
    # From this long in the queue on, each hold cycle offers a callback.
    callback_offer_after_seconds: Annotated[int, Field(ge=0)] = 60
    texts: WaitingTexts
