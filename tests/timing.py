"""Whether two kinds of answers take as long, for the timing tests and bench/attack.py's
timing class (SPEC §5, issue 11 item 2): a statistical bound, never a time.

Tries of the kinds compared are interleaved in a shuffled order each round, so a load
that comes and goes falls on every kind alike; Mann-Whitney's U over the number of
pairs then estimates the chance that a try of one kind is slower than a try of another,
which is 0.5 when the two take the same time, whatever the spread of either.
"""

from __future__ import annotations

import math

# How many standard deviations of that estimate, for kinds that take the same time, it
# may stray from 0.5 before the kinds count as told apart. One comparison strays this
# far about 7 times in a million (the normal tail beyond 4.5, both sides; U is close to
# normal at these sizes); a run of test_timing.py makes 26 comparisons (two databases,
# 6 + 6 + 1 pairs), so about one run in 5,000 flakes.
DEVIATIONS = 4.5


def superiority(slower: list[float], faster: list[float]) -> float:
    """The chance that a try drawn from ``slower`` took longer than one from ``faster``
    (ties count half): Mann-Whitney's U over the number of pairs."""
    wins = sum((a > b) + 0.5 * (a == b) for a in slower for b in faster)
    return wins / (len(slower) * len(faster))


def bound(tries: int) -> float:
    """How far from 0.5 ``superiority`` of two kinds of ``tries`` tries each may be:
    DEVIATIONS standard deviations of U / n² when the kinds take the same time, where
    U's variance is n²(2n + 1) / 12. At 100 tries 0.18, at 200 0.13, at 1,000 0.058."""
    return DEVIATIONS * math.sqrt((2 * tries + 1) / (12 * tries**2))
