"""The switch's virtual clock: a call takes the time of what it plays, not of the wall clock,
so queue times and durations advance deterministically and a test runs fast."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

EPOCH = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Durations:
    """How long things take on the simulated network."""

    chars_per_second: float = 15.0  # English speech, about 150 words a minute
    cjk_char_seconds: float = 0.25  # one Chinese syllable
    play_seconds: float = 30.0  # one play of an audio file of unknown length
    ring_seconds: float = 5.0  # how long a phone that answers rings first
    talk_seconds: float = 60.0  # a conversation the simulator has nobody to speak in

    def say(self, text: str) -> float:
        cjk = sum(1 for char in text if "\u3000" <= char <= "\u9fff")
        return math.ceil(cjk * self.cjk_char_seconds + (len(text) - cjk) / self.chars_per_second)


class Clock:
    """Seconds since the switch started; only ever moves forward."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.start = start
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def advance_to(self, moment: float) -> None:
        self.now = max(self.now, moment)

    def moment(self) -> datetime:
        """Now, as a time of day (a test may make it Hotline's clock too)."""
        return self.start + timedelta(seconds=self.now)

    def timestamp(self) -> str:
        """RFC 2822, as Twilio writes ``Timestamp`` in its callbacks."""
        return format_datetime(self.start + timedelta(seconds=self.now))
