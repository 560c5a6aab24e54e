"""The people at the other end: what a simulated phone does when it rings, and the text
messages it has received."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telephony.simulator.leg import Leg


@dataclass(frozen=True)
class Answer:
    """Picks up after ringing ``after`` seconds (the switch's ring time when None)."""

    after: float | None = None


@dataclass(frozen=True)
class NoAnswer:
    """Rings until the caller's timeout: Twilio reports ``no-answer``."""


@dataclass(frozen=True)
class Busy:
    """Twilio hears a busy signal at once and reports ``busy``."""


@dataclass(frozen=True)
class Machine:
    """A voicemail or answering machine: picks up, records whatever it is played for
    ``listens`` seconds (the leg's ``heard``), never pressing a key, then hangs up."""

    after: float | None = None
    listens: float = 30.0


@dataclass(frozen=True)
class Person:
    """A person who decides: the phone rings until ``Leg.answer()`` or the timeout."""


Behaviour = Answer | NoAnswer | Busy | Machine | Person


@dataclass(frozen=True)
class Message:
    sid: str
    sender: str
    to: str
    body: str


@dataclass
class SimulatedPhone:
    number: str
    behaviour: Behaviour = field(default_factory=Answer)
    messages: list[Message] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    # The status callbacks of this phone's calls never reach Hotline (it was down, or
    # the network lost them): Twilio does not send them again.
    callbacks_lost: bool = False

    @property
    def call(self) -> Leg | None:
        """The latest call of this phone that is still ringing or under way."""
        return next((leg for leg in reversed(self.legs) if leg.live), None)

    def busy_for(self, leg: Leg) -> bool:
        """Whether another call of this phone is under way when ``leg`` rings it: with no
        call waiting, the network answers busy."""
        return any(
            other is not leg and other.live and other.status == "in-progress" for other in self.legs
        )

    def last_code(self, digits: int = 6) -> str | None:
        """The last run of ``digits`` digits texted to this phone (a one-time code)."""
        for message in reversed(self.messages):
            found = re.findall(rf"(?<!\d)\d{{{digits}}}(?!\d)", message.body)
            if found:
                return str(found[-1])
        return None
