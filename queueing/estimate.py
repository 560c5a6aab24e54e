"""The expected wait a queued caller is told, and how it is kept honest. Pure: numbers and
times in, numbers and times out.

The wait comes from the caller's real place among the callers their agents could take
and from how long those agents have recently spent on each caller (talk and wrap-up),
smoothed as Asterisk smooths its hold time: each new value counts a quarter. Without
any such history, the recent waits of the queue stand in. A wait promised is never
stretched by a later estimate, and once the caller has waited past it, nothing more is
promised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


def smoothed(values: Sequence[float]) -> float | None:
    """Oldest first, each value weighing a quarter against what came before:
    (3·old + new) / 4 (Asterisk app_queue's holdtime). None without any value."""
    if not values:
        return None
    average = float(values[0])
    for value in values[1:]:
        average = (3 * average + value) / 4
    return average


def expected_seconds(
    ahead: int, agents: int, handling: float | None, typical_wait: float | None, waited: int
) -> float | None:
    """How much longer the caller will wait: the ``ahead`` callers and then this one are
    served by ``agents`` agents, each taking ``handling`` seconds a caller; without a
    handling history, the queue's ``typical_wait`` less what the caller has ``waited``.
    None when nobody could take the caller or nothing is known (say nothing rather than
    guess)."""
    if agents <= 0:
        return None
    if handling:
        return (ahead + 1) * handling / agents
    if typical_wait:
        return max(0.0, typical_wait - waited)
    return None


@dataclass(frozen=True)
class Promise:
    """What to tell the caller this turn: ``minutes`` to say (None: no number), whether
    the caller has waited past what they were told, and the time now promised."""

    minutes: int | None
    overdue: bool
    expected_by: datetime | None


def promise(estimate: float | None, promised: datetime | None, now: datetime) -> Promise:
    """The wait to announce, given the new ``estimate`` (seconds) and the time
    ``promised`` on an earlier turn: never later than that promise, and nothing once it
    has passed."""
    if promised is not None and now >= promised:
        return Promise(None, True, promised)
    if estimate is None:
        return Promise(None, False, promised)
    by = now + timedelta(seconds=estimate)
    if promised is not None:
        by = min(by, promised)
    return Promise(minutes_to_say((by - now).total_seconds()), False, by)


def minutes_to_say(seconds: float) -> int:
    """Whole minutes, rounded up (a caller is not promised less than the estimate) and
    never below one ("about 0 minutes" is no answer)."""
    return max(1, math.ceil(seconds / 60))


def announced_ahead(ahead: int, last_announced: int | None) -> int:
    """Callers ahead to announce: never more than were announced before (a caller who
    joins ahead, an urgent one, must not push the number said up)."""
    return ahead if last_announced is None else min(ahead, last_announced)


def hold_loops(track_seconds: int, every_seconds: int) -> tuple[int, int]:
    """Plays of a hold track of ``track_seconds`` and the pause after them that fill
    ``every_seconds`` between announcements (at least one play)."""
    plays = max(1, every_seconds // track_seconds)
    return plays, max(0, every_seconds - plays * track_seconds)
