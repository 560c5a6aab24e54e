"""Twilio queues: strictly first in, first out, one per name, created on demand
(twilio.com/docs/voice/twiml/enqueue; twilio.com/docs/voice/api/queue-resource)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telephony.simulator.dialing import Dialing
    from telephony.simulator.leg import Leg

MAX_SIZE = 1000  # Enqueue's default maximum (TWILIO.md)


@dataclass
class Member:
    leg: Leg
    joined_at: float

    def waited(self, now: float) -> int:
        return int(now - self.joined_at)


@dataclass
class TwilioQueue:
    name: str
    sid: str
    max_size: int = MAX_SIZE
    members: list[Member] = field(default_factory=list)
    dialers: list[Dialing] = field(default_factory=list)  # <Dial><Queue> waiting for a caller

    def join(self, leg: Leg, now: float) -> Member | None:
        """None when the queue is full (Enqueue's ``QueueResult=queue-full``)."""
        if len(self.members) >= self.max_size:
            return None
        member = Member(leg, now)
        self.members.append(member)
        return member

    def member(self, call_sid: str) -> Member | None:
        """By CallSid, or ``Front`` for the first (twilio.com/docs/voice/api/member-resource)."""
        if call_sid == "Front":
            return self.members[0] if self.members else None
        return next((m for m in self.members if m.leg.call_sid == call_sid), None)

    def position(self, member: Member) -> int:
        return self.members.index(member) + 1

    def average_wait(self, now: float) -> int:
        """What Twilio calls AvgQueueTime: the average wait of the callers now in the queue."""
        if not self.members:
            return 0
        return int(sum(now - m.joined_at for m in self.members) / len(self.members))

    def wait_params(
        self, member: Member, now: float, position: int | None, average: int | None
    ) -> dict[str, str]:
        """The wait URL's parameters; ``position`` and ``average`` override what the
        queue itself would report."""
        place = self.position(member) if position is None else position
        return {
            "QueueSid": self.sid,
            "QueuePosition": str(place),
            "QueueTime": str(member.waited(now)),
            "AvgQueueTime": str(self.average_wait(now) if average is None else average),
            "CurrentQueueSize": str(max(len(self.members), place)),
            "MaxQueueSize": str(self.max_size),
        }
