"""The expected wait a queued caller is told."""

from __future__ import annotations

import math


def expected_minutes(typical_wait: float | None, waited: int) -> int | None:
    """Minutes still to wait: the queue's typical wait less what the caller has waited,
    never below one minute; None when nothing is known yet (say nothing rather than guess)."""
    if not typical_wait:
        return None
    return max(1, math.ceil((typical_wait - waited) / 60))


def typical_wait(recent_waits: list[int], twilio_average: int | None) -> float | None:
    """Our own history of answered callers comes first; Twilio's average of the callers
    waiting now fills in until we have one."""
    if recent_waits:
        return sum(recent_waits) / len(recent_waits)
    return float(twilio_average) if twilio_average else None
