"""Waiting for agents: business hours, hold music and what waiting callers hear."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, field_validator

from flowfile.vocabulary import Key, Language, Strict, Text

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Period = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")
]


class Hours(Strict):
    """When agents answer, in the flow's time zone; a day left out is closed."""

    weekly: dict[Weekday, list[Period]]
    holidays: list[date] = []


class WaitingTexts(Strict):
    # Callers ahead among those the caller's agents take first (English needs the plural).
    next_in_line: Text
    one_ahead: Text
    callers_ahead: Text  # {ahead}
    estimate_one: Text  # exactly one minute
    estimate: Text  # {minutes}
    past_estimate: Text  # the caller has waited longer than they were told: no new promise
    callback_offer: Text
    callback_recorded: Text  # {number}
    long_wait: Text
    agent_not_connected: Text  # back in the queue after an agent who never came
    closed: Text
    voicemail_or_callback: Text
    voicemail: Text
    voicemail_saved: Text
    no_message: Text
    rate_call: Text
    thanks: Text
    # The urgent queue is open around the clock (SPEC §6): what its callers hear when no
    # agent who could take them is on, with and without OVERFLOW_NUMBER.
    urgent_no_agents: Text
    overflow: Text
    overflow_unanswered: Text
    connecting: Text
    connecting_to: Text  # {agent}
    # A customer Hotline calls back hears who is calling and presses 1 to be put through
    # (an answering machine never does); if the agent has gone meanwhile, the apology.
    callback_announcement: Text
    callback_agent_gone: Text


class HoldMusic(Strict):
    """A hold track of one's own, and how long one play of it lasts: the wait document
    fills the time between announcements with whole plays of it."""

    url: AnyHttpUrl
    seconds: Annotated[int, Field(ge=5, le=600)]


Score = Annotated[int, Field(ge=1, le=5)]


class Waiting(Strict):
    # None: Hotline's own hold tone (queueing.hold_tone), also played whenever this
    # track cannot be fetched.
    hold_music: HoldMusic | None = None
    # A waiting caller hears their place and wait again this often; a key (the callback
    # offer) is listened for all the while, music included.
    announce_every_seconds: Annotated[int, Field(ge=15, le=600)] = 45
    # From this long in the queue on, each hold cycle offers a callback.
    callback_offer_after_seconds: Annotated[int, Field(ge=0)] = 60
    texts: WaitingTexts
    # The key a caller presses for each score, per language (stored 1-5, 5 best):
    # Mandarin callers expect the best first (非常满意请按1), English ones 5 for best.
    rating_keys: dict[Language, dict[Key, Score]]
    # How the hand-off names the agent who took the call: not at all, by name, or by id.
    announce_agent: Literal["none", "name", "id"] = "none"

    @field_validator("rating_keys")
    @classmethod
    def _each_score_once(
        cls, keys: dict[Language, dict[Key, int]]
    ) -> dict[Language, dict[Key, int]]:
        for language, scores in keys.items():
            if sorted(scores.values()) != [1, 2, 3, 4, 5]:
                raise ValueError(f"{language}: needs a key for each score 1 to 5, once")
        return keys
